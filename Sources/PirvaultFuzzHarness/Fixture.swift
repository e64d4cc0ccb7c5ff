import Foundation

/// The committed fixture in `Fuzz/fixture/`, made by
/// `scripts/make-fuzz-fixture.sh` with the real CLI: a small vault, its key
/// file, tokens it issued, and an audit export. Found from this source file's
/// path, so the harness runs from a checkout.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/fixture").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            fatalError("cannot read the fuzz fixture \(path(name)); run scripts/make-fuzz-fixture.sh")
        }
        return Array(data)
    }

    /// The non-empty lines of a text file.
    static func lines(_ name: String) -> [String] {
        String(decoding: bytes(name), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// A folder of this process's own, removed at exit.
    static let scratchDirectory: String = {
        let path = NSTemporaryDirectory() + "pirvault-fuzz-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create \(path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: Fixture.scratchDirectory) }
        return path
    }()
}

import Foundation
import PirvaultFuzzHarness
import Testing

/// Replays every committed fuzz input through its target's invariants: the
/// corpus (Fuzz/corpus/<target>/) and the inputs that once crashed or broke
/// an invariant (Fuzz/regressions/<target>/). Serialized: the jwt target
/// holds one vault connection.
@Suite(.serialized)
struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ target: FuzzTarget) throws -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases)
    func corpusKeepsTheInvariants(_ target: FuzzTarget) throws {
        let files = try Self.inputs("corpus", target)
        #expect(!files.isEmpty, "no corpus for \(target.rawValue)")
        for file in files {
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try target.check(Array(try Data(contentsOf: file))) }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func formerFindingsStayFixed(_ target: FuzzTarget) throws {
        for file in try Self.inputs("regressions", target) {
            #expect(throws: Never.self, "\(file.lastPathComponent)") { try target.check(Array(try Data(contentsOf: file))) }
        }
    }
}

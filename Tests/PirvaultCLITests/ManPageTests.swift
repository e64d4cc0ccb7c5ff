import Foundation
import Testing

/// The man pages in docs/man/ come from the same definitions as
/// `--help` (scripts/make-man-pages.sh). This fails when a command, option or
/// help line changed without regenerating them.
@Suite(.boundedParallelism) struct ManPageTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/man").path
    static let regenerate = "run scripts/make-man-pages.sh and commit docs/man"

    /// A help line as generate-manual writes it on an mdoc text line: ASCII
    /// only, backslashes as `\e`, a leading dot or apostrophe guarded by `\&`.
    static func mdocText(_ text: String) -> String {
        var out = String(text.filter(\.isASCII)).replacingOccurrences(of: "\\", with: "\\e")
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }

    @Test func thereIsOnePagePerCommandAndNoOther() async throws {
        let root = try await DumpedCommand.load(CLI())
        let expected = Set(root.all.map { $0.path.joined(separator: ".") + ".1" })
        let found = Set(try FileManager.default.contentsOfDirectory(atPath: Self.folder))
        #expect(found == expected, "missing: \(expected.subtracting(found).sorted()), stale: \(found.subtracting(expected).sorted()); \(Self.regenerate)")
    }

    @Test func everyOptionAppearsInItsCommandsPageWithItsHelpLine() async throws {
        let root = try await DumpedCommand.load(CLI())
        for command in root.all {
            let name = command.path.joined(separator: ".") + ".1"
            guard let page = try? String(contentsOfFile: Self.folder + "/" + name, encoding: .utf8) else {
                Issue.record("no page \(name); \(Self.regenerate)")
                continue
            }
            let lines = Set(page.split(separator: "\n").map(String.init))
            for argument in command.arguments where !argument.isBuiltIn {
                let label = "\(command.path.joined(separator: " ")) \(argument.label)"
                if argument.kind != "positional", let long = argument.names.first(where: { $0.count > 1 }) {
                    #expect(page.contains("Fl -\(long)"), "\(label) is not in \(name); \(Self.regenerate)")
                }
                #expect(lines.contains(Self.mdocText(argument.abstract)),
                    "\(label): its help line is not in \(name); \(Self.regenerate)")
            }
        }
    }
}

import Foundation
import Testing

/// Every argument and option has a help line; fixed-choice options
/// list their values in --help and in shell completions; file options
/// complete file names.
@Suite(.boundedParallelism) struct HelpTests {
    static let plans = ["integration-flow", "api"]
    static let grantTypes = ["client_credentials", "password", "refresh_token", "authorization_code"]
    static let tokenFormats = ["jwt", "opaque"]

    /// Command path, option, and the values it must offer.
    static let fixedChoices: [([String], String, [String])] = [
        (["instance", "create"], "--plan", plans),
        (["instance", "create"], "--grant-type", grantTypes),
        (["instance", "create"], "--token-format", tokenFormats),
        (["instance", "update"], "--plan", plans),
        (["instance", "update"], "--add-grant-type", grantTypes),
        (["instance", "update"], "--remove-grant-type", grantTypes),
        (["instance", "update"], "--token-format", tokenFormats),
        (["instance", "import"], "--plan", plans),
        (["token", "issue"], "--format", tokenFormats),
        (["audit", "export"], "--format", ["jsonl", "csv"]),
    ]

    /// Options that name files (the vault options appear on every command that opens the vault).
    static let fileOptions: [([String], String)] = [
        (["instance", "list"], "--vault"), (["instance", "list"], "--key-file"),
        (["instance", "list"], "--passphrase-file"), (["instance", "create"], "--parameters"),
        (["instance", "update"], "--parameters"), (["instance", "import"], "<file>"),
        (["audit", "export"], "--output"), (["audit", "report"], "--output"), (["audit", "verify"], "--export"),
        (["audit", "verify"], "--public-key"), (["keys", "change-passphrase"], "--new-key-file"),
        (["keys", "change-passphrase"], "--new-passphrase-file"),
    ]

    @Test func everyArgumentOfEveryCommandHasAHelpLine() async throws {
        let root = try await DumpedCommand.load(CLI())
        var checked = 0
        for command in root.all {
            for argument in command.arguments where !argument.isBuiltIn {
                #expect(!argument.abstract.trimmingCharacters(in: .whitespaces).isEmpty,
                    "\(command.path.joined(separator: " ")) \(argument.label) has no help line")
                checked += 1
            }
        }
        #expect(root.all.count >= 30 && checked >= 100, "\(root.all.count) commands, \(checked) arguments")
    }

    @Test(arguments: fixedChoices.indices)
    func fixedChoicesListTheirValuesInHelpAndCompletions(_ index: Int) async throws {
        let (path, option, values) = Self.fixedChoices[index]
        let cli = CLI()
        let root = try await DumpedCommand.load(cli)
        let command = try #require(root.all.first { $0.path == ["pirvault"] + path })
        let argument = try #require(command.argument(option), "\(path) has no \(option)")
        #expect(argument.allValues == values)
        #expect(argument.completionValues == values)
        let help = await cli.run(path + ["--help"])
        #expect(help.code == 0)
        // --help wraps long lines: compare with runs of blanks as one space.
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("values: \(values.joined(separator: ", "))"), "\(path) \(option): \(help.stdout)")
    }

    @Test func fileOptionsCompleteFileNames() async throws {
        let root = try await DumpedCommand.load(CLI())
        for (path, label) in Self.fileOptions {
            let command = try #require(root.all.first { $0.path == ["pirvault"] + path })
            let argument = try #require(command.argument(label), "\(path) has no \(label)")
            #expect(argument.completesFiles, "\(path) \(label)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsOfferTheFixedChoices(_ shell: String) async throws {
        let result = await CLI().run("--generate-completion-script", shell)
        #expect(result.code == 0, "\(result.stderr)")
        for value in Self.plans + Self.grantTypes + ["jsonl", "csv", "opaque"] {
            #expect(result.stdout.contains(value), "\(shell) completion lacks \(value)")
        }
    }
}

import Foundation

/// The command tree as `pirvault --experimental-dump-help` describes it
/// (argument-parser's JSON, the same definitions --help, completions and the
/// man pages come from).
struct DumpedCommand {
    struct Argument {
        let kind: String
        let names: [String]
        let preferredName: String?
        let valueName: String?
        let abstract: String
        let shouldDisplay: Bool
        let allValues: [String]
        let completionValues: [String]?
        let completesFiles: Bool

        /// argument-parser's own `--help`, `--version` and hidden machinery.
        var isBuiltIn: Bool { !shouldDisplay || ["help", "version"].contains(preferredName ?? "") }

        /// How --help and the man pages name it: `--plan`, `-h`, or `<name>`.
        var label: String {
            guard kind != "positional", let preferredName else { return "<\(valueName ?? "")>" }
            return (preferredName.count == 1 ? "-" : "--") + preferredName
        }
    }

    /// `["pirvault", "instance", "create"]`.
    let path: [String]
    let arguments: [Argument]
    let subcommands: [DumpedCommand]

    /// Every command below and including this one, except argument-parser's `help`.
    var all: [DumpedCommand] { [self] + subcommands.filter { $0.path.last != "help" }.flatMap(\.all) }

    func argument(_ label: String) -> Argument? { arguments.first { $0.label == label } }

    static func load(_ cli: CLI) async throws -> DumpedCommand {
        let result = await cli.run("--experimental-dump-help")
        guard result.code == 0, let root = try parseJSON(result.stdout) as? [String: Any],
            let command = root["command"] as? [String: Any]
        else { throw CLI.CLIError("no dump-help JSON: \(result.stderr)") }
        return DumpedCommand(command, superCommands: [])
    }

    init(_ json: [String: Any], superCommands: [String]) {
        path = superCommands + [json["commandName"] as? String ?? ""]
        arguments = (json["arguments"] as? [[String: Any]] ?? []).map { argument in
            let completion = argument["completionKind"] as? [String: Any]
            return Argument(
                kind: argument["kind"] as? String ?? "",
                names: (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String },
                preferredName: (argument["preferredName"] as? [String: Any])?["name"] as? String,
                valueName: argument["valueName"] as? String,
                abstract: argument["abstract"] as? String ?? "",
                shouldDisplay: argument["shouldDisplay"] as? Bool ?? true,
                allValues: argument["allValues"] as? [String] ?? [],
                completionValues: (completion?["list"] as? [String: Any])?["values"] as? [String],
                completesFiles: completion?["file"] != nil)
        }
        let path = self.path
        subcommands = (json["subcommands"] as? [[String: Any]] ?? []).map { DumpedCommand($0, superCommands: path) }
    }
}

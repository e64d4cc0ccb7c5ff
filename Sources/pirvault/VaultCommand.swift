import ArgumentParser
import PirvaultCore

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault", abstract: "Describe the vault, or copy it to another file or PostgreSQL database.",
        subcommands: [VaultInfoCommand.self, VaultCopy.self])
}

struct VaultInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the backend, location (never a password), schema version, identity and audit log size.")

    @OptionGroup var vault: VaultOptions
    @Flag(help: "Print a JSON object with snake_case keys.") var json = false

    func run() throws {
        let info = try vault.openVault().info()
        if json {
            Output.json(info.jsonObject)
            return
        }
        var rows: [[String]] = [
            ["backend", info.backend], ["location", info.location], ["schema version", "\(info.schemaVersion)"],
            ["vault id", info.vaultID], ["unlock method", info.unlockMethod], ["instances", "\(info.instances)"],
            ["audit events", "\(info.auditEvents)"],
        ]
        if let checkpoint = info.checkpoint {
            rows += [
                ["checkpoint size", "\(checkpoint.treeSize)"], ["checkpoint root", checkpoint.rootHashBase64],
                ["checkpoint time", checkpoint.createdAt.rfc3339],
            ]
        } else {
            rows.append(["checkpoint", "none"])
        }
        Output.table(header: ["FIELD", "VALUE"], rows: rows)
    }
}

struct VaultCopy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract:
            "Copy the vault, ids, keys and whole audit log included, into an empty file or database, then verify the copy.",
        discussion: """
            The copy opens with the same key file or passphrase, and every service key and audit root stays \
            valid. A target that exists (a file, or a database with any table) is refused and left unchanged.
            """)

    @OptionGroup var vault: VaultOptions
    @Option(
        help: ArgumentHelp(
            "New vault file, or postgres://USER@HOST:PORT/DB (password from PGPASSWORD, PGPASSFILE or ~/.pgpass).",
            valueName: "path|url"))
    var to: String

    func run() throws {
        let report = try vault.openVault().copy(to: to)
        Output.line(
            "copied vault \(report.vaultID) to \(report.target): \(report.instances) instances, "
                + "\(report.auditEvents) audit events, root \(report.rootHashBase64); verified")
    }
}

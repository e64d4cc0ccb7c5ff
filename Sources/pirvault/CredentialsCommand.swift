import ArgumentParser
import PirvaultCore

struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Rotate or revoke an instance's client secrets.",
        subcommands: [CredentialsRotate.self, CredentialsRevoke.self])
}

struct CredentialsRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Give an instance a new secret and print its service key; the previous secret works until the grace period ends.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The instance's name.") var name: String
    @Option(help: "How long the previous secret keeps working (e.g. 24h, 15m; 0s = stop at once). Default 24h.")
    var grace: String = "24h"
    @OptionGroup var secret: SecretOptions

    func run() throws {
        let graceSeconds = try TimeInput.seconds(fromDuration: grace)
        Output.line(try vault.openVault().rotateCredentials(named: name, graceSeconds: graceSeconds, secret: secret.source()).json)
    }
}

struct CredentialsRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an instance: all its secrets and tokens stop working now.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The instance's name.") var name: String

    func run() throws {
        try vault.openVault().revokeCredentials(named: name)
        Output.line("revoked instance \(name): its secrets and tokens no longer work")
    }
}

import ArgumentParser
import Foundation
import PirvaultCore
import PirvaultPostgres
import PirvaultStore

/// The options every command that opens the vault shares.
struct VaultOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Vault file, or postgres://USER@HOST:PORT/DB (env PIRVAULT_PATH; default ./pirvault.db).", valueName: "path"),
        completion: .file())
    var vault: String?

    @Option(
        name: .long, help: ArgumentHelp("32-byte key file that unlocks the vault (env PIRVAULT_KEY_FILE).", valueName: "file"),
        completion: .file())
    var keyFile: String?

    @Option(
        name: .long, help: ArgumentHelp("File whose first line is the passphrase (else env PIRVAULT_PASSPHRASE, or a prompt).", valueName: "file"),
        completion: .file())
    var passphraseFile: String?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    var vaultPath: String { vault ?? environment["PIRVAULT_PATH"] ?? "./pirvault.db" }

    var keyFilePath: String? { keyFile ?? (passphraseFile == nil ? environment["PIRVAULT_KEY_FILE"] : nil) }

    func validate() throws {
        if keyFile != nil && passphraseFile != nil {
            throw ValidationError("give either --key-file or --passphrase-file, not both")
        }
    }

    /// The unlock secret from, in order: --key-file, --passphrase-file,
    /// PIRVAULT_KEY_FILE, PIRVAULT_PASSPHRASE, a terminal prompt.
    func unlockSecret(confirmNew: Bool = false) throws -> UnlockSecret {
        if let path = keyFilePath { return .keyFile(try KeyFile.read(at: path)) }
        if let path = passphraseFile {
            return .passphrase(try Input.firstLine(ofSecretFile: path, what: "passphrase file"))
        }
        if let passphrase = environment["PIRVAULT_PASSPHRASE"] { return .passphrase(passphrase) }
        let passphrase = try Input.promptPassphrase("Passphrase for \(vaultPath): ")
        if confirmNew, try Input.promptPassphrase("Repeat the passphrase: ") != passphrase {
            throw VaultError.invalidInput("the two passphrases differ; nothing was created")
        }
        return .passphrase(passphrase)
    }

    /// Opens the vault, with the checkpoint policy from PIRVAULT_CHECKPOINT_EVERY
    /// (events) and PIRVAULT_CHECKPOINT_INTERVAL (a duration) when set.
    @available(*, noasync)
    func openVault(limits: StoreLimits = .commandLine) throws -> Vault {
        try openVault(limits: limits, unlock: unlockSecret())
    }

    /// The same, with an unlock secret already read.
    @available(*, noasync)
    func openVault(limits: StoreLimits, unlock: UnlockSecret) throws -> Vault {
        let vault = try Vault.open(at: vaultPath, unlock: unlock, stores: .all, limits: limits)
        if let every = environment["PIRVAULT_CHECKPOINT_EVERY"] {
            guard let events = Int64(every), events > 0 else {
                throw VaultError.invalidInput("PIRVAULT_CHECKPOINT_EVERY must be a positive number of events")
            }
            vault.checkpointPolicy.everyEvents = events
        }
        if let interval = environment["PIRVAULT_CHECKPOINT_INTERVAL"] {
            vault.checkpointPolicy.everySeconds = try TimeInput.seconds(fromDuration: interval)
        }
        return vault
    }
}

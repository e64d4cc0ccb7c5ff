import ArgumentParser
import PirvaultCore

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Signing keys, the JWKS, and the keys that protect the vault.",
        subcommands: [KeysJWKS.self, KeysRotateSigning.self, KeysChangePassphrase.self, KeysRotateVaultKey.self])
}

struct KeysJWKS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks", abstract: "Print the public signing keys still needed to verify live tokens, as a JWKS.")

    @OptionGroup var vault: VaultOptions

    func run() throws { Output.json(try vault.openVault().jwks()) }
}

struct KeysRotateSigning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-signing",
        abstract: "Make a new Ed25519 signing key; the old public key stays in the JWKS until its tokens expire.")

    @OptionGroup var vault: VaultOptions

    func run() throws { Output.line("new signing key \(try vault.openVault().rotateSigningKey())") }
}

struct KeysChangePassphrase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-passphrase",
        abstract: "Re-wrap the vault key under a new passphrase or key file (nothing else is re-encrypted).")

    @OptionGroup var vault: VaultOptions
    @Option(help: ArgumentHelp("File whose first line is the new passphrase.", valueName: "file"), completion: .file())
    var newPassphraseFile: String?
    @Option(help: ArgumentHelp("Use this key file from now on.", valueName: "file"), completion: .file())
    var newKeyFile: String?
    @Flag(help: "Create --new-key-file with 32 random bytes (mode 0600).") var generateKey = false

    func validate() throws {
        if newPassphraseFile != nil && newKeyFile != nil {
            throw ValidationError("give either --new-passphrase-file or --new-key-file, not both")
        }
        if generateKey && newKeyFile == nil { throw ValidationError("--generate-key needs --new-key-file F") }
    }

    func run() throws {
        let opened = try vault.openVault()
        let unlock: UnlockSecret
        if let path = newKeyFile {
            unlock = .keyFile(generateKey ? try KeyFile.generate(at: path) : try KeyFile.read(at: path))
        } else if let path = newPassphraseFile {
            unlock = .passphrase(try Input.firstLine(ofSecretFile: path, what: "new passphrase file"))
        } else {
            let first = try Input.promptPassphrase("New passphrase: ")
            guard try Input.promptPassphrase("Repeat the new passphrase: ") == first else {
                throw VaultError.invalidInput("the two passphrases differ; nothing was changed")
            }
            unlock = .passphrase(first)
        }
        try opened.changeUnlock(to: unlock)
        Output.line("the vault key is now sealed under the new \(newKeyFile != nil ? "key file" : "passphrase")")
    }
}

struct KeysRotateVaultKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-vault-key",
        abstract: "Make a new vault key and re-wrap every data key and signing key under it, in one transaction.")

    @OptionGroup var vault: VaultOptions

    func run() throws {
        let count = try vault.openVault().rotateVaultKey()
        Output.line("new vault key; \(count) data keys re-wrapped")
    }
}

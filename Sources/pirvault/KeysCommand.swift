import ArgumentParser
import PirvaultCore
import PirvaultCrypto

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Signing keys, the JWKS, and the keys that protect the vault.",
        subcommands: [KeysJWKS.self, KeysRotateSigning.self, KeysChangePassphrase.self, KeysRotateVaultKey.self])
}

struct KeysJWKS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks",
        abstract: "Print the published signing keys as a JWKS, each with its state: active, next (staged) or retiring.",
        discussion: """
            The keys are those /token_keys serves, each entry as XSUAA writes it (with 'value', the PEM); this \
            command adds 'state', 'signs_from', 'signs_until' and 'published_until' to each, which JWK readers ignore.
            """)

    @OptionGroup var vault: VaultOptions

    func run() throws {
        let opened = try vault.openVault()
        Output.json(try opened.signingKeys().annotatedJWKS(at: opened.clock.now()))
    }
}

struct KeysRotateSigning: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-signing",
        abstract: "Stage a new signing key: published at once, signing after --publish-ahead, when the active key retires.",
        discussion: """
            SAP's token libraries cache the key set for up to 30 minutes, and SAP's Java library does not fetch it \
            again for an unknown key: a key published ahead is in every verifier's cache before its first token. \
            Every node switches at the same moment. The retiring key stays published until its last token expires. \
            --publish-ahead 0s switches at once (an emergency): cached verifiers refuse new tokens until they fetch \
            the keys again.
            """)

    @OptionGroup var vault: VaultOptions
    @Option(help: "Algorithm of the new key (default: the active key's): RS256, ES256 or EdDSA.")
    var alg: SigningAlgorithm?
    @OptionGroup var rsa: RSABitsOption
    @Option(help: ArgumentHelp("How long the new key is published before it signs (default 30m; 0s: at once).", valueName: "duration"))
    var publishAhead: String = "30m"

    func validate() throws {
        guard (try? TimeInput.seconds(fromDuration: publishAhead)) != nil else {
            throw ValidationError(
                "--publish-ahead must be a duration of 0s or more, such as 30m (0s switches at once)")
        }
    }

    func run() throws {
        let ahead = try TimeInput.seconds(fromDuration: publishAhead)
        let rotation = try vault.openVault().rotateSigningKey(to: alg, rsaBits: rsa.rsaBits, publishAheadSeconds: ahead)
        Output.line(rotation.summary)
        if ahead == 0 {
            Output.warn(
                "the new key signs now: verifiers that cached the key set (SAP's libraries, for up to 30 minutes) refuse its tokens until they fetch /token_keys again, and SAP's Java library does not fetch again for an unknown key")
        }
    }
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

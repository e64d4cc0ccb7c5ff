import ArgumentParser
import Foundation
import PirvaultCore
import PirvaultCrypto
import PirvaultStore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new vault (a file of mode 0600, or an empty PostgreSQL database), unlocked by a key file or a passphrase.")

    @OptionGroup var vault: VaultOptions

    @Flag(help: "Create the --key-file with 32 random bytes (mode 0600); refuses to overwrite one.")
    var generateKey = false

    @Option(help: "Algorithm of the tokens' signing key: RS256 (as XSUAA signs, the only one all SAP libraries accept), ES256 or EdDSA.")
    var signingAlg: SigningAlgorithm = .rs256

    @OptionGroup var rsa: RSABitsOption

    @Option(
        help: ArgumentHelp(
            "The tenant's subdomain (lower-case letters, digits, '-'): its xsappnames are it-rt-<subdomain>!b<n> and it!b<n> (default: from the vault id, changeable once).",
            valueName: "name"))
    var subdomain: String?

    func validate() throws {
        if generateKey && vault.keyFile == nil {
            throw ValidationError("--generate-key needs --key-file F to say where to write the key")
        }
        if let subdomain { try Tenant.validateArgument(subdomain: subdomain) }
    }

    func run() throws {
        let path = vault.vaultPath
        if case .file = try VaultLocation.parse(path), FileManager.default.fileExists(atPath: path) {
            throw VaultError.conflict("a file already exists at \(path); refusing to overwrite it — choose another --vault path")
        }
        let unlock: UnlockSecret
        var createdKeyFile: String? = nil
        if generateKey, let keyPath = vault.keyFile {
            unlock = .keyFile(try KeyFile.generate(at: keyPath))
            createdKeyFile = keyPath
        } else {
            unlock = try vault.unlockSecret(confirmNew: true)
        }
        do {
            let created = try Vault.create(
                at: path, unlock: unlock, stores: .all, signing: signingAlg, rsaBits: rsa.rsaBits, subdomain: subdomain)
            let how = vault.keyFilePath.map { "key file \($0)" } ?? "passphrase"
            let tenant = try created.tenant()
            Output.line(
                "created vault \(created.path) (id \(created.vaultID), unlocked by \(how); tenant \(tenant.subdomain), "
                    + "xsappnames \(tenant.runtimeXsappname) and \(tenant.managementXsappname); tokens signed \(signingAlg.rawValue))")
        } catch {
            // A key that unlocks nothing is only a liability.
            if let createdKeyFile { unlink(createdKeyFile) }
            throw error
        }
    }
}

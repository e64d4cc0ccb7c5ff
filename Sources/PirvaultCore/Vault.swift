import Foundation
import PirvaultCrypto
import PirvaultStore

/// An unlocked vault.
///
/// Key hierarchy (docs/key-management.md): the unlock secret (a key file, or
/// Argon2id of a passphrase) opens the vault key; the vault key opens the
/// secret-verifier key and one data key per instance; a data key opens that
/// instance's client secrets. Every sealed value's associated data names the
/// vault, table, row and column it belongs to.
public final class Vault {
    let store: any VaultStore
    /// How locations are opened: this vault's own, and the target of `copy`.
    let stores: VaultStores
    public let vaultID: String
    /// Replaced by `rotateVaultKey`, and followed when another process or
    /// node rotates it (`followVaultKeyRotations`).
    var vaultKey: SealingKey
    /// Which of the vault's keys `vaultKey` is (1 until the first rotation).
    var vaultKeyEpoch: Int64
    /// The key the vault key is sealed under; replaced by `changeUnlock`.
    var unlockKey: SealingKey
    var unlockMethod: VaultHeaderRecord.UnlockMethod
    let verifier: SecretVerifier
    public let clock: Clock
    /// When `write` adds a checkpoint to the audit log.
    public var checkpointPolicy = CheckpointPolicy()

    public var path: String { store.location }

    private init(
        store: any VaultStore, stores: VaultStores, vaultID: String, vaultKey: SealingKey, vaultKeyEpoch: Int64,
        unlockKey: SealingKey, unlockMethod: VaultHeaderRecord.UnlockMethod, verifier: SecretVerifier, clock: Clock
    ) {
        self.store = store
        self.stores = stores
        self.vaultID = vaultID
        self.vaultKey = vaultKey
        self.vaultKeyEpoch = vaultKeyEpoch
        self.unlockKey = unlockKey
        self.unlockMethod = unlockMethod
        self.verifier = verifier
        self.clock = clock
    }

    public static let minimumPassphraseLength = 10

    /// Creates a new vault at `location` (a path, or a URL that `stores`
    /// knows), unlocked by `unlock`: its schema, header, first keys, first
    /// audit row and checkpoint in one transaction.
    @available(*, noasync, message: "a vault blocks its thread; run it on a SerializedVault")
    public static func create(
        at location: String, unlock: UnlockSecret, stores: VaultStores, limits: StoreLimits = .commandLine,
        signing: SigningAlgorithm = .rs256, rsaBits: Int = TokenSigningKey.defaultRSABits, subdomain: String? = nil,
        clock: Clock = .system
    ) throws -> Vault {
        let vaultID = UUID().uuidString.lowercased()
        let now = clock.now()
        // What the new tenant is called: as chosen, or (changeable once) from the vault's id.
        let tenant = try Tenant.new(subdomain: subdomain ?? "vault-" + vaultID.prefix(8))
        let signingKey: TokenSigningKey
        do {
            signingKey = try TokenSigningKey.generate(signing, rsaBits: rsaBits)
        } catch let error as CryptoError {
            throw VaultError.invalidInput(error.description)
        }
        let newUnlock = try NewUnlock(unlock)
        let vaultKey = SealingKey.generate()
        let verifierKey = SecretBytes.random(count: SecretVerifier.keyLength)
        let verifier = try SecretVerifier(key: verifierKey)
        let header = VaultHeaderRecord(
            vaultID: vaultID, unlockMethod: newUnlock.method, kdfOpslimit: newUnlock.opslimit,
            kdfMemlimit: newUnlock.memlimit, kdfSalt: newUnlock.salt,
            sealedVaultKey: newUnlock.key.seal(vaultKey.keyBytes, associatedData: AD.vaultKey(vaultID, newUnlock.method)),
            sealedVerifierKey: vaultKey.seal(verifierKey, associatedData: AD.verifierKey(vaultID)),
            createdAt: now.rfc3339, subdomain: tenant.subdomain, appIndex: tenant.appIndex,
            subdomainChosen: subdomain != nil)
        var vault: Vault? = nil
        _ = try storeOperation {
            try stores.create(location, limits, header) { store, tx in
                let created = Vault(
                    store: store, stores: stores, vaultID: vaultID, vaultKey: vaultKey, vaultKeyEpoch: 1,
                    unlockKey: newUnlock.key, unlockMethod: newUnlock.method, verifier: verifier, clock: clock)
                try created.insertSigningKey(signingKey, at: now, in: tx)
                try created.insertAuditKey(.generate(), at: now, in: tx)
                try tx.audit(
                    AuditEvent(time: now, event: .vaultInit, outcome: .allowed, reason: "unlock: \(newUnlock.method.rawValue)"))
                try created.writeCheckpoint(in: tx)
                vault = created
            }
        }
        return vault!
    }

    /// Opens and unlocks the vault at `location`. A wrong key file or passphrase
    /// throws `VaultError.unlockFailed` and leaves a `vault.unlock` audit row.
    @available(*, noasync, message: "a vault blocks its thread; run it on a SerializedVault")
    public static func open(
        at location: String, unlock: UnlockSecret, stores: VaultStores, limits: StoreLimits = .commandLine,
        clock: Clock = .system
    ) throws -> Vault {
        let store = try storeOperation { try stores.open(location, limits) }
        let header = try storeOperation { try store.read { try $0.header() } }
        let unlockKey: SealingKey
        switch (unlock, header.unlockMethod) {
        case (.keyFile(let bytes), .keyFile):
            unlockKey = try SealingKey(bytes)
        case (.passphrase(let passphrase), .passphrase):
            guard let salt = header.kdfSalt, let ops = header.kdfOpslimit, let mem = header.kdfMemlimit,
                ops > 0, mem > 0
            else { throw VaultError.tampered("the vault header's Argon2id parameters are missing or invalid; restore the vault from a backup") }
            let parameters = Argon2idParameters(opslimit: UInt64(ops), memlimit: UInt64(mem))
            do {
                unlockKey = try SealingKey(PassphraseKDF.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters))
            } catch {
                throw VaultError.tampered("the vault header's Argon2id parameters are unusable; restore the vault from a backup")
            }
        case (.passphrase, .keyFile):
            throw VaultError.invalidInput("this vault is unlocked with a key file; pass --key-file F or set PIRVAULT_KEY_FILE")
        case (.keyFile, .passphrase):
            throw VaultError.invalidInput(
                "this vault is unlocked with a passphrase; pass --passphrase-file F or set PIRVAULT_PASSPHRASE")
        }
        return try unlocked(store, stores: stores, header: header, unlockKey: unlockKey, clock: clock)
    }

    /// Opens the vault key in `header` with `unlockKey` (a key file's key, or
    /// the Argon2id result of the passphrase under the header's parameters).
    /// `open` and the check of a `copy` both unlock through here.
    @available(*, noasync)
    static func unlocked(
        _ store: any VaultStore, stores: VaultStores, header: VaultHeaderRecord, unlockKey: SealingKey, clock: Clock
    ) throws -> Vault {
        let vaultKey: SealingKey
        do {
            vaultKey = try SealingKey(
                unlockKey.open(header.sealedVaultKey, associatedData: AD.vaultKey(header.vaultID, header.unlockMethod)))
        } catch {
            _ = try storeOperation {
                try store.write { tx in
                    try tx.audit(
                        AuditEvent(
                            time: clock.now(), event: .vaultUnlock, outcome: .denied,
                            reason: "wrong key file or passphrase"))
                }
            }
            throw VaultError.unlockFailed(path: store.location)
        }
        let verifierKey: SecretBytes
        do {
            verifierKey = try vaultKey.open(header.sealedVerifierKey, associatedData: AD.verifierKey(header.vaultID))
        } catch {
            throw VaultError.tampered("the vault's verifier key did not decrypt: the vault header was altered; restore it from a backup")
        }
        return Vault(
            store: store, stores: stores, vaultID: header.vaultID, vaultKey: vaultKey, vaultKeyEpoch: header.vaultKeyEpoch,
            unlockKey: unlockKey, unlockMethod: header.unlockMethod, verifier: try SecretVerifier(key: verifierKey),
            clock: clock)
    }

    /// A second, independent connection to the same vault with the same keys
    /// (a server reads on one and writes on the other), without unlocking again.
    @available(*, noasync, message: "a vault blocks its thread; run it on a SerializedVault")
    public func openAnotherConnection() throws -> sending Vault {
        do {
            return Vault(
                store: try store.openAnother(), stores: stores, vaultID: vaultID, vaultKey: vaultKey,
                vaultKeyEpoch: vaultKeyEpoch, unlockKey: unlockKey, unlockMethod: unlockMethod, verifier: verifier,
                clock: clock)
        } catch let error as StoreError {
            throw VaultError.store(error)
        }
    }

    /// Stops this vault's store work from another thread (a deadline).
    public var interrupter: Interrupter { store.interrupter }

    /// Runs `body` in one write transaction, with store errors translated,
    /// and writes a checkpoint when the policy says one is due. It first
    /// takes any vault key that another process rotated to since, so what
    /// it seals and opens uses the vault's current key.
    @available(*, noasync)
    func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        try storeOperation {
            try store.write { tx in
                try followVaultKeyRotations(to: try tx.start.vaultKeyEpoch, in: tx)
                let result = try body(tx)
                try checkpointIfDue(in: tx)
                return result
            }
        }
    }

    /// Runs `body` against one snapshot, with store errors translated.
    @available(*, noasync)
    func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try storeOperation { try store.read(body) }
    }
}

extension StoreWriter {
    /// Appends `event` at the next leaf index, in this transaction.
    func audit(_ event: AuditEvent) throws {
        try appendAudit([event.record(seq: try auditLogSize(), encoded: event.encoded)])
    }
}

/// Associated data for every sealed column: `pirvault/v1|<vault>|<table>|<row>|<column>`.
/// A ciphertext moved to another vault, row or column no longer opens.
enum AD {
    static func vaultKey(_ vault: String, _ method: VaultHeaderRecord.UnlockMethod) -> String {
        "pirvault/v1|\(vault)|vault_header|1|sealed_vault_key|\(method.rawValue)"
    }

    static func verifierKey(_ vault: String) -> String {
        "pirvault/v1|\(vault)|vault_header|1|sealed_verifier_key"
    }

    static func dataKey(_ vault: String, instanceID: Int64) -> String {
        "pirvault/v1|\(vault)|instances|\(instanceID)|sealed_data_key"
    }

    static func secret(_ vault: String, credentialID: Int64, instanceID: Int64) -> String {
        "pirvault/v1|\(vault)|credentials|\(credentialID)|sealed_secret|instance=\(instanceID)"
    }

    static func vaultKeyLink(_ vault: String, epoch: Int64) -> String {
        "pirvault/v1|\(vault)|vault_key_links|\(epoch)|sealed_key"
    }

    static func signingKey(_ vault: String, keyID: Int64) -> String {
        "pirvault/v1|\(vault)|signing_keys|\(keyID)|sealed_private_key"
    }

    static func auditKey(_ vault: String) -> String {
        "pirvault/v1|\(vault)|audit_signing_key|1|sealed_private_key"
    }
}

/// A new unlock secret turned into the key that seals the vault key, with
/// the header fields that describe it.
struct NewUnlock {
    let method: VaultHeaderRecord.UnlockMethod
    let key: SealingKey
    let salt: [UInt8]?
    let opslimit: Int64?
    let memlimit: Int64?

    init(_ unlock: UnlockSecret) throws {
        switch unlock {
        case .keyFile(let bytes):
            method = .keyFile
            key = try SealingKey(bytes)
            salt = nil
            opslimit = nil
            memlimit = nil
        case .passphrase(let passphrase):
            guard passphrase.count >= Vault.minimumPassphraseLength else {
                throw VaultError.invalidInput(
                    "the passphrase must be at least \(Vault.minimumPassphraseLength) characters; choose a longer one or use a key file")
            }
            let newSalt = PassphraseKDF.newSalt()
            let parameters = Argon2idParameters.forNewVault
            method = .passphrase
            key = try SealingKey(PassphraseKDF.deriveKey(passphrase: passphrase, salt: newSalt, parameters: parameters))
            salt = newSalt
            opslimit = Int64(parameters.opslimit)
            memlimit = Int64(parameters.memlimit)
        }
    }
}

import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

extension Vault {
    // MARK: Signing keys

    func insertSigningKey(_ key: TokenSigningKey, at now: Timestamp, in tx: any StoreWriter) throws {
        try tx.insertSigningKey(kid: key.publicKey.thumbprint, publicKey: key.publicKey.storedRepresentation, createdAt: now) { id in
            vaultKey.seal(key.privateKey, associatedData: AD.signingKey(vaultID, keyID: id))
        }
    }

    /// The key that signs new tokens. A vault made before signing keys
    /// existed gets its first one here.
    @available(*, noasync)
    public func signingIdentity() throws -> SigningIdentity {
        let record = try read { try $0.activeSigningKey() }
        if let record { return SigningIdentity(key: try openSigningKey(record)) }
        return try write { tx in
            if let raced = try tx.activeSigningKey() { return SigningIdentity(key: try openSigningKey(raced)) }
            let key = try TokenSigningKey.generate(.edDSA)
            try insertSigningKey(key, at: clock.now(), in: tx)
            try tx.audit(AuditEvent(time: clock.now(), event: .keysSigningCreated, outcome: .allowed, reason: "kid \(key.publicKey.thumbprint)"))
            return SigningIdentity(key: key)
        }
    }

    func openSigningKey(_ record: SigningKeyRecord) throws -> TokenSigningKey {
        do {
            let key = try TokenSigningKey(
                algorithm: .edDSA,
                privateKey: vaultKey.open(record.sealedPrivateKey, associatedData: AD.signingKey(vaultID, keyID: record.id)))
            guard key.publicKey.storedRepresentation == record.publicKey else { throw CryptoError.authenticationFailed }
            return key
        } catch {
            throw VaultError.tampered("signing key \(record.kid) did not decrypt: the vault file was altered or damaged; restore it from a backup")
        }
    }

    /// The public keys a verifier needs now: the active one and every retired
    /// one whose tokens may still be live.
    @available(*, noasync)
    public func publishedKeys() throws -> [TokenVerificationKey] {
        try read { try $0.publishedSigningKeys(at: clock.now()) }.compactMap {
            try? TokenVerificationKey(algorithm: .edDSA, storedRepresentation: $0.publicKey)
        }
    }

    /// `{"keys": [...]}` (RFC 7517) of `publishedKeys()`.
    @available(*, noasync)
    public func jwks() throws -> JSONValue {
        .object([("keys", .array(try publishedKeys().map(\.jwk)))])
    }

    /// Makes a new active signing key. The old one stays in the JWKS until
    /// every token it can have signed has expired: now plus the longest token
    /// lifetime of any instance.
    @available(*, noasync)
    public func rotateSigningKey() throws -> String {
        try write { tx in
            let now = clock.now()
            let lifetime = Int64(max(try tx.maximumTokenTTL(), Validation.tokenTTLRange.lowerBound))
            let old = try tx.activeSigningKey()
            try tx.retireActiveSigningKey(at: now, publishedUntil: now.adding(seconds: lifetime))
            let key = try TokenSigningKey.generate(.edDSA)
            try insertSigningKey(key, at: now, in: tx)
            try tx.audit(
                AuditEvent(
                    time: now, event: .keysRotateSigning, outcome: .allowed,
                    reason: "new kid \(key.publicKey.thumbprint); previous \(old?.kid ?? "none") published until \(now.adding(seconds: lifetime).rfc3339)"))
            return key.publicKey.thumbprint
        }
    }

    // MARK: Vault key

    /// Seals the vault key under a new unlock secret (passphrase or key file).
    /// Only the header changes; nothing else needs re-encrypting.
    @available(*, noasync)
    public func changeUnlock(to unlock: UnlockSecret) throws {
        let newUnlock = try NewUnlock(unlock)
        try write { tx in
            try tx.updateUnlock(
                method: newUnlock.method, kdfOpslimit: newUnlock.opslimit, kdfMemlimit: newUnlock.memlimit,
                kdfSalt: newUnlock.salt,
                sealedVaultKey: newUnlock.key.seal(vaultKey.keyBytes, associatedData: AD.vaultKey(vaultID, newUnlock.method)))
            try tx.audit(
                AuditEvent(time: clock.now(), event: .keysChangeUnlock, outcome: .allowed, reason: "unlock: \(newUnlock.method.rawValue)"))
        }
        unlockKey = newUnlock.key
        unlockMethod = newUnlock.method
    }

    /// How long a vault-key link is kept: a server or node that still holds
    /// the previous key takes the new one through it within that time.
    public static let vaultKeyLinkLifetimeSeconds: Int64 = 86_400

    /// Takes the vault keys that another process or node rotated to since
    /// this one was unlocked, each through its link (sealed under the key
    /// before it). A server thus keeps working across `keys rotate-vault-key`
    /// without a restart or the new key file.
    @available(*, noasync)
    public func followVaultKeyRotations() throws {
        try read { tx in try followVaultKeyRotations(to: try tx.vaultKeyEpoch(), in: tx) }
    }

    /// Takes the vault keys up to epoch `current` through their links.
    func followVaultKeyRotations(to current: Int64, in tx: any StoreReader) throws {
        guard current != vaultKeyEpoch else { return }
        var key = vaultKey
        var epoch = vaultKeyEpoch
        for link in try tx.vaultKeyLinks(after: epoch) where link.epoch == epoch + 1 {
            guard let opened = try? key.open(link.sealedKey, associatedData: AD.vaultKeyLink(vaultID, epoch: link.epoch)),
                let next = try? SealingKey(opened)
            else {
                throw VaultError.tampered("the link to vault key \(link.epoch) did not decrypt: the vault was altered; restore it from a backup")
            }
            key = next
            epoch = link.epoch
        }
        guard epoch == current else {
            throw VaultError.conflict(
                "the vault key was rotated more than a day after this process was unlocked; restart it with the current key file or passphrase")
        }
        vaultKey = key
        vaultKeyEpoch = epoch
    }

    /// Replaces the vault key: every data key, signing key and the verifier key
    /// are opened with the old one and sealed with the new one, in a single
    /// transaction, so a failure (or a crash) part way leaves the old state.
    /// The new key is also sealed under the old one, for running servers.
    @available(*, noasync)
    public func rotateVaultKey() throws -> Int {
        let newKey = SealingKey.generate()
        let previous = (key: vaultKey, epoch: vaultKeyEpoch)
        do {
            return try rotateVaultKey(to: newKey)
        } catch {
            (vaultKey, vaultKeyEpoch) = previous
            throw error
        }
    }

    private func rotateVaultKey(to newKey: SealingKey) throws -> Int {
        try write { tx in
            let header = try tx.header()
            // Another process may have changed the passphrase or key file
            // since this one was unlocked: the new key must be sealed under
            // the unlock secret the vault has now.
            guard header.unlockMethod == unlockMethod,
                (try? unlockKey.open(header.sealedVaultKey, associatedData: AD.vaultKey(vaultID, unlockMethod))) != nil
            else {
                throw VaultError.conflict("the passphrase or key file changed while this command ran; nothing was changed — run it again with the new one")
            }
            let verifierKey: SecretBytes
            do {
                verifierKey = try vaultKey.open(header.sealedVerifierKey, associatedData: AD.verifierKey(vaultID))
            } catch {
                throw VaultError.tampered("the vault's verifier key did not decrypt; nothing was changed — restore the vault from a backup")
            }
            let now = clock.now()
            let newEpoch = vaultKeyEpoch + 1
            try tx.replaceVaultKey(
                sealedVaultKey: unlockKey.seal(newKey.keyBytes, associatedData: AD.vaultKey(vaultID, unlockMethod)),
                sealedVerifierKey: newKey.seal(verifierKey, associatedData: AD.verifierKey(vaultID)),
                link: VaultKeyLink(
                    epoch: newEpoch, sealedKey: vaultKey.seal(newKey.keyBytes, associatedData: AD.vaultKeyLink(vaultID, epoch: newEpoch)),
                    createdAt: now),
                forgetLinksBefore: now.adding(seconds: -Self.vaultKeyLinkLifetimeSeconds))
            let dataKeys = try tx.sealedDataKeys()
            for entry in dataKeys {
                let ad = AD.dataKey(vaultID, instanceID: entry.instanceID)
                guard let dataKey = try? vaultKey.open(entry.sealed, associatedData: ad) else {
                    throw VaultError.tampered(
                        "the data key of instance '\(entry.name)' did not decrypt; nothing was changed — restore the vault from a backup")
                }
                try tx.updateSealedDataKey(instanceID: entry.instanceID, sealed: newKey.seal(dataKey, associatedData: ad))
            }
            if let auditKey = try tx.auditSigningKey() {
                guard let seed = try? vaultKey.open(auditKey.sealedPrivateKey, associatedData: AD.auditKey(vaultID)) else {
                    throw VaultError.tampered("the audit signing key did not decrypt; nothing was changed — restore the vault from a backup")
                }
                try tx.updateSealedAuditKey(newKey.seal(seed, associatedData: AD.auditKey(vaultID)))
            }
            for record in try tx.allSigningKeys() {
                let key = try openSigningKey(record)
                try tx.updateSealedPrivateKey(
                    signingKeyID: record.id, sealed: newKey.seal(key.privateKey, associatedData: AD.signingKey(vaultID, keyID: record.id)))
            }
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .keysRotateVaultKey, outcome: .allowed,
                    reason: "\(dataKeys.count) data keys re-wrapped"))
            // What follows in this transaction (a checkpoint that falls due
            // signs with the audit key just re-sealed) uses the new key.
            vaultKey = newKey
            vaultKeyEpoch = newEpoch
            return dataKeys.count
        }
    }
}

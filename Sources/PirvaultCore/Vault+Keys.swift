import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

extension Vault {
    // MARK: Signing keys

    /// Inserts `key`, published from `now` and signing from `activatesAt` (`now` unless staged).
    func insertSigningKey(
        _ key: TokenSigningKey, at now: Timestamp, activatesAt: Timestamp? = nil, in tx: any StoreWriter
    ) throws {
        try tx.insertSigningKey(
            kid: key.publicKey.thumbprint, algorithm: key.algorithm, publicKey: key.publicKey.storedRepresentation,
            createdAt: now, activatesAt: activatesAt ?? now
        ) { id in
            vaultKey.seal(key.privateKey, associatedData: AD.signingKey(vaultID, keyID: id))
        }
    }

    /// The key that signs tokens now. A vault made before signing keys
    /// existed gets its first one here (EdDSA, as its tokens then were).
    @available(*, noasync)
    public func signingIdentity() throws -> SigningIdentity {
        let now = clock.now()
        if let signer = try read({ try signingKeySchedule(at: now, in: $0) }).signer(at: now) { return signer }
        return try write { tx in
            if let raced = try signingKeySchedule(at: now, in: tx).signer(at: now) { return raced }
            let key = try TokenSigningKey.generate(.edDSA)
            try insertSigningKey(key, at: now, in: tx)
            try tx.audit(AuditEvent(time: now, event: .keysSigningCreated, outcome: .allowed, reason: "kid \(key.publicKey.thumbprint)"))
            return SigningIdentity(key: key)
        }
    }

    func openSigningKey(_ record: SigningKeyRecord) throws -> TokenSigningKey {
        do {
            let key = try TokenSigningKey(
                algorithm: record.algorithm,
                privateKey: vaultKey.open(record.sealedPrivateKey, associatedData: AD.signingKey(vaultID, keyID: record.id)))
            guard key.publicKey.storedRepresentation == record.publicKey else { throw CryptoError.authenticationFailed }
            return key
        } catch {
            throw VaultError.tampered("signing key \(record.kid) did not decrypt: the vault file was altered or damaged; restore it from a backup")
        }
    }

    /// The published signing keys and their schedule: the active one, the
    /// next one (staged) and those retiring until their tokens have expired.
    @available(*, noasync)
    public func signingKeys() throws -> SigningKeySchedule {
        let now = clock.now()
        return try read { try signingKeySchedule(at: now, in: $0) }
    }

    /// `{"keys": [...]}` (RFC 7517): every published key, each as XSUAA writes it.
    @available(*, noasync)
    public func jwks() throws -> JSONValue { try signingKeys().jwks }

    /// What cached key sets SAP's libraries keep at most (15–30 minutes, docs/sap-libraries.md):
    /// the default time a new key is published before it signs.
    public static let defaultPublishAheadSeconds: Int64 = 1800

    /// Stages a new signing key: published at once, signing from
    /// `publishAheadSeconds` on, when the active key retires (it stays
    /// published until every token it can have signed has expired: its
    /// retirement plus the longest token lifetime of any instance). Every node
    /// switches at that moment. The new key has `algorithm`, or the active
    /// key's. A staged key that has not signed yet is withdrawn in favour of
    /// the new one. `0` switches at once.
    @available(*, noasync)
    public func rotateSigningKey(
        to algorithm: SigningAlgorithm? = nil, rsaBits: Int = TokenSigningKey.defaultRSABits,
        publishAheadSeconds: Int64 = defaultPublishAheadSeconds
    ) throws -> SigningKeyRotation {
        guard publishAheadSeconds >= 0 else {
            throw VaultError.invalidInput("--publish-ahead cannot be negative; give 0s to switch at once, or a duration such as 30m")
        }
        let now = clock.now()
        let current = try signingKeys().entries.first { $0.state(at: now) == .active }
        // Made before the transaction: an RSA key takes a while, and the write lock is everyone's.
        let key: TokenSigningKey
        do {
            key = try TokenSigningKey.generate(algorithm ?? current?.algorithm ?? .rs256, rsaBits: rsaBits)
        } catch let error as CryptoError {
            throw VaultError.invalidInput(error.description)
        }
        return try write { tx in
            var withdrawn: String? = nil
            if let latest = try tx.latestSigningKey(), latest.activatesAt > now {
                try tx.deleteSigningKey(id: latest.id)
                withdrawn = latest.kid
            }
            let activatesAt = now.adding(seconds: publishAheadSeconds)
            let lifetime = Int64(max(try tx.maximumTokenTTL(), Validation.tokenTTLRange.lowerBound))
            let active = try tx.publishedSigningKeys(at: now).first { $0.activatesAt <= now && ($0.retiredAt.map { $0 > now } ?? true) }
            if let active {
                try tx.retireSigningKey(id: active.id, at: activatesAt, publishedUntil: activatesAt.adding(seconds: lifetime))
            }
            try insertSigningKey(key, at: now, activatesAt: activatesAt, in: tx)
            let rotation = SigningKeyRotation(
                kid: key.publicKey.thumbprint, algorithm: key.algorithm, signsFrom: activatesAt,
                previous: active.map { ($0.kid, activatesAt.adding(seconds: lifetime)) }, withdrawn: withdrawn)
            try tx.audit(AuditEvent(time: now, event: .keysRotateSigning, outcome: .allowed, reason: rotation.summary))
            return rotation
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

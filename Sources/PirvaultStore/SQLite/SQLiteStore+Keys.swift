import PirvaultCrypto
extension SQLiteReader {
    fileprivate static let signingKeyColumns =
        "id, kid, algorithm, public_key, sealed_private_key, created_at_us, activates_at_us, retired_at_us, published_until_us"

    fileprivate static func signingKey(from row: Row) throws -> SigningKeyRecord {
        guard let algorithm = SigningAlgorithm(rawValue: row.string(2)) else {
            throw StoreError.corrupt(what: "signing key \(row.string(1)) has an unknown algorithm")
        }
        return SigningKeyRecord(
            id: row.int(0), kid: row.string(1), algorithm: algorithm, publicKey: row.blob(3) ?? [],
            sealedPrivateKey: row.blob(4) ?? [], createdAt: Timestamp(microseconds: row.int(5)),
            activatesAt: Timestamp(microseconds: row.int(6)),
            retiredAt: row.optionalInt(7).map(Timestamp.init(microseconds:)),
            publishedUntil: row.optionalInt(8).map(Timestamp.init(microseconds:)))
    }

    func latestSigningKey() throws -> SigningKeyRecord? {
        try db.query("SELECT \(Self.signingKeyColumns) FROM signing_keys WHERE retired_at_us IS NULL", row: Self.signingKey)
            .first
    }

    func publishedSigningKeys(at now: Timestamp) throws -> [SigningKeyRecord] {
        try db.query(
            """
            SELECT \(Self.signingKeyColumns) FROM signing_keys
            WHERE retired_at_us IS NULL OR published_until_us > ? ORDER BY activates_at_us DESC, id DESC
            """, [.integer(now.microseconds)], row: Self.signingKey)
    }

    func allSigningKeys() throws -> [SigningKeyRecord] {
        try db.query("SELECT \(Self.signingKeyColumns) FROM signing_keys ORDER BY id", row: Self.signingKey)
    }

    func vaultKeyEpoch() throws -> Int64 {
        try db.query("SELECT vault_key_epoch FROM vault_header WHERE singleton = 1") { $0.int(0) }.first ?? 1
    }

    func vaultKeyLinks(after epoch: Int64) throws -> [VaultKeyLink] {
        try db.query(
            "SELECT epoch, sealed_key, created_at_us FROM vault_key_links WHERE epoch > ? ORDER BY epoch", [.integer(epoch)]
        ) { VaultKeyLink(epoch: $0.int(0), sealedKey: $0.blob(1) ?? [], createdAt: Timestamp(microseconds: $0.int(2))) }
    }

    /// Every instance's id and sealed data key, for re-wrapping.
    func sealedDataKeys() throws -> [(instanceID: Int64, name: String, sealed: [UInt8])] {
        try db.query("SELECT id, name, sealed_data_key FROM instances ORDER BY id") {
            (instanceID: $0.int(0), name: $0.string(1), sealed: $0.blob(2) ?? [])
        }
    }

    /// The longest token lifetime of any instance, in seconds (0 with none).
    func maximumTokenTTL() throws -> Int {
        Int(try db.query("SELECT COALESCE(MAX(token_ttl), 0) FROM instances") { $0.int(0) }.first ?? 0)
    }
}

extension SQLiteWriter {
    @discardableResult
    func insertSigningKey(
        kid: String, algorithm: SigningAlgorithm, publicKey: [UInt8], createdAt: Timestamp, activatesAt: Timestamp,
        sealPrivateKey: (Int64) -> [UInt8]
    ) throws -> Int64 {
        try db.run(
            """
            INSERT INTO signing_keys (kid, algorithm, public_key, sealed_private_key, created_at_us, activates_at_us)
            VALUES (?, ?, ?, x'', ?, ?)
            """,
            [.text(kid), .text(algorithm.rawValue), .blob(publicKey), .integer(createdAt.microseconds),
             .integer(activatesAt.microseconds)])
        let id = db.lastInsertRowID
        try db.run(
            "UPDATE signing_keys SET sealed_private_key = ? WHERE id = ?", [.blob(sealPrivateKey(id)), .integer(id)])
        return id
    }

    func retireSigningKey(id: Int64, at time: Timestamp, publishedUntil: Timestamp) throws {
        try db.run(
            "UPDATE signing_keys SET retired_at_us = ?, published_until_us = ? WHERE id = ?",
            [.integer(time.microseconds), .integer(publishedUntil.microseconds), .integer(id)])
    }

    func deleteSigningKey(id: Int64) throws {
        try db.run("DELETE FROM signing_keys WHERE id = ?", [.integer(id)])
    }

    func setSubdomain(_ subdomain: String) throws {
        try db.run("UPDATE vault_header SET subdomain = ?, subdomain_chosen = 1 WHERE singleton = 1", [.text(subdomain)])
    }

    func updateSealedPrivateKey(signingKeyID: Int64, sealed: [UInt8]) throws {
        try db.run("UPDATE signing_keys SET sealed_private_key = ? WHERE id = ?", [.blob(sealed), .integer(signingKeyID)])
    }

    /// Replaces how the vault key is unlocked (a passphrase or key-file change).
    func updateUnlock(
        method: VaultHeaderRecord.UnlockMethod, kdfOpslimit: Int64?, kdfMemlimit: Int64?, kdfSalt: [UInt8]?,
        sealedVaultKey: [UInt8]
    ) throws {
        try db.run(
            """
            UPDATE vault_header SET unlock_method = ?, kdf_algorithm = ?, kdf_opslimit = ?, kdf_memlimit = ?,
                kdf_salt = ?, sealed_vault_key = ? WHERE singleton = 1
            """,
            [.text(method.rawValue), kdfSalt == nil ? .null : .text("argon2id13"),
             kdfOpslimit.map(SQLValue.integer) ?? .null, kdfMemlimit.map(SQLValue.integer) ?? .null,
             kdfSalt.map(SQLValue.blob) ?? .null, .blob(sealedVaultKey)])
    }

    func replaceVaultKey(
        sealedVaultKey: [UInt8], sealedVerifierKey: [UInt8], link: VaultKeyLink, forgetLinksBefore: Timestamp
    ) throws {
        try db.run(
            "UPDATE vault_header SET sealed_vault_key = ?, sealed_verifier_key = ?, vault_key_epoch = ? WHERE singleton = 1",
            [.blob(sealedVaultKey), .blob(sealedVerifierKey), .integer(link.epoch)])
        try db.run(
            "INSERT INTO vault_key_links (epoch, sealed_key, created_at_us) VALUES (?, ?, ?)",
            [.integer(link.epoch), .blob(link.sealedKey), .integer(link.createdAt.microseconds)])
        try db.run("DELETE FROM vault_key_links WHERE created_at_us < ?", [.integer(forgetLinksBefore.microseconds)])
    }

    func updateSealedDataKey(instanceID: Int64, sealed: [UInt8]) throws {
        try db.run("UPDATE instances SET sealed_data_key = ? WHERE id = ?", [.blob(sealed), .integer(instanceID)])
    }
}

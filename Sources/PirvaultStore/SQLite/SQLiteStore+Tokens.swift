import PirvaultJSON

extension SQLiteReader {
    func credential(id: Int64) throws -> CredentialRecord? {
        try db.query(
            "SELECT id, instance_id, sealed_secret, verifier, created_at, expires_at_us FROM credentials WHERE id = ?",
            [.integer(id)]
        ) {
            CredentialRecord(
                id: $0.int(0), instanceID: $0.int(1), sealedSecret: $0.blob(2) ?? [], verifier: $0.blob(3) ?? [],
                createdAt: $0.string(4), expiresAt: $0.optionalInt(5).map(Timestamp.init(microseconds:)))
        }.first
    }

    func instance(id: Int64) throws -> InstanceRecord? {
        var found: InstanceRecord?
        try forEachInstance(whereClause: "i.id = ?", [.integer(id)]) { found = $0 }
        return found
    }

    func isTokenRevoked(jti: String) throws -> Bool {
        try db.query("SELECT 1 FROM revoked_tokens WHERE jti = ?", [.text(jti)]) { _ in true }.first ?? false
    }

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try db.query(
            """
            SELECT token_hash, jti, instance_id, credential_id, credential_generation, scope, issued_at_us, expires_at_us
            FROM opaque_tokens WHERE token_hash = ?
            """, [.blob(hash)]
        ) { row in
            OpaqueTokenRecord(
                tokenHash: row.blob(0) ?? [], jti: row.string(1), instanceID: row.int(2), credentialID: row.int(3),
                credentialGeneration: row.int(4),
                scope: (try? JSONValue.parse(row.string(5)).stringArray ?? []) ?? [],
                issuedAt: Timestamp(microseconds: row.int(6)), expiresAt: Timestamp(microseconds: row.int(7)))
        }.first
    }

    func authenticationFailures(after id: Int64) throws -> [AuthenticationFailure] {
        try db.query("SELECT id, key, at_us FROM authentication_failures WHERE id > ? ORDER BY id", [.integer(id)]) {
            AuthenticationFailure(id: $0.int(0), key: $0.string(1), time: Timestamp(microseconds: $0.int(2)))
        }
    }
}

extension SQLiteWriter {
    /// Sets when a credential stops working (the end of a rotation's grace period).
    func expireCredential(id: Int64, at time: Timestamp) throws {
        try db.run("UPDATE credentials SET expires_at_us = ? WHERE id = ?", [.integer(time.microseconds), .integer(id)])
    }

    /// Deletes the instance's credentials that expired before `time`.
    func deleteExpiredCredentials(instanceID: Int64, before time: Timestamp) throws {
        try db.run(
            "DELETE FROM credentials WHERE instance_id = ? AND expires_at_us IS NOT NULL AND expires_at_us <= ?",
            [.integer(instanceID), .integer(time.microseconds)])
    }

    func revokeToken(jti: String, instanceID: Int64?, at time: Timestamp, expiresAt: Timestamp) throws {
        try db.run(
            "INSERT OR IGNORE INTO revoked_tokens (jti, instance_id, revoked_at_us, expires_at_us) VALUES (?, ?, ?, ?)",
            [.text(jti), instanceID.map(SQLValue.integer) ?? .null, .integer(time.microseconds),
             .integer(expiresAt.microseconds)])
    }

    /// Forgets revocations and opaque tokens of tokens that have expired anyway.
    func purgeExpiredTokens(before time: Timestamp) throws {
        try db.run("DELETE FROM revoked_tokens WHERE expires_at_us <= ?", [.integer(time.microseconds)])
        try db.run("DELETE FROM opaque_tokens WHERE expires_at_us <= ?", [.integer(time.microseconds)])
    }

    func insertOpaqueToken(_ record: OpaqueTokenRecord) throws {
        try db.run(
            """
            INSERT INTO opaque_tokens (token_hash, jti, instance_id, credential_id, credential_generation, scope,
                issued_at_us, expires_at_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.blob(record.tokenHash), .text(record.jti), .integer(record.instanceID), .integer(record.credentialID),
             .integer(record.credentialGeneration), .text(JSONValue(record.scope).compactString()),
             .integer(record.issuedAt.microseconds), .integer(record.expiresAt.microseconds)])
    }

    func recordAuthenticationFailures(_ keys: [String], at time: Timestamp) throws {
        for key in keys {
            try db.run("INSERT INTO authentication_failures (key, at_us) VALUES (?, ?)", [.text(key), .integer(time.microseconds)])
        }
    }

    func forgetAuthenticationFailures(before time: Timestamp) throws {
        try db.run("DELETE FROM authentication_failures WHERE at_us < ?", [.integer(time.microseconds)])
    }
}

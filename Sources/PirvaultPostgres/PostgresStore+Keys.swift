import PirvaultCrypto
import PirvaultStore
import PirvaultJSON
import PostgresNIO

extension PostgresReader {
    func isTokenRevoked(jti: String) throws -> Bool {
        !(try session.query("SELECT 1 FROM revoked_tokens WHERE jti = \(jti)").isEmpty)
    }

    func revokedTokenIDs(at now: Timestamp) throws -> Set<String> {
        Set(try session.query("SELECT jti FROM revoked_tokens WHERE expires_at_us > \(now.microseconds)").map { try $0.string(0) })
    }

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try session.query(
            """
            SELECT token_hash, jti, instance_id, credential_id, credential_generation, scope, issued_at_us, expires_at_us
            FROM opaque_tokens WHERE token_hash = \(ByteBuffer(bytes: hash))
            """
        ).first.map { row in
            OpaqueTokenRecord(
                tokenHash: try row.blob(0) ?? [], jti: try row.string(1), instanceID: try row.int(2),
                credentialID: try row.int(3), credentialGeneration: try row.int(4),
                scope: (try? JSONValue.parse(try row.string(5)).stringArray ?? []) ?? [],
                issuedAt: Timestamp(microseconds: try row.int(6)), expiresAt: Timestamp(microseconds: try row.int(7)))
        }
    }

    func authenticationFailures(after id: Int64) throws -> [AuthenticationFailure] {
        try session.query("SELECT id, key, at_us FROM authentication_failures WHERE id > \(id) ORDER BY id").map {
            AuthenticationFailure(id: try $0.int(0), key: try $0.string(1), time: Timestamp(microseconds: try $0.int(2)))
        }
    }

    fileprivate static let signingKeySelect = """
        SELECT id, kid, algorithm, public_key, sealed_private_key, created_at_us, activates_at_us, retired_at_us,
               published_until_us
        FROM signing_keys
        """

    fileprivate static func signingKey(from row: PostgresRandomAccessRow) throws -> SigningKeyRecord {
        guard let algorithm = SigningAlgorithm(rawValue: try row.string(2)) else {
            throw StoreError.corrupt(what: "signing key \(try row.string(1)) has an unknown algorithm")
        }
        return SigningKeyRecord(
            id: try row.int(0), kid: try row.string(1), algorithm: algorithm, publicKey: try row.blob(3) ?? [],
            sealedPrivateKey: try row.blob(4) ?? [], createdAt: Timestamp(microseconds: try row.int(5)),
            activatesAt: Timestamp(microseconds: try row.int(6)),
            retiredAt: try row.optionalInt(7).map(Timestamp.init(microseconds:)),
            publishedUntil: try row.optionalInt(8).map(Timestamp.init(microseconds:)))
    }

    func latestSigningKey() throws -> SigningKeyRecord? {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.signingKeySelect) WHERE retired_at_us IS NULL"))
            .first.map(Self.signingKey)
    }

    func publishedSigningKeys(at now: Timestamp) throws -> [SigningKeyRecord] {
        try session.query(
            PostgresQuery(
                unsafeSQL: """
                    \(Self.signingKeySelect) WHERE retired_at_us IS NULL OR published_until_us > $1
                    ORDER BY activates_at_us DESC, id DESC
                    """,
                binds: binds(now.microseconds))
        ).map(Self.signingKey)
    }

    func allSigningKeys() throws -> [SigningKeyRecord] {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.signingKeySelect) ORDER BY id")).map(Self.signingKey)
    }
}

extension PostgresWriter {
    func revokeToken(jti: String, instanceID: Int64?, at time: Timestamp, expiresAt: Timestamp) throws {
        try session.run(
            """
            INSERT INTO revoked_tokens (jti, instance_id, revoked_at_us, expires_at_us)
            VALUES (\(jti), \(instanceID), \(time.microseconds), \(expiresAt.microseconds)) ON CONFLICT DO NOTHING
            """)
    }

    func purgeExpiredTokens(before time: Timestamp) throws {
        try session.run("DELETE FROM revoked_tokens WHERE expires_at_us <= \(time.microseconds)")
        try session.run("DELETE FROM opaque_tokens WHERE expires_at_us <= \(time.microseconds)")
    }

    func insertOpaqueToken(_ record: OpaqueTokenRecord) throws {
        try session.run(
            """
            INSERT INTO opaque_tokens (token_hash, jti, instance_id, credential_id, credential_generation, scope,
                issued_at_us, expires_at_us)
            VALUES (\(ByteBuffer(bytes: record.tokenHash)), \(record.jti), \(record.instanceID), \(record.credentialID),
                \(record.credentialGeneration), \(JSONValue(record.scope).compactString()),
                \(record.issuedAt.microseconds), \(record.expiresAt.microseconds))
            """)
    }

    func recordAuthenticationFailures(_ keys: [String], at time: Timestamp) throws {
        for key in keys {
            try session.run("INSERT INTO authentication_failures (key, at_us) VALUES (\(key), \(time.microseconds))")
        }
    }

    func forgetAuthenticationFailures(before time: Timestamp) throws {
        try session.run("DELETE FROM authentication_failures WHERE at_us < \(time.microseconds)")
    }

    @discardableResult
    func insertSigningKey(
        kid: String, algorithm: SigningAlgorithm, publicKey: [UInt8], createdAt: Timestamp, activatesAt: Timestamp,
        sealPrivateKey: (Int64) -> [UInt8]
    ) throws -> Int64 {
        try insertThenSeal(
            """
            INSERT INTO signing_keys (kid, algorithm, public_key, sealed_private_key, created_at_us, activates_at_us)
            VALUES (\(kid), \(algorithm.rawValue), \(ByteBuffer(bytes: publicKey)), '', \(createdAt.microseconds),
                \(activatesAt.microseconds))
            RETURNING id
            """, sealing: "signing_keys.sealed_private_key", with: sealPrivateKey)
    }

    func retireSigningKey(id: Int64, at time: Timestamp, publishedUntil: Timestamp) throws {
        try session.run(
            """
            UPDATE signing_keys SET retired_at_us = \(time.microseconds), published_until_us = \(publishedUntil.microseconds)
            WHERE id = \(id)
            """)
    }

    func deleteSigningKey(id: Int64) throws {
        try session.run("DELETE FROM signing_keys WHERE id = \(id)")
    }

    func setSubdomain(_ subdomain: String) throws {
        try session.run("UPDATE vault_header SET subdomain = \(subdomain), subdomain_chosen = 1 WHERE singleton = 1")
    }

    func updateSealedPrivateKey(signingKeyID: Int64, sealed: [UInt8]) throws {
        try session.run(
            "UPDATE signing_keys SET sealed_private_key = \(ByteBuffer(bytes: sealed)) WHERE id = \(signingKeyID)")
    }
}

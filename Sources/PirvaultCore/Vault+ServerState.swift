import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// What a server holds in memory to decide requests without reading the
/// vault: read from one snapshot and tagged with its state version, so
/// that a newer version means it is out of date.
public struct AuthorizationSnapshot: Sendable {
    public let stateVersion: Int64
    /// Single-revoked tokens that have not expired.
    public let revoked: Set<String>
    /// The public keys a verifier needs now, by kid.
    public let publishedKeys: [String: TokenVerificationKey]
    /// The key that signs new tokens.
    public let signer: SigningIdentity
    /// `/token_keys` as sent.
    public let jwks: String
}

extension Vault {
    /// Reads what a server keeps in memory, from one snapshot, after taking
    /// any vault key that another process rotated to.
    @available(*, noasync)
    public func authorizationSnapshot() throws -> AuthorizationSnapshot {
        try followVaultKeyRotations()
        let now = clock.now()
        let snapshot = try read { tx -> AuthorizationSnapshot? in
            guard let active = try tx.activeSigningKey() else { return nil }
            let published = try tx.publishedSigningKeys(at: now).compactMap {
                try? TokenVerificationKey(algorithm: .edDSA, storedRepresentation: $0.publicKey)
            }
            return AuthorizationSnapshot(
                stateVersion: try tx.stateVersion(), revoked: try tx.revokedTokenIDs(at: now),
                publishedKeys: Dictionary(published.map { ($0.thumbprint, $0) }, uniquingKeysWith: { first, _ in first }),
                signer: SigningIdentity(key: try openSigningKey(active)),
                jwks: JSONValue.object([("keys", .array(published.map(\.jwk)))]).compactString())
        }
        if let snapshot { return snapshot }
        _ = try signingIdentity()  // a vault older than signing keys gets its first one
        return try authorizationSnapshot()
    }
}

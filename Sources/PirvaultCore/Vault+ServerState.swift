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
    /// The published keys, and which signs when.
    public let signingKeys: SigningKeySchedule
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
            let schedule = try signingKeySchedule(at: now, in: tx)
            guard schedule.signer(at: now) != nil else { return nil }
            return AuthorizationSnapshot(
                stateVersion: try tx.stateVersion(), revoked: try tx.revokedTokenIDs(at: now), signingKeys: schedule,
                jwks: schedule.jwks.compactString())
        }
        if let snapshot { return snapshot }
        _ = try signingIdentity()  // a vault older than signing keys gets its first one
        return try authorizationSnapshot()
    }
}

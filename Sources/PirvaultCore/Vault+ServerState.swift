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

extension Vault {
    /// Takes the vault's write lock and lets it go again, changing nothing:
    /// whether this connection could commit an audit row now (`/readyz`).
    /// On SQLite that also checks the file at the path is still this
    /// vault's; on PostgreSQL it locks the audit log's head row, as every
    /// write transaction does first.
    @available(*, noasync)
    public func checkCanCommit() throws {
        try storeOperation { try store.write { _ in } }
    }
}

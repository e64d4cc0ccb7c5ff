import PirvaultCore
import PirvaultCrypto
import Synchronization

/// The server's view of the vault: clients, published keys, revocations and
/// the signing key, cached in memory. Before each request `refresh()` asks
/// the store whether another session committed (SQLite's `data_version`, no
/// I/O; PostgreSQL has no such signal, so it reads the state version) and,
/// only if the vault's state version moved (a CLI change, not an audit
/// append), drops the cache — so a revocation or rotation made with the CLI
/// or on another node is enforced on the very next request.
final class AuthorizationCache: Sendable {
    private struct Inner {
        let vault: Vault
        var commitCounter: Int64?
        var stateVersion: Int64 = .min
        var clients: [String: ClientState?] = [:]
        var keys: [String: Ed25519PublicKey] = [:]
        var revoked: Set<String> = []
        var signer: SigningIdentity?
        var jwks: String = ""
    }

    private let inner: Mutex<Inner>
    /// Tokens whose signature was checked; emptied with the rest of the cache.
    let verifiedSignatures = VerifiedSignatures()

    init(vault: sending Vault) throws {
        inner = Mutex(Inner(vault: vault))
        try refresh()
    }

    /// Reloads what changed and returns the state version the cache now
    /// holds. Without `force`, SQLite's `data_version` skips the read when
    /// nobody committed, and on PostgreSQL the read is skipped altogether:
    /// the audit commit confirms the version (`StaleDecision`). With `force`
    /// the version is always read.
    @discardableResult
    func refresh(force: Bool = false) throws -> Int64 {
        try inner.withLock { state in
            if let counter = try state.vault.commitCounter() {
                guard counter != state.commitCounter || force else { return state.stateVersion }
                state.commitCounter = counter
            } else if !force && state.signer != nil {
                return state.stateVersion
            }
            let stateVersion = try state.vault.stateVersion()
            guard stateVersion != state.stateVersion else { return stateVersion }
            try state.vault.followVaultKeyRotations()
            state.clients.removeAll(keepingCapacity: true)
            verifiedSignatures.removeAll()
            state.revoked = try state.vault.revokedTokenIDs()
            let published = try state.vault.publishedKeys()
            state.keys = Dictionary(published.map { ($0.thumbprint, $0) }, uniquingKeysWith: { first, _ in first })
            state.signer = try state.vault.signingIdentity()
            state.jwks = try state.vault.jwks().compactString()
            state.stateVersion = stateVersion
            return stateVersion
        }
    }

    var signer: SigningIdentity { inner.withLock { $0.signer! } }
    var jwks: String { inner.withLock { $0.jwks } }

    func client(clientID: String) throws -> ClientState? {
        try inner.withLock { state in
            if let cached = state.clients[clientID] { return cached }
            let client = try state.vault.clientState(clientID: clientID)
            if state.clients.count > 200_000 { state.clients.removeAll(keepingCapacity: true) }
            state.clients[clientID] = client
            return client
        }
    }

    func client(instanceID: Int64) throws -> ClientState? {
        try inner.withLock { try $0.vault.clientState(instanceID: instanceID) }
    }

    func isRevoked(jti: String) -> Bool { inner.withLock { $0.revoked.contains(jti) } }

    func publicKey(kid: String) -> Ed25519PublicKey? { inner.withLock { $0.keys[kid] } }

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try inner.withLock { try $0.vault.opaqueToken(hash: hash) }
    }
}

/// `AuthorizationState` over the cache, for `TokenAuthority.decide`.
struct CachedState: AuthorizationState {
    let cache: AuthorizationCache

    func client(clientID: String) throws -> ClientState? { try cache.client(clientID: clientID) }
    func client(instanceID: Int64) throws -> ClientState? { try cache.client(instanceID: instanceID) }
    func isRevoked(jti: String) throws -> Bool { cache.isRevoked(jti: jti) }
    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? { try cache.opaqueToken(hash: hash) }
    func publicKey(kid: String) throws -> Ed25519PublicKey? { cache.publicKey(kid: kid) }
}

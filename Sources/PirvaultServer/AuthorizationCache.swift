import PirvaultCore
import PirvaultCrypto
import PirvaultStore
import Synchronization

/// The server's view of the vault: clients, published keys, revocations and
/// the signing key, held in memory and tagged with the vault's state version.
///
/// Requests read only memory. Whatever is not in memory yet (a client's
/// first request, an opaque token) and every reload is read on the reading
/// connection (`SerializedVault`, a thread of its own), never on the threads
/// that serve requests, and within the server's vault timeout. The cache
/// reloads when the audit writer has seen a newer state version (a change
/// by the CLI or another node) or when a commit found a decision stale;
/// since every audited decision is checked against the state version when
/// its row commits, a revocation or rotation is enforced on the very next
/// answer.
final class AuthorizationCache: Sendable {
    fileprivate struct Snapshot {
        var stateVersion: Int64 = .min
        var clients: [String: ClientState?] = [:]
        var clientsByInstance: [Int64: ClientState?] = [:]
        /// By keyed hash; nil for an unknown token (guessing one is hopeless, so "unknown" stays true).
        var opaqueTokens: [[UInt8]: OpaqueTokenRecord?] = [:]
        var signingKeys = SigningKeySchedule.none
        var revoked: Set<String> = []
        var jwks: String = ""
    }

    private let snapshot = Mutex(Snapshot())
    private let reader: SerializedVault
    private let timeout: Duration
    /// Tokens whose signature was checked; emptied with the rest of the cache.
    let verifiedSignatures = VerifiedSignatures()
    static let capacity = 200_000

    /// A cache over `reader`, loaded before it answers anything.
    init(reader: SerializedVault, timeout: Duration) async throws {
        self.reader = reader
        self.timeout = timeout
        _ = try await stateVersion(force: true, newer: .min)
    }

    /// The state version to decide on: first reloads when `newer` (the
    /// audit writer's latest) is ahead of what memory holds, or when `force`.
    func stateVersion(force: Bool, newer: Int64) async throws -> Int64 {
        let held = snapshot.withLock { $0.stateVersion }
        guard force || newer > held else { return held }
        return try await reader.perform(until: .now + timeout) { try self.reload($0) }
    }

    /// Runs `decide` on what memory holds; if that needs something not in
    /// memory yet, runs it again on the reading connection, where it may read.
    /// `decide` must have no effects besides its result.
    func withState<T: Sendable>(_ decide: @escaping @Sendable (CachedState) throws -> T) async throws -> T {
        do {
            return try decide(CachedState(cache: self, vault: nil))
        } catch is NotInMemory {
            return try await reader.perform(until: .now + timeout) { try decide(CachedState(cache: self, vault: $0)) }
        }
    }

    /// The key that signs tokens issued at `now`: a staged key takes over at
    /// its activation without a reload, on every node at the same moment.
    func signer(at now: Timestamp) throws -> SigningIdentity {
        guard let signer = snapshot.withLock({ $0.signingKeys.signer(at: now) }) else {
            throw VaultError.tampered("the vault has no signing key that signs now; run 'pirvault vault info' and 'pirvault audit verify'")
        }
        return signer
    }
    var jwks: String { snapshot.withLock { $0.jwks } }

    /// Reads the state version and, if it moved, everything memory holds.
    /// On the reading connection.
    private func reload(_ vault: Vault) throws -> Int64 {
        let stateVersion = try vault.stateVersion()
        guard stateVersion != snapshot.withLock({ $0.stateVersion }) else { return stateVersion }
        let read = try vault.authorizationSnapshot()
        verifiedSignatures.removeAll()
        snapshot.withLock { snapshot in
            snapshot = Snapshot(
                stateVersion: read.stateVersion, signingKeys: read.signingKeys, revoked: read.revoked, jwks: read.jwks)
        }
        return read.stateVersion
    }

    /// A lookup in memory, or (with `vault`, on the reading connection) in the store, remembered.
    fileprivate func lookUp<Key: Hashable & Sendable, Value: Sendable>(
        _ path: WritableKeyPath<Snapshot, [Key: Value]>, _ key: Key, vault: Vault?, read: (Vault) throws -> Value
    ) throws -> Value {
        if let held = snapshot.withLock({ $0[keyPath: path][key] }) { return held }
        guard let vault else { throw NotInMemory() }
        let value = try read(vault)
        snapshot.withLock { snapshot in
            if snapshot[keyPath: path].count >= Self.capacity { snapshot[keyPath: path].removeAll(keepingCapacity: true) }
            snapshot[keyPath: path][key] = value
        }
        return value
    }

    fileprivate func isRevoked(jti: String) -> Bool { snapshot.withLock { $0.revoked.contains(jti) } }

    fileprivate func publicKey(kid: String) -> TokenVerificationKey? { snapshot.withLock { $0.signingKeys.publicKey(kid: kid) } }
}

/// A lookup that memory cannot answer: the decision is made again on the reading connection.
struct NotInMemory: Error {}

/// `AuthorizationState` over the cache, for `TokenAuthority.decide`: memory
/// only, or with `vault` (on the reading connection) reading what memory lacks.
struct CachedState: AuthorizationState {
    let cache: AuthorizationCache
    let vault: Vault?

    func client(clientID: String) throws -> ClientState? {
        try cache.lookUp(\.clients, clientID, vault: vault) { try $0.clientState(clientID: clientID) }
    }

    func client(instanceID: Int64) throws -> ClientState? {
        try cache.lookUp(\.clientsByInstance, instanceID, vault: vault) { try $0.clientState(instanceID: instanceID) }
    }

    func isRevoked(jti: String) throws -> Bool { cache.isRevoked(jti: jti) }

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try cache.lookUp(\.opaqueTokens, hash, vault: vault) { try $0.opaqueToken(hash: hash) }
    }

    func publicKey(kid: String) throws -> TokenVerificationKey? { cache.publicKey(kid: kid) }
}

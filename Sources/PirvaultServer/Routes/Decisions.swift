import Hummingbird
import PirvaultCore
import PirvaultHTTP

/// What every deciding route shares: the cache it decides on, the audit
/// committer its answer waits for, the token authority, the failed-
/// authentication limiter and the metrics. `decide` runs a handler on the
/// cached state and again when its decision went stale before its commit.
final class Decisions: Sendable {
    let authority: TokenAuthority
    let cache: AuthorizationCache
    let committer: AuditCommitter
    let limiter: FailureLimiter
    let metrics: ServerMetrics
    let clock: Clock
    let failureWindowSeconds: Int64

    init(
        authority: TokenAuthority, cache: AuthorizationCache, committer: AuditCommitter, limiter: FailureLimiter,
        metrics: ServerMetrics, clock: Clock, failureWindowSeconds: Int64
    ) {
        self.authority = authority
        self.cache = cache
        self.committer = committer
        self.limiter = limiter
        self.metrics = metrics
        self.clock = clock
        self.failureWindowSeconds = failureWindowSeconds
    }

    /// Runs a deciding handler on the current state (`onCurrentState`).
    func decide(
        _ request: Request, _ context: PirvaultRequestContext, _ handler: (Request, Call) async throws -> Reply
    ) async throws -> Response {
        try await onCurrentState { stateVersion in
            try await handler(request, Call(context, stateVersion: stateVersion)).response
        }
    }

    /// Runs `attempt` on the state version the cache holds (newer if the
    /// audit writer saw a change) and, when its decision went stale before
    /// its audit commit (a change by the CLI or another node), again on a
    /// freshly read state, `staleRetries` times at most (then the
    /// `StaleDecision` is thrown: 503).
    func onCurrentState<T>(_ attempt: (_ stateVersion: Int64) async throws -> T) async throws -> T {
        var retries = 0
        while true {
            do {
                let stateVersion = try await cache.stateVersion(
                    force: retries > 0, newer: committer.latestStateVersion.load(ordering: .acquiring))
                return try await attempt(stateVersion)
            } catch is StaleDecision where retries < Self.staleRetries {
                retries += 1
            }
        }
    }

    static let staleRetries = 4

    /// Hands the answer's audit event to the group commit, with what the
    /// decision depended on: the state version and the limiter keys.
    func commit(_ event: AuditEvent, opaque: OpaqueTokenRecord? = nil, _ call: Call) async throws {
        try await committer.commit(
            PendingAudit(
                event, opaque: opaque, decidedAt: call.stateVersion, limiterKeys: call.limiterKeys,
                authenticationFailed: call.authenticationFailed))
    }

    /// The shared authorization decision on `token` (and `flow`), from the cache.
    func tokenDecision(_ token: String, flow: String?, at now: Timestamp) async throws -> AccessDecision {
        let (authority, signatures) = (authority, cache.verifiedSignatures)
        return try await cache.withState { state in
            try authority.decide(token: token, flow: flow, state: state, now: now, verifiedSignatures: signatures)
        }
    }

    // MARK: Client authentication

    /// The limiter's refusal when the client id or the caller's address has
    /// failed too often; notes the keys in `call` either way, so that a
    /// failure is counted when its audit row commits (on every server).
    func tooManyFailures(_ id: String, _ call: Call, now: Timestamp) -> TokenError? {
        let keys = ["client:" + id, "address:" + (call.remoteAddress ?? "-")]
        call.limiterKeys = keys
        guard let wait = keys.compactMap({ limiter.retryAfter($0, now: now.seconds) }).max() else { return nil }
        return TokenError(code: .tooManyRequests, reason: "too many failed authentications; retry after \(wait) s", client: nil)
    }

    /// Checks the failure limiter and the client's secret (for the
    /// introspection and revocation endpoints and HTTP Basic on the gateway).
    func authenticateClient(_ id: String, _ secret: String, _ call: Call) async throws -> Result<ClientState, TokenError> {
        let now = clock.now()
        if let refusal = tooManyFailures(id, call, now: now) { return .failure(refusal) }
        let authority = authority
        let result = try await cache.withState { state in
            authority.authenticate(clientID: id, secret: secret, client: try state.client(clientID: id), now: now)
        }
        if case .failure(let error) = result { noteFailure(error, call) }
        return result
    }

    /// Counts a refused client authentication: in the metrics now, and in the
    /// vault with the call's audit row.
    func noteFailure(_ error: TokenError, _ call: Call) {
        guard let failure = error.authenticationFailure else { return }
        call.authenticationFailed = true
        metrics.authenticationFailure(reason: failure.rawValue)
    }
}

/// One attempt at deciding a request: what the handler needs besides the
/// request, and what its client authentication noted. A reference: the
/// handler's helpers note the limiter keys on it, and `Decisions.commit`
/// reads them back. Each attempt (after a stale decision) gets a new one.
final class Call {
    let requestID: String
    let remoteAddress: String?
    let started: ContinuousClock.Instant
    /// The request body (bounded by `RequestLimitsMiddleware`).
    let body: ByteBuffer
    /// The vault state version the cache held when this attempt started.
    let stateVersion: Int64
    /// The failed-authentication limiter keys the decision checked.
    var limiterKeys: [String] = []
    /// Whether the client authentication failed: the failure is then recorded
    /// with the audit row, so that every server counts it.
    var authenticationFailed = false

    init(_ context: PirvaultRequestContext, stateVersion: Int64) {
        requestID = context.requestID
        remoteAddress = context.remoteAddress
        started = context.started
        body = context.body
        self.stateVersion = stateVersion
    }

    var latencyMicros: Int64 { (ContinuousClock.now - started).nanoseconds / 1000 }

    /// The audit event of an OAuth endpoint call, denied until the handler decides otherwise.
    func oauthEvent(_ name: AuditEventType, at time: Timestamp) -> AuditEvent {
        AuditEvent(time: time, event: name, outcome: .denied, method: "POST", remoteAddress: remoteAddress, requestID: requestID)
    }
}

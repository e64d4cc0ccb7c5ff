import Foundation
import Hummingbird
import Logging
import NIOCore
import PirvaultCore
import PirvaultCrypto
import PirvaultJSON
import Prometheus

/// `pirvault serve`: the token server and flow gateway over one vault.
///
/// Two connections to the vault: one (behind `AuthorizationCache`) reads, one
/// (behind `AuditCommitter`) writes audit rows in group commits, each on its
/// own thread. Every decision goes through `TokenAuthority`, the same code
/// `token verify` and `token issue` use.
public final class PirvaultServer: Sendable {
    let configuration: ServerConfiguration
    let authority: TokenAuthority
    let cache: AuthorizationCache
    let committer: AuditCommitter
    let limiter: FailureLimiter
    let metrics: ServerMetrics
    let logger: Logger
    let clock: Clock
    let upstream: Upstream?

    /// `metrics`: the registry `/metrics` shows (the `serve` command makes it
    /// swift-metrics' global one too, so Hummingbird's own metrics join it).
    public init(
        vault: sending Vault, configuration: ServerConfiguration, logger: Logger,
        metrics registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) throws {
        self.configuration = configuration
        self.logger = logger
        clock = vault.clock
        authority = vault.tokenAuthority(issuer: configuration.issuer)
        metrics = ServerMetrics(registry: registry)
        // A new, independent connection: nothing else holds it, whatever the
        // checker infers from it being made by `vault`.
        nonisolated(unsafe) let reader = try vault.openAnotherConnection()
        cache = try AuthorizationCache(vault: reader)
        limiter = FailureLimiter(limit: configuration.maxFailedAuthentications, windowSeconds: configuration.failureWindowSeconds)
        committer = AuditCommitter(vault: vault, limiter: limiter, metrics: metrics)
        upstream = configuration.upstream.map(Upstream.init)
    }

    /// The Hummingbird application serving every route of docs/http-api.md.
    /// The audit committer runs as one of its services: it starts with the
    /// application and, on graceful shutdown, flushes after the HTTP server
    /// has stopped. `ServerTransport` picks plain HTTP or TLS and adds the
    /// connection limits (and, with TLS, the SIGHUP certificate reloader).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let transport = ServerTransport(configuration: configuration, logger: logger)
        return Application(
            router: router(),
            server: transport.server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "pirvault",
                availableConnectionsDelegate: transport.acceptLimit),
            services: [committer] + transport.services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    func router() -> Router<PirvaultRequestContext> {
        let router = Router(context: PirvaultRequestContext.self)
        router.addMiddleware {
            RequestIDMiddleware()
            MetricsMiddleware<PirvaultRequestContext>()
            RequestMetricsMiddleware(metrics: metrics)
            ErrorMappingMiddleware(logger: logger)
            RequestLimitsMiddleware(configuration: configuration)
        }
        router.post("/oauth/token") { request, context in try await self.decide(request, context, self.token) }
        router.post("/oauth/introspect") { request, context in try await self.decide(request, context, self.introspect) }
        router.post("/oauth/revoke") { request, context in try await self.decide(request, context, self.revoke) }
        router.get("/token_keys") { _, _ in try await self.jwks() }
        router.get("/.well-known/jwks.json") { _, _ in try await self.jwks() }
        // The issuer (the tokens' `iss`) has the path /oauth/token: RFC 8414 §3.1 puts its metadata after the well-known name.
        for path in ["/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/oauth/token"] {
            router.get(RouterPath(path)) { _, _ in self.metadata().response }
        }
        router.get("/authorize") { request, context in try await self.decide(request, context, self.authorize) }
        router.get("/healthz") { _, _ in Reply.text("ok\n").response }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head, .options] {
            router.on("/http/**", method: method) { request, context in try await self.decide(request, context, self.gateway) }
        }
        return router
    }

    /// Everything a handler needs besides the request.
    struct Call {
        let requestID: String
        let remoteAddress: String?
        let started: ContinuousClock.Instant
        /// The request body (bounded by `RequestLimitsMiddleware`).
        let body: ByteBuffer
        /// The vault state version the cache held when this attempt started.
        var stateVersion: Int64 = 0
        /// What this attempt's client authentication checked.
        var authentication = AuthenticationCheck()

        var latencyMicros: Int64 { (ContinuousClock.now - started).nanoseconds / 1000 }

        /// The audit event of an OAuth endpoint call, denied until the handler decides otherwise.
        func oauthEvent(_ name: String, at time: Timestamp) -> AuditEvent {
            AuditEvent(time: time, event: name, outcome: .denied, method: "POST", remoteAddress: remoteAddress, requestID: requestID)
        }
    }

    /// Runs a deciding handler on the state version the cache holds (newer
    /// if the audit writer saw a change) and, when its decision went stale
    /// before its audit commit (a change by the CLI or another node), again
    /// on a freshly read state, a few times at most.
    func decide(
        _ request: Request, _ context: PirvaultRequestContext, _ handler: (Request, Call) async throws -> Reply
    ) async throws -> Response {
        var call = Call(requestID: context.requestID, remoteAddress: context.remoteAddress, started: context.started, body: context.body)
        var tries = 0
        while true {
            do {
                call.stateVersion = try await cache.stateVersion(
                    force: tries > 0, newer: committer.latestStateVersion.load(ordering: .acquiring))
                call.authentication = AuthenticationCheck()
                return try await handler(request, call).response
            } catch is StaleDecision where tries < 4 {
                tries += 1
            }
        }
    }
}

/// The failed-authentication limiter keys a request's decision checked, and
/// whether its client authentication failed (then the failure is recorded
/// with its audit row, so that every server counts it).
final class AuthenticationCheck {
    var limiterKeys: [String] = []
    var failed = false
}

extension PirvaultServer {
    /// Hands the answer's audit event to the group commit, with what the
    /// decision depended on: the state version and the limiter keys.
    func commit(_ event: AuditEvent, opaque: OpaqueTokenRecord? = nil, _ call: Call) async throws {
        try await committer.commit(
            PendingAudit(
                event, opaque: opaque, decidedAt: call.stateVersion, limiterKeys: call.authentication.limiterKeys,
                authenticationFailed: call.authentication.failed))
    }
}

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
/// Two connections to the vault, each a `SerializedVault` on a thread of
/// its own: one (behind `AuthorizationCache`) reads, one (behind
/// `AuditCommitter`) writes audit rows in group commits. Every decision goes
/// through `TokenAuthority`, the same code `token verify` and `token issue`
/// use.
public final class PirvaultServer: Sendable {
    let configuration: ServerConfiguration
    let decisions: Decisions
    let writer: SerializedVault
    let logger: Logger
    let upstream: Upstream?

    /// A server over `writer`, which it also writes on; it opens a second
    /// connection to read and loads what it keeps in memory before it
    /// returns. `metrics`: the registry `/metrics` shows.
    public init(
        writer: SerializedVault, configuration: ServerConfiguration, logger: Logger,
        metrics registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        self.writer = writer
        let issuer = configuration.issuer
        let (clock, authority) = try await writer.perform(until: nil) { ($0.clock, $0.tokenAuthority(issuer: issuer)) }
        let metrics = ServerMetrics(registry: registry)
        let cache = try await AuthorizationCache(
            reader: try await writer.openAnother("pirvault-reader"), timeout: configuration.vaultTimeout)
        let limiter = FailureLimiter(limit: configuration.maxFailedAuthentications, windowSeconds: configuration.failureWindowSeconds)
        let committer = AuditCommitter(
            writer: writer, limiter: limiter, metrics: metrics, timeout: configuration.vaultTimeout, clock: clock)
        decisions = Decisions(
            authority: authority, cache: cache, committer: committer, limiter: limiter, metrics: metrics, clock: clock,
            failureWindowSeconds: configuration.failureWindowSeconds)
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
            services: [decisions.committer] + transport.services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    func router() -> Router<PirvaultRequestContext> {
        let router = Router(context: PirvaultRequestContext.self)
        router.addMiddleware {
            RequestIDMiddleware()
            RequestMetricsMiddleware(metrics: decisions.metrics)
            RequestLogMiddleware(logger: logger)
            RequestLimitsMiddleware(configuration: configuration)
        }
        router.addRoutes(OAuthRoutes(decisions: decisions, writer: writer, vaultTimeout: configuration.vaultTimeout).routes)
        router.addRoutes(
            KeyRoutes(cache: decisions.cache, authority: decisions.authority, issuer: configuration.issuer).routes)
        router.addRoutes(GatewayRoutes(decisions: decisions, upstream: upstream, logger: logger).routes)
        router.addRoutes(OperationsRoutes(metrics: decisions.metrics).routes)
        return router
    }
}

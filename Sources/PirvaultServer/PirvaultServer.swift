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
    public convenience init(
        writer: SerializedVault, configuration: ServerConfiguration, logger: Logger,
        metrics registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        try await self.init(writer: writer, configuration: configuration, logger: logger, metrics: ServerMetrics(registry: registry))
    }

    init(writer: SerializedVault, configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics) async throws {
        self.configuration = configuration
        self.logger = logger
        self.writer = writer
        let issuer = configuration.issuer
        let (clock, authority) = try await writer.perform(until: nil) { ($0.clock, $0.tokenAuthority(issuer: issuer)) }
        let cache = try await AuthorizationCache(
            reader: try await writer.openAnother("pirvault-reader"), timeout: configuration.vaultTimeout)
        let limiter = FailureLimiter(limit: configuration.maxFailedAuthentications, windowSeconds: configuration.failureWindowSeconds)
        let committer = AuditCommitter(
            writer: writer, limiter: limiter, metrics: metrics, timeout: configuration.vaultTimeout, clock: clock,
            health: CommitHealth(logger: logger))
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
        Self.application(
            start: .opened(self), configuration: configuration, logger: logger, metrics: decisions.metrics,
            onServerRunning: onServerRunning) { self }
    }

    /// `serve`'s application, which listens whether or not the vault's
    /// database answers yet. `open` is tried once before this returns: a
    /// vault that opens is served at once; one whose database cannot be
    /// reached is opened again in the background while every route but
    /// `/healthz` and `/metrics` answers 503 (`VaultStartup`); any other
    /// failure is thrown here, before anything listens.
    public static func makeApplication(
        configuration: ServerConfiguration, logger: Logger, open: @escaping OpenVault,
        metrics registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let metrics = ServerMetrics(registry: registry)
        let openServer: @Sendable () async throws -> PirvaultServer = {
            let (writer, upstream) = try await open()
            var completed = configuration
            completed.upstream = upstream
            return try await PirvaultServer(writer: writer, configuration: completed, logger: logger, metrics: metrics)
        }
        let start: VaultStartup.Start
        do {
            start = .opened(try await openServer())
        } catch where VaultStartup.isUnreachable(error) {
            start = .waiting(firstProblem: error)
        }
        return application(
            start: start, configuration: configuration, logger: logger, metrics: metrics,
            onServerRunning: onServerRunning, open: openServer)
    }

    private static func application(
        start: VaultStartup.Start, configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void,
        open: @escaping @Sendable () async throws -> PirvaultServer
    ) -> some ApplicationProtocol {
        let transport = ServerTransport(configuration: configuration, logger: logger)
        let gate = VaultGate(waiting: waitingRouter(configuration: configuration, logger: logger, metrics: metrics).buildResponder())
        if case .opened(let server) = start { gate.open(server.router().buildResponder()) }
        return Application(
            responder: gate,
            server: transport.server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "pirvault",
                availableConnectionsDelegate: transport.acceptLimit),
            services: [VaultStartup(start: start, gate: gate, logger: logger, open: open)] + transport.services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The middleware every answer goes through, in order.
    private static func addMiddleware(
        to router: Router<PirvaultRequestContext>, configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics
    ) {
        router.addMiddleware {
            RequestIDMiddleware()
            RequestMetricsMiddleware(metrics: metrics)
            RequestLogMiddleware(logger: logger)
            RequestLimitsMiddleware(configuration: configuration)
        }
    }

    /// What answers before the vault is open: liveness, metrics, and 503.
    private static func waitingRouter(
        configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics
    ) -> Router<PirvaultRequestContext> {
        let router = Router(context: PirvaultRequestContext.self)
        addMiddleware(to: router, configuration: configuration, logger: logger, metrics: metrics)
        router.addMiddleware { VaultNotOpenMiddleware() }
        router.addRoutes(OperationsRoutes(metrics: metrics, readiness: nil).routes)
        return router
    }

    func router() -> Router<PirvaultRequestContext> {
        let router = Router(context: PirvaultRequestContext.self)
        Self.addMiddleware(to: router, configuration: configuration, logger: logger, metrics: decisions.metrics)
        router.addRoutes(OAuthRoutes(decisions: decisions, writer: writer, vaultTimeout: configuration.vaultTimeout).routes)
        router.addRoutes(
            KeyRoutes(cache: decisions.cache, authority: decisions.authority, issuer: configuration.issuer).routes)
        router.addRoutes(GatewayRoutes(decisions: decisions, upstream: upstream, logger: logger).routes)
        let readiness = Readiness(writer: writer, timeout: configuration.vaultTimeout, health: decisions.committer.health)
        router.addRoutes(OperationsRoutes(metrics: decisions.metrics, readiness: readiness).routes)
        return router
    }
}

import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// What carries the requests of `makeApplication`: Hummingbird's HTTP/1
/// channel with pirvault's connection guard, wrapped in HummingbirdTLS's
/// `TLSChannel` when `serve` has a certificate; the accept cap; and the
/// services that go with them (the SIGHUP certificate reloader, which
/// also keeps SIGHUP from ending a plain-HTTP server).
struct ServerTransport {
    let server: HTTPServerBuilder
    /// Hummingbird's cap: past it the server stops accepting, and clients
    /// wait in the kernel's backlog (which costs no descriptor).
    let acceptLimit: any AvailableConnectionsDelegate
    let services: [any Service]
    let tracker: ConnectionTracker

    init(configuration: ServerConfiguration, logger: Logger) {
        let limits = configuration.connections
        let tracker = ConnectionTracker(maximum: limits.maxConnections, logger: logger)
        let headerReadTimeout = TimeAmount(limits.headerReadTimeout)
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestPhaseHandler()], idleTimeout: TimeAmount(limits.idleTimeout))
        let store = configuration.tls.map(TLSCertificateStore.init)
        server = HTTPServerBuilder { responder in
            let guarded = GuardedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: http), tracker: tracker,
                headerReadTimeout: headerReadTimeout)
            guard let store else { return guarded }
            return try TLSChannel(guarded, tlsConfiguration: store.tlsConfiguration)
        }
        acceptLimit = MaximumAvailableConnections(limits.maxConnections + ConnectionLimits.refusalSlots, logger: logger)
        services = [TLSCertificateReloader(store: store, logger: logger)]
        self.tracker = tracker
    }
}

import Hummingbird
import NIOCore

/// Liveness (`/healthz`) and the Prometheus metrics (`/metrics`).
struct OperationsRoutes: Sendable {
    let metrics: ServerMetrics

    var routes: RouteCollection<PirvaultRequestContext> {
        let routes = RouteCollection(context: PirvaultRequestContext.self)
        routes.get("/healthz") { _, _ in Reply.text("ok\n").response }
        routes.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return routes
    }
}

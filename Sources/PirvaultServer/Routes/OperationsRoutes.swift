import Hummingbird
import NIOCore

/// Liveness (`/healthz`), readiness (`/readyz`) and the Prometheus metrics
/// (`/metrics`). Liveness is 200 while the process serves, whatever the
/// vault's state; readiness is 200 only while the node can commit (nil
/// `readiness`: the vault is not open yet, so never).
struct OperationsRoutes: Sendable {
    let metrics: ServerMetrics
    let readiness: Readiness?

    var routes: RouteCollection<PirvaultRequestContext> {
        let routes = RouteCollection(context: PirvaultRequestContext.self)
        routes.get("/healthz") { _, _ in Reply.text("ok\n").response }
        routes.get("/readyz") { [readiness] _, _ in
            guard let readiness, await readiness.canCommit() else { return ServiceUnavailable().reply.response }
            return Reply.text("ready\n").response
        }
        routes.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return routes
    }
}

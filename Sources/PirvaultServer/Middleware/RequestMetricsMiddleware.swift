import Hummingbird

/// `pirvault_http_requests_total{route,status}` and
/// `pirvault_http_request_duration_seconds{route}` for every answer, errors
/// included (with the status their `HTTPResponseError` gives). The route
/// label is the router's pattern (`/http/**`), never the request's path.
///
/// pirvault's own rather than Hummingbird's `MetricsMiddleware`, which
/// records through the process-wide `MetricsSystem` under OpenTelemetry's
/// names: the contract names these metrics, and each server records into
/// its own registry (so a test's server shows only its own requests).
struct RequestMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        let route = context.endpointPath ?? "unmatched"
        do {
            let response = try await next(request, context)
            metrics.request(route: route, status: Int(response.status.code), duration: .now - context.started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.request(route: route, status: Int(status.code), duration: .now - context.started)
            throw error
        }
    }
}

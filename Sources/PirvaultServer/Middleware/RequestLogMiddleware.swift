import Hummingbird
import Logging

/// Logs each answer at debug level by route pattern, status and request id,
/// never by path or query (a client may put credentials in a query string,
/// which is why Hummingbird's `LogRequestsMiddleware` is not used), and each
/// error a handler throws by its type only (its text could quote input).
/// Hummingbird's own 404 and 405 get pirvault's JSON error shape here.
/// A 503 (the vault cannot be used) is logged at debug level too: what
/// caused it is logged once, when commits start and stop failing
/// (`CommitHealth`), not once per refused request.
struct RequestLogMiddleware: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        let route = context.endpointPath ?? "-"
        do {
            let response = try await next(request, context)
            logger.debug("request", metadata: ["route": "\(route)", "request_id": "\(context.requestID)", "status": "\(response.status.code)"])
            return response
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            let reply = Reply.json(
                .object([("error", .string("not_found")), ("error_description", .string("no such route; see docs/http-api.md"))]),
                status: error.status)
            logger.debug("request", metadata: ["route": "\(route)", "request_id": "\(context.requestID)", "status": "\(error.status.code)"])
            return reply.response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let level: Logger.Level = status.code >= 500 && status != .serviceUnavailable ? .error : .debug
            logger.log(
                level: level, "request failed",
                metadata: ["route": "\(route)", "request_id": "\(context.requestID)", "status": "\(status.code)", "error": "\(type(of: error))"])
            throw error
        }
    }
}

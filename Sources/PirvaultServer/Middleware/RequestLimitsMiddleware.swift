import Hummingbird
import NIOCore

/// Bounds what a request may send before any handler looks at it: header
/// fields (431) and the body (413; the flow gateway allows more than the
/// OAuth endpoints). The body is read here, once, into the context.
struct RequestLimitsMiddleware: RouterMiddleware {
    let configuration: ServerConfiguration

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
        guard headerBytes <= configuration.maxHeaderBytes else {
            throw RequestRefused.headersTooLarge(limit: configuration.maxHeaderBytes)
        }
        let limit = request.uri.path.hasPrefix("/http/") ? configuration.maxGatewayBodyBytes : configuration.maxFormBytes
        var request = request
        var context = context
        do {
            context.body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw RequestRefused.bodyTooLarge(limit: limit)
        } catch {
            throw RequestRefused.unreadableBody
        }
        return try await next(request, context)
    }
}

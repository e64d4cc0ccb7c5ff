import Hummingbird

/// A request refused before any handler sees it, for what it sent: the
/// client's fault, answered with `invalid_request` and a reason.
enum RequestRefused: HTTPResponseError {
    case headersTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)
    /// The HTTP parser could not read the body (a broken chunked encoding).
    case unreadableBody

    var status: HTTPResponse.Status {
        switch self {
        case .headersTooLarge: .init(code: 431)
        case .bodyTooLarge: .contentTooLarge
        case .unreadableBody: .badRequest
        }
    }

    var reason: String {
        switch self {
        case .headersTooLarge(let limit): "request headers are larger than \(limit) bytes"
        case .bodyTooLarge: "request body is too large"
        case .unreadableBody: "the request body is malformed (check its chunked encoding)"
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Reply.json(.object([("error", .string("invalid_request")), ("error_description", .string(reason))]), status: status).response
    }
}

import Hummingbird
import PirvaultCore

/// What a vault failure means to an HTTP caller. The routes throw the
/// domain's errors as they are; their status is said here, once. The vault
/// or its audit log being unusable (unreachable, stalled past the deadline,
/// damaged) is 503: a request is never answered unaudited. The message is
/// not sent for those (it can name the database); a caller's own mistake
/// (bad input, an unknown or conflicting name) is told as it is, and the
/// domain's messages never hold a secret.
extension VaultError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .store, .tampered, .unlockFailed, .copyMismatch, .io: .serviceUnavailable
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        guard status != .serviceUnavailable else { return ServiceUnavailable().reply.response }
        let code = status == .badRequest ? "invalid_request" : status == .notFound ? "not_found" : "conflict"
        return Reply.json(.object([("error", .string(code)), ("reason", .string(description))]), status: status).response
    }
}

extension StaleDecision: HTTPResponseError {
    /// Decided again and again on a state that kept changing: the vault is too busy to answer now.
    var status: HTTPResponse.Status { .serviceUnavailable }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        ServiceUnavailable().reply.response
    }
}

/// The answer when the vault or its audit log cannot be used: retry later.
struct ServiceUnavailable {
    var reply: Reply {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return Reply.json(
            .object([
                ("error", .string("temporarily_unavailable")),
                ("error_description", .string("the vault or its audit log is unavailable; retry later")),
            ]),
            status: .serviceUnavailable, headers: headers)
    }
}

import Hummingbird
import PirvaultCrypto
import Synchronization

/// Gives each request an id (the caller's `X-Request-ID` when it has a
/// usable one) and returns it on the answer, so a caller can find its call
/// in the audit log. A made-up id is this server's random prefix and a
/// counter: unique across servers and restarts without a random draw per
/// request (an id names a call; it proves nothing, so it need not be secret).
/// An answer that a thrown `HTTPResponseError` makes carries it too.
final class RequestIDMiddleware: RouterMiddleware, Sendable {
    private let prefix = PublicBase64.encode(SecureRandom.bytes(9), .urlSafeNoPadding) + "-"
    private let counter = Atomic<Int>(0)

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.requestID =
            request.headers[.requestID].flatMap { $0.count <= 64 ? $0 : nil }
            ?? prefix + String(counter.add(1, ordering: .relaxed).newValue)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.requestID] = context.requestID
        return response
    }
}

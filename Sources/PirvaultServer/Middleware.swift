import Hummingbird
import Logging
import NIOCore
import PirvaultCrypto
import PirvaultJSON
import Synchronization

/// Each request's context: Hummingbird's, plus what pirvault's middleware
/// sets: the caller's address, the request id, when the request arrived,
/// and its body (read once, bounded).
public struct PirvaultRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?
    public let started = ContinuousClock.now
    /// From `X-Request-ID` (at most 64 characters) or made up; `RequestIDMiddleware` sets it.
    public var requestID = ""
    /// The whole request body; `RequestLimitsMiddleware` reads it.
    public var body = ByteBuffer()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// Gives each request an id (the caller's `X-Request-ID` when it has a
/// usable one) and returns it on the answer, so a caller can find its call
/// in the audit log. A made-up id is this server's random prefix and a
/// counter: unique across servers and restarts without a random draw per
/// request (an id names a call; it proves nothing, so it need not be secret).
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
        var response = try await next(request, context)
        response.headers[.requestID] = context.requestID
        return response
    }
}

/// `pirvault_http_requests_total{route,status}` and
/// `pirvault_http_request_duration_seconds{route}`. The route label is the
/// router's pattern (`/http/**`), never the request's path.
struct RequestMetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        metrics.request(
            route: context.endpointPath ?? "unmatched", status: Int(response.status.code),
            duration: ContinuousClock.now - context.started)
        return response
    }
}

/// Turns every error a handler throws into its answer, so no request ends
/// in Hummingbird's generic 500: a body too large (413) or unreadable (400),
/// an unknown route (404), and anything else, which means the vault or its
/// audit log could not be used, as 503 (logged by type, never with its text,
/// which could hold input). Logs each answer at debug level without its
/// path or query (a client may put credentials there).
struct ErrorMappingMiddleware: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch is NIOTooManyBytesError {
            response = Reply.invalidRequest("request body is too large", status: .contentTooLarge).response
        } catch is UnreadableBody {
            response = Reply.invalidRequest("the request body is malformed (check its chunked encoding)", status: .badRequest).response
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            response = Reply.json(
                .object([("error", .string("not_found")), ("error_description", .string("no such route; see docs/http-api.md"))]),
                status: error.status
            ).response
        } catch {
            logger.error(
                "request failed",
                metadata: ["route": "\(context.endpointPath ?? "-")", "request_id": "\(context.requestID)", "error": "\(type(of: error))"])
            response = Reply.json(
                .object([
                    ("error", .string("temporarily_unavailable")),
                    ("error_description", .string("the vault or its audit log is unavailable; retry later")),
                ]),
                status: .serviceUnavailable
            ).response
        }
        logger.debug(
            "request",
            metadata: ["route": "\(context.endpointPath ?? "-")", "request_id": "\(context.requestID)", "status": "\(response.status.code)"])
        return response
    }
}

/// A request body the HTTP parser could not read (a broken chunked
/// encoding): the client's fault, a 400, not the vault's 503.
struct UnreadableBody: Error {}

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
            return Reply.invalidRequest(
                "request headers are larger than \(configuration.maxHeaderBytes) bytes", status: .init(code: 431)
            ).response
        }
        let limit =
            request.uri.path.hasPrefix("/http/") ? configuration.maxGatewayBodyBytes : configuration.maxFormBytes
        var request = request
        var context = context
        do {
            context.body = try await request.collectBody(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch {
            throw UnreadableBody()
        }
        return try await next(request, context)
    }
}

extension HTTPFields.Element.Name {
    static let requestID = Self("X-Request-ID")!
    static let originalURI = Self("X-Original-URI")!
    static let originalMethod = Self("X-Original-Method")!
    static let pragma = Self("Pragma")!
}

/// A response before Hummingbird's types: status, headers, body.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(status: HTTPResponse.Status, headers: HTTPFields, body: String) {
        self.init(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Reply {
        var all = headers
        all[.contentType] = "application/json"
        all[.cacheControl] = "no-store"
        all[.pragma] = "no-cache"
        return Reply(status: status, headers: all, body: value.compactString() + "\n")
    }

    static func invalidRequest(_ description: String, status: HTTPResponse.Status) -> Reply {
        .json(.object([("error", .string("invalid_request")), ("error_description", .string(description))]), status: status)
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Reply {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Reply(status: .ok, headers: headers, body: text)
    }

    var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

import Foundation
import Hummingbird
import Logging
import NIOCore
import PirvaultCore
import PirvaultCrypto
import PirvaultJSON

/// Each request's context: Hummingbird's, plus the caller's address for the audit trail.
public struct PirvaultRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// `pirvault serve`: the token server and flow gateway over one vault.
///
/// Two connections to the vault: one (behind `AuthorizationCache`) reads, one
/// (behind `AuditCommitter`) writes audit rows in group commits. Every
/// decision goes through `TokenAuthority`, the same code `token verify` uses.
public final class PirvaultServer: Sendable {
    let configuration: ServerConfiguration
    let authority: TokenAuthority
    let cache: AuthorizationCache
    let committer: AuditCommitter
    let limiter: FailureLimiter
    let metrics = Metrics()
    let logger: Logger
    let clock: Clock
    let vaultID: String
    let upstream: Upstream?

    public init(vault: sending Vault, configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        clock = vault.clock
        vaultID = vault.vaultID
        authority = vault.tokenAuthority(issuer: configuration.issuer)
        // A new, independent connection: nothing else holds it, whatever the
        // checker infers from it being made by `vault`.
        nonisolated(unsafe) let reader = try vault.openAnotherConnection()
        cache = try AuthorizationCache(vault: reader)
        limiter = FailureLimiter(limit: configuration.maxFailedAuthentications, windowSeconds: configuration.failureWindowSeconds)
        committer = AuditCommitter(vault: vault, limiter: limiter)
        upstream = configuration.upstream.map(Upstream.init)
    }

    /// The Hummingbird application serving every route of docs/http-api.md.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "pirvault"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Commits the audit rows still waiting and stops the writer; call after the application has stopped.
    public func shutdown() {
        committer.shutdown()
        logger.info("audit log flushed; stopped")
    }

    func router() -> Router<PirvaultRequestContext> {
        let router = Router(context: PirvaultRequestContext.self)
        router.post("/oauth/token") { request, context in await self.handle("token", request, context, self.token) }
        router.post("/oauth/introspect") { request, context in await self.handle("introspect", request, context, self.introspect) }
        router.post("/oauth/revoke") { request, context in await self.handle("revoke", request, context, self.revoke) }
        router.get("/token_keys") { request, context in await self.handle("jwks", request, context, self.jwks) }
        router.get("/.well-known/jwks.json") { request, context in await self.handle("jwks", request, context, self.jwks) }
        router.get("/.well-known/oauth-authorization-server") { request, context in
            await self.handle("metadata", request, context, self.metadata)
        }
        router.get("/authorize") { request, context in await self.handle("authorize", request, context, self.authorize) }
        router.get("/healthz") { request, context in await self.handle("healthz", request, context) { _, _ in .text("ok\n") } }
        router.get("/metrics") { request, context in
            await self.handle("metrics", request, context) { _, _ in .text(self.metrics.render(), contentType: "text/plain; version=0.0.4") }
        }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head, .options] {
            router.on("/http/**", method: method) { request, context in
                await self.handle("gateway", request, context, bodyLimit: self.configuration.maxGatewayBodyBytes, self.gateway)
            }
        }
        return router
    }

    /// A request body the HTTP parser could not read (a broken chunked
    /// encoding): the client's fault, a 400, not the vault's 503.
    struct UnreadableBody: Error {}

    /// The request body, at most `limit` bytes (beyond that NIOTooManyBytesError, a 413).
    func collectBody(_ request: inout Request, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch {
            throw UnreadableBody()
        }
    }

    /// Everything a handler needs besides the request.
    struct Call {
        let requestID: String
        let remoteAddress: String?
        let started: ContinuousClock.Instant
        /// The vault state version the cache held when this attempt started.
        var stateVersion: Int64 = 0
        /// What this attempt's client authentication checked.
        var authentication = AuthenticationCheck()

        var latencyMicros: Int64 {
            let elapsed = ContinuousClock.now - started
            return elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        }

        /// The audit event of an OAuth endpoint call, denied until the handler decides otherwise.
        func oauthEvent(_ name: String, at time: Timestamp) -> AuditEvent {
            AuditEvent(time: time, event: name, outcome: .denied, method: "POST", remoteAddress: remoteAddress, requestID: requestID)
        }
    }

    /// Common request handling: limits, the cache refresh, latency metrics,
    /// and 503 when the vault (or its audit log) cannot be used. The body is
    /// read once up front (at most `bodyLimit` bytes), so that a request
    /// whose decision went stale before its audit commit can be decided again.
    func handle(
        _ route: String, _ request: Request, _ context: PirvaultRequestContext, bodyLimit: Int? = nil,
        _ body: (Request, Call) async throws -> Reply
    ) async -> Response {
        var request = request
        var call = Call(
            requestID: request.headers[.requestID].flatMap { $0.count <= 64 ? $0 : nil }
                ?? PublicBase64.encode(SecureRandom.bytes(12), .urlSafeNoPadding),
            remoteAddress: context.remoteAddress, started: .now)
        let reply: Reply
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
        if headerBytes > configuration.maxHeaderBytes {
            reply = .json(.object([("error", .string("invalid_request")), ("error_description", .string("request headers are larger than \(configuration.maxHeaderBytes) bytes"))]), status: .init(code: 431))
        } else {
            do {
                _ = try await collectBody(&request, upTo: bodyLimit ?? configuration.maxFormBytes)
                reply = try await decideAgainWhenStale { force in
                    call.stateVersion = try cache.refresh(force: force)
                    call.authentication = AuthenticationCheck()
                    return try await body(request, call)
                }
            } catch is NIOTooManyBytesError {
                reply = .json(.object([("error", .string("invalid_request")), ("error_description", .string("request body is too large"))]), status: .contentTooLarge)
            } catch is UnreadableBody {
                reply = .json(.object([("error", .string("invalid_request")), ("error_description", .string("the request body is malformed (check its chunked encoding)"))]), status: .badRequest)
            } catch {
                logger.error("request failed", metadata: ["route": "\(route)", "request_id": "\(call.requestID)", "error": "\(type(of: error))"])
                reply = .json(.object([("error", .string("temporarily_unavailable")), ("error_description", .string("the vault or its audit log is unavailable; retry later"))]), status: .serviceUnavailable)
            }
        }
        let seconds = Double(call.latencyMicros) / 1e6
        metrics.observe(route: route, seconds: seconds)
        logger.debug("request", metadata: ["route": "\(route)", "request_id": "\(call.requestID)", "status": "\(reply.status.code)"])
        var response = reply.response
        response.headers[.requestID] = call.requestID
        return response
    }
}

/// The failed-authentication limiter keys a request's decision checked, and
/// whether its client authentication failed (then the failure is recorded
/// with its audit row, so that every server counts it).
final class AuthenticationCheck {
    var limiterKeys: [String] = []
    var failed = false
}

extension PirvaultServer {
    /// Hands the answer's audit event to the group commit, with what the
    /// decision depended on: the state version and the limiter keys.
    func commit(_ event: AuditEvent, opaque: OpaqueTokenRecord? = nil, _ call: Call) async throws {
        try await committer.commit(
            PendingAudit(
                event, opaque: opaque, decidedAt: call.stateVersion, limiterKeys: call.authentication.limiterKeys,
                authenticationFailed: call.authentication.failed))
    }

    /// Runs `attempt`; when its decision went stale before the audit commit
    /// (a change by the CLI or another node), runs it again on a freshly
    /// read state, a few times at most.
    func decideAgainWhenStale(_ attempt: (_ forceRefresh: Bool) async throws -> Reply) async throws -> Reply {
        var tries = 0
        while true {
            do {
                return try await attempt(tries > 0)
            } catch is StaleDecision where tries < 4 {
                tries += 1
            }
        }
    }
}

extension HTTPFields.Element.Name {
    static let requestID = Self("X-Request-ID")!
    static let originalURI = Self("X-Original-URI")!
    static let originalMethod = Self("X-Original-Method")!
    static let pragma = Self("Pragma")!
}

/// A response before Hummingbird's types: status, headers, body.
struct Reply {
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

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Reply {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Reply(status: .ok, headers: headers, body: text)
    }

    var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

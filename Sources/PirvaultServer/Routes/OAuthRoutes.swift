import Foundation
import Hummingbird
import PirvaultCore
import PirvaultHTTP
import PirvaultJSON

/// `POST /oauth/token` (client_credentials), `/oauth/introspect` (RFC 7662)
/// and `/oauth/revoke` (RFC 7009). Each answer is audited before it is sent.
struct OAuthRoutes: Sendable {
    let decisions: Decisions
    /// Where a revocation is written (the audit committer's connection).
    let writer: SerializedVault
    let vaultTimeout: Duration

    var routes: RouteCollection<PirvaultRequestContext> {
        let routes = RouteCollection(context: PirvaultRequestContext.self)
        routes.post("/oauth/token") { request, context in try await decisions.decide(request, context, token) }
        routes.post("/oauth/introspect") { request, context in try await decisions.decide(request, context, introspect) }
        routes.post("/oauth/revoke") { request, context in try await decisions.decide(request, context, revoke) }
        return routes
    }

    // MARK: POST /oauth/token

    /// Parses the request, then answers it through `TokenAuthority.answer`,
    /// the token path `pirvault token issue` takes too.
    func token(_ request: Request, _ call: Call) async throws -> Reply {
        let now = decisions.clock.now()
        func refuse(_ code: OAuthErrorCode, _ reason: String, clientID: String? = nil) async throws -> Reply {
            try await answer(TokenAnswer(.failure(TokenError(code: code, reason: reason, client: nil)), presentedClientID: clientID, at: now), call)
        }
        let tokenRequest: TokenRequest
        do {
            let form = try formParameters(request, call)
            guard let credentials = try clientCredentials(request, form) else {
                return try await refuse(.invalidClient, "no client credentials (HTTP Basic or client_id/client_secret)")
            }
            guard let grantType = try form.single("grant_type") else {
                return try await refuse(.invalidRequest, "grant_type is missing", clientID: credentials.id)
            }
            var format: TokenFormat? = nil
            if let text = try form.single("token_format") {
                guard let parsed = TokenFormat(rawValue: text) else {
                    return try await refuse(.invalidRequest, "token_format must be jwt or opaque", clientID: credentials.id)
                }
                format = parsed
            }
            tokenRequest = TokenRequest(
                clientID: credentials.id, secret: credentials.secret, scopes: try form.single("scope").map { [$0] } ?? [],
                format: format, grantType: grantType)
        } catch let invalid as FormData.Invalid {
            return try await refuse(.invalidRequest, invalid.description)
        }
        if let refusal = decisions.tooManyFailures(tokenRequest.clientID, call, now: now) {
            return try await answer(TokenAnswer(.failure(refusal), presentedClientID: tokenRequest.clientID, at: now), call)
        }
        let (authority, signer) = (decisions.authority, try decisions.cache.signer(at: now))
        let decided = try await decisions.cache.withState { state in
            authority.answer(tokenRequest, client: try state.client(clientID: tokenRequest.clientID), signer: signer, now: now)
        }
        return try await answer(decided, call)
    }

    /// Audits a token request's answer and sends it.
    private func answer(_ answer: TokenAnswer, _ call: Call) async throws -> Reply {
        var event = answer.event
        event.method = "POST"
        event.remoteAddress = call.remoteAddress
        event.requestID = call.requestID
        switch answer.result {
        case .success(let issued):
            event.status = 200
            event.latencyMicros = call.latencyMicros
            try await decisions.commit(event, opaque: issued.opaqueRecord, call)
            decisions.metrics.tokenIssued(customer: issued.client.customer, format: issued.format.rawValue)
            return .json(issued.jsonObject)
        case .failure(let error):
            decisions.noteFailure(error, call)
            let reply = oauthError(error.code, error.publicDescription)
            event.status = Int(reply.status.code)
            event.latencyMicros = call.latencyMicros
            try await decisions.commit(event, call)
            return reply
        }
    }

    // MARK: POST /oauth/introspect (RFC 7662)

    func introspect(_ request: Request, _ call: Call) async throws -> Reply {
        var event = call.oauthEvent(.tokenIntrospect, at: decisions.clock.now())
        let caller: ClientState
        let decision: AccessDecision
        switch try await authenticatedTokenCall(request, call, &event) {
        case .refused(let reply): return reply
        case .ready(let client, let decided): (caller, decision) = (client, decided)
        }
        // A client sees only its own customer's tokens; every other answer is "inactive".
        guard let verified = decision.token, decision.isAllowed, verified.client.customer == caller.customer else {
            event.reason = decision.token.map { $0.client.customer == caller.customer ? decision.reason : "token of another customer" } ?? decision.reason
            event.outcome = .allowed
            try await decisions.commit(event, call)
            return .json(.object([("active", .bool(false))]))
        }
        event.outcome = .allowed
        event.reason = "active token of instance \(verified.client.name)"
        event.jti = verified.jti
        try await decisions.commit(event, call)
        return .json(
            .object([
                ("active", .bool(true)), ("scope", .string(verified.scope.joined(separator: " "))),
                ("client_id", .string(verified.clientID)), ("token_type", .string("Bearer")),
                ("exp", .integer(verified.expiresAt)), ("sub", .string(verified.clientID)),
                ("aud", JSONValue([verified.clientID, verified.client.xsappname])),
                ("iss", .string(decisions.authority.issuerClaim)), ("jti", .string(verified.jti)),
                ("ext_attr", .object([("customer", .string(verified.client.customer)), ("instance", .string(verified.client.name)), ("plan", .string(verified.client.plan.rawValue))])),
            ]))
    }

    // MARK: POST /oauth/revoke (RFC 7009)

    func revoke(_ request: Request, _ call: Call) async throws -> Reply {
        var event = call.oauthEvent(.tokenRevoke, at: decisions.clock.now())
        let caller: ClientState
        let decision: AccessDecision
        switch try await authenticatedTokenCall(request, call, &event) {
        case .refused(let reply): return reply
        case .ready(let client, let decided): (caller, decision) = (client, decided)
        }
        guard let verified = decision.token else {
            // RFC 7009 §2.2: an invalid or unknown token is answered with 200.
            event.outcome = .allowed
            event.reason = "nothing to revoke: \(decision.reason)"
            try await decisions.commit(event, call)
            return .json(.object([]))
        }
        guard verified.clientID == caller.clientID else {
            event.reason = "the token belongs to another client"
            event.jti = verified.jti
            try await decisions.commit(event, call)
            return oauthError(.unauthorizedClient, "a client may revoke only its own tokens")
        }
        let (requestID, remoteAddress) = (call.requestID, call.remoteAddress)
        try await writer.perform(until: .now + vaultTimeout) { vault in
            try vault.revoke(verified, reason: "revoked by its client (RFC 7009)", requestID: requestID, remoteAddress: remoteAddress)
        }
        return .json(.object([]))
    }

    // MARK: What the three share

    /// RFC 6749 §5.2 error response (429 with `Retry-After` past the failure limit).
    func oauthError(_ code: OAuthErrorCode, _ description: String) -> Reply {
        var headers = HTTPFields()
        let status: HTTPResponse.Status
        switch code {
        case .invalidClient:
            status = .unauthorized
            headers[.wwwAuthenticate] = "Basic realm=\"pirvault\", charset=\"UTF-8\""
        case .tooManyRequests:
            status = .tooManyRequests
            headers[.retryAfter] = String(decisions.failureWindowSeconds)
        case .invalidRequest, .unauthorizedClient, .unsupportedGrantType, .invalidScope:
            status = .badRequest
        }
        return .json(.object([("error", .string(code.rawValue)), ("error_description", .string(description))]), status: status, headers: headers)
    }

    /// The form parameters of a POST: body (form-urlencoded only) and query string.
    private func formParameters(_ request: Request, _ call: Call) throws -> FormData {
        var form = try FormData(Substring(request.uri.query ?? ""))
        if call.body.readableBytes > 0 {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/x-www-form-urlencoded") else {
                throw FormData.Invalid(description: "the body must be application/x-www-form-urlencoded")
            }
            guard let text = String(validating: call.body.readableBytesView, as: UTF8.self) else {
                throw FormData.Invalid(description: "the body is not valid UTF-8")
            }
            form.merge(try FormData(Substring(text)))
        }
        return form
    }

    /// Client credentials from HTTP Basic or the `client_id`/`client_secret` form fields (not both).
    private func clientCredentials(_ request: Request, _ form: FormData) throws -> (id: String, secret: String)? {
        let postID = try form.single("client_id")
        let postSecret = try form.single("client_secret")
        if let header = request.headers[.authorization] {
            guard postSecret == nil else {
                throw FormData.Invalid(description: "use one client authentication method, not both HTTP Basic and client_secret")
            }
            guard let basic = FormData.basicCredentials(header) else {
                throw FormData.Invalid(description: "the Authorization header is not valid HTTP Basic")
            }
            if let postID, postID != basic.id { throw FormData.Invalid(description: "client_id differs from the HTTP Basic user") }
            return basic
        }
        guard let id = postID, let secret = postSecret else { return nil }
        return (id, secret)
    }

    /// What introspection and revocation share: an authenticated client and
    /// the decision on its `token` parameter, or the refusal to send (already audited).
    private enum TokenCall {
        case refused(Reply)
        case ready(caller: ClientState, decision: AccessDecision)
    }

    private func authenticatedTokenCall(_ request: Request, _ call: Call, _ event: inout AuditEvent) async throws -> TokenCall {
        func refuse(_ code: OAuthErrorCode, _ reason: String, description: String? = nil) async throws -> TokenCall {
            event.reason = "\(code): \(reason)"
            try await decisions.commit(event, call)
            return .refused(oauthError(code, description ?? reason))
        }
        let credentials: (id: String, secret: String)?
        let token: String?
        do {
            let form = try formParameters(request, call)
            credentials = try clientCredentials(request, form)
            token = try form.single("token")
        } catch let invalid as FormData.Invalid {
            return try await refuse(.invalidRequest, invalid.description)
        }
        guard let credentials else {
            return try await refuse(.invalidClient, "no client credentials", description: "client authentication failed")
        }
        switch try await decisions.authenticateClient(credentials.id, credentials.secret, call) {
        case .failure(let error):
            event.customer = error.client?.customer
            event.instance = error.client?.name
            event.clientID = error.client?.clientID ?? AuditEvent.untrusted(credentials.id)
            return try await refuse(error.code, error.reason, description: error.publicDescription)
        case .success(let caller):
            event.customer = caller.customer
            event.instance = caller.name
            event.clientID = caller.clientID
            guard let token else { return try await refuse(.invalidRequest, "token is missing") }
            let decision = try await decisions.tokenDecision(token, flow: nil, at: event.time)
            return .ready(caller: caller, decision: decision)
        }
    }
}

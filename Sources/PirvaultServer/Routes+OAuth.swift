import Foundation
import Hummingbird
import PirvaultCore
import PirvaultHTTP
import PirvaultJSON

extension PirvaultServer {
    /// RFC 6749 §5.2 error response.
    func oauthError(_ code: String, _ description: String) -> Reply {
        let status: HTTPResponse.Status = code == "invalid_client" ? .unauthorized : code == Self.tooManyRequests ? .tooManyRequests : .badRequest
        var headers = HTTPFields()
        if code == "invalid_client" { headers[.wwwAuthenticate] = "Basic realm=\"pirvault\", charset=\"UTF-8\"" }
        return .json(.object([("error", .string(code)), ("error_description", .string(description))]), status: status, headers: headers)
    }

    /// The form parameters of a POST: body (form-urlencoded only) and query string.
    func formParameters(_ request: Request, _ call: Call) throws -> FormData {
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
    func clientCredentials(_ request: Request, _ form: FormData) throws -> (id: String, secret: String)? {
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

    /// What the failed-authentication limit counts: the client id and the caller's address.
    func limiterKeys(_ id: String, _ call: Call) -> [String] {
        ["client:" + id, "address:" + (call.remoteAddress ?? "-")]
    }

    /// The limiter's refusal when the client id or the caller's address has
    /// failed too often; notes the keys in `call` either way, so that a
    /// failure is counted when its audit row commits (on every server).
    func tooManyFailures(_ id: String, _ call: Call, now: Timestamp) -> TokenError? {
        let keys = limiterKeys(id, call)
        call.authentication.limiterKeys = keys
        guard let wait = keys.compactMap({ limiter.retryAfter($0, now: now.seconds) }).max() else { return nil }
        return TokenError(code: Self.tooManyRequests, reason: "too many failed authentications; retry after \(wait) s", client: nil)
    }

    /// Checks the failure limiter and the client's secret (for the
    /// introspection and revocation endpoints and HTTP Basic on the gateway).
    func authenticateClient(_ id: String, _ secret: String, _ call: Call) async throws -> Result<ClientState, TokenError> {
        let now = clock.now()
        if let refusal = tooManyFailures(id, call, now: now) { return .failure(refusal) }
        let authority = authority
        let result = try await cache.withState { state in
            authority.authenticate(clientID: id, secret: secret, client: try state.client(clientID: id), now: now)
        }
        if case .failure(let error) = result { noteFailure(error, call) }
        return result
    }

    /// Counts a refused client authentication: in the metrics now, and in the
    /// vault with the call's audit row.
    func noteFailure(_ error: TokenError, _ call: Call) {
        guard let failure = error.authenticationFailure else { return }
        call.authentication.failed = true
        metrics.authenticationFailure(reason: failure.rawValue)
    }

    static let tooManyRequests = "too_many_requests"

    func retryAfterHeader(_ error: TokenError) -> HTTPFields {
        guard error.code == Self.tooManyRequests else { return [:] }
        var headers = HTTPFields()
        headers[.retryAfter] = String(configuration.failureWindowSeconds)
        return headers
    }

    // MARK: POST /oauth/token

    /// Parses the request, then answers it through `TokenAuthority.answer`,
    /// the token path `pirvault token issue` takes too.
    func token(_ request: Request, _ call: Call) async throws -> Reply {
        let now = clock.now()
        func refuse(_ code: String, _ reason: String, clientID: String? = nil) async throws -> Reply {
            try await answer(TokenAnswer(.failure(TokenError(code: code, reason: reason, client: nil)), presentedClientID: clientID, at: now), call)
        }
        let tokenRequest: TokenRequest
        do {
            let form = try formParameters(request, call)
            guard let credentials = try clientCredentials(request, form) else {
                return try await refuse("invalid_client", "no client credentials (HTTP Basic or client_id/client_secret)")
            }
            guard let grantType = try form.single("grant_type") else {
                return try await refuse("invalid_request", "grant_type is missing", clientID: credentials.id)
            }
            var format: TokenFormat? = nil
            if let text = try form.single("token_format") {
                guard let parsed = TokenFormat(rawValue: text) else {
                    return try await refuse("invalid_request", "token_format must be jwt or opaque", clientID: credentials.id)
                }
                format = parsed
            }
            tokenRequest = TokenRequest(
                clientID: credentials.id, secret: credentials.secret, scopes: try form.single("scope").map { [$0] } ?? [],
                format: format, grantType: grantType)
        } catch let invalid as FormData.Invalid {
            return try await refuse("invalid_request", invalid.description)
        }
        if let refusal = tooManyFailures(tokenRequest.clientID, call, now: now) {
            return try await answer(TokenAnswer(.failure(refusal), presentedClientID: tokenRequest.clientID, at: now), call)
        }
        let (authority, signer) = (authority, cache.signer)
        let decided = try await cache.withState { state in
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
            try await commit(event, opaque: issued.opaqueRecord, call)
            metrics.tokenIssued(customer: issued.client.customer, format: issued.format.rawValue)
            return .json(issued.jsonObject)
        case .failure(let error):
            noteFailure(error, call)
            var reply = oauthError(error.code, error.publicDescription)
            for field in retryAfterHeader(error) { reply.headers.append(field) }
            event.status = Int(reply.status.code)
            event.latencyMicros = call.latencyMicros
            try await commit(event, call)
            return reply
        }
    }

    /// What introspection and revocation share: an authenticated client and
    /// the decision on its `token` parameter, or the refusal to send (already audited).
    enum TokenCall {
        case refused(Reply)
        case ready(caller: ClientState, decision: AccessDecision)
    }

    func authenticatedTokenCall(_ request: Request, _ call: Call, _ event: inout AuditEvent) async throws -> TokenCall {
        func refuse(_ code: String, _ reason: String, description: String? = nil, headers: HTTPFields = [:]) async throws -> TokenCall {
            event.reason = "\(code): \(reason)"
            try await commit(event, call)
            var reply = oauthError(code, description ?? reason)
            for field in headers { reply.headers.append(field) }
            return .refused(reply)
        }
        let credentials: (id: String, secret: String)?
        let token: String?
        do {
            let form = try formParameters(request, call)
            credentials = try clientCredentials(request, form)
            token = try form.single("token")
        } catch let invalid as FormData.Invalid {
            return try await refuse("invalid_request", invalid.description)
        }
        guard let credentials else {
            return try await refuse("invalid_client", "no client credentials", description: "client authentication failed")
        }
        switch try await authenticateClient(credentials.id, credentials.secret, call) {
        case .failure(let error):
            event.customer = error.client?.customer
            event.instance = error.client?.name
            event.clientID = error.client?.clientID ?? AuditEvent.untrusted(credentials.id)
            return try await refuse(
                error.code, error.reason, description: error.code == "invalid_client" ? "client authentication failed" : nil,
                headers: retryAfterHeader(error))
        case .success(let caller):
            event.customer = caller.customer
            event.instance = caller.name
            event.clientID = caller.clientID
            guard let token else { return try await refuse("invalid_request", "token is missing") }
            let decision = try await tokenDecision(token, flow: nil, at: event.time)
            return .ready(caller: caller, decision: decision)
        }
    }

    // MARK: POST /oauth/introspect (RFC 7662)

    func introspect(_ request: Request, _ call: Call) async throws -> Reply {
        var event = call.oauthEvent("token.introspect", at: clock.now())
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
            try await commit(event, call)
            return .json(.object([("active", .bool(false))]))
        }
        event.outcome = .allowed
        event.reason = "active token of instance \(verified.client.name)"
        event.jti = verified.jti
        try await commit(event, call)
        return .json(
            .object([
                ("active", .bool(true)), ("scope", .string(verified.scope.joined(separator: " "))),
                ("client_id", .string(verified.clientID)), ("token_type", .string("Bearer")),
                ("exp", .integer(verified.expiresAt)), ("sub", .string(verified.clientID)),
                ("aud", JSONValue([verified.clientID, verified.client.xsappname])), ("iss", .string(authority.issuerClaim)),
                ("jti", .string(verified.jti)),
                ("ext_attr", .object([("customer", .string(verified.client.customer)), ("instance", .string(verified.client.name)), ("plan", .string(verified.client.plan.rawValue))])),
            ]))
    }

    // MARK: POST /oauth/revoke (RFC 7009)

    func revoke(_ request: Request, _ call: Call) async throws -> Reply {
        var event = call.oauthEvent("token.revoke", at: clock.now())
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
            try await commit(event, call)
            return .json(.object([]))
        }
        guard verified.clientID == caller.clientID else {
            event.reason = "the token belongs to another client"
            event.jti = verified.jti
            try await commit(event, call)
            return oauthError("unauthorized_client", "a client may revoke only its own tokens")
        }
        let (requestID, remoteAddress) = (call.requestID, call.remoteAddress)
        try await writer.perform(until: .now + configuration.vaultTimeout) { vault in
            try vault.revoke(verified, reason: "revoked by its client (RFC 7009)", requestID: requestID, remoteAddress: remoteAddress)
        }
        return .json(.object([]))
    }

    // MARK: Keys and metadata

    func jwks() async throws -> Response {
        // Not audited, so no commit confirms the state: read it now.
        _ = try await cache.stateVersion(force: true, newer: .min)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "public, max-age=60"
        return Reply(status: .ok, headers: headers, body: cache.jwks + "\n").response
    }

    /// RFC 8414 authorization server metadata.
    func metadata() -> Reply {
        let base = configuration.issuer
        return .json(
            .object([
                ("issuer", .string(authority.issuerClaim)),
                ("token_endpoint", .string(base + "/oauth/token")),
                ("jwks_uri", .string(base + "/token_keys")),
                ("introspection_endpoint", .string(base + "/oauth/introspect")),
                ("revocation_endpoint", .string(base + "/oauth/revoke")),
                ("grant_types_supported", JSONValue(["client_credentials"])),
                ("response_types_supported", JSONValue([])),
                ("token_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
                ("introspection_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
                ("revocation_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
                ("token_endpoint_auth_signing_alg_values_supported", JSONValue(["EdDSA"])),
            ]))
    }
}

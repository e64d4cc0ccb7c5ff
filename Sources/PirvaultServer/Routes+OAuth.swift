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
    func formParameters(_ request: Request) async throws -> FormData {
        var request = request
        let body = try await collectBody(&request, upTo: configuration.maxFormBytes)
        var form = try FormData(Substring(request.uri.query ?? ""))
        if body.readableBytes > 0 {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/x-www-form-urlencoded") else {
                throw FormData.Invalid(description: "the body must be application/x-www-form-urlencoded")
            }
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
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

    /// Checks the failure limiter and the secret, and notes both in `call`:
    /// a failure is counted when its audit row commits, so that every server
    /// of the vault counts it.
    func authenticateClient(_ id: String, _ secret: String, _ call: Call) throws -> Result<ClientState, TokenError> {
        let now = clock.now()
        let keys = limiterKeys(id, call)
        call.authentication.limiterKeys = keys
        if let wait = keys.compactMap({ limiter.retryAfter($0, now: now.seconds) }).max() {
            return .failure(TokenError(code: Self.tooManyRequests, reason: "too many failed authentications; retry after \(wait) s", client: nil))
        }
        let result = authority.authenticate(clientID: id, secret: secret, client: try cache.client(clientID: id), now: now)
        if case .failure = result { call.authentication.failed = true }
        return result
    }

    static let tooManyRequests = "too_many_requests"

    func retryAfterHeader(_ error: TokenError) -> HTTPFields {
        guard error.code == Self.tooManyRequests else { return [:] }
        var headers = HTTPFields()
        headers[.retryAfter] = String(configuration.failureWindowSeconds)
        return headers
    }

    // MARK: POST /oauth/token

    func token(_ request: Request, _ call: Call) async throws -> Reply {
        let now = clock.now()
        var event = call.oauthEvent("token.issue", at: now)
        func deny(_ code: String, _ reason: String, client: ClientState?, headers: HTTPFields = [:]) async throws -> Reply {
            var reply = oauthError(code, code == "invalid_client" ? "client authentication failed" : reason)
            for field in headers { reply.headers.append(field) }
            event.reason = "\(code): \(reason)"
            event.customer = client?.customer
            event.instance = client?.name
            event.clientID = client?.clientID
            event.status = Int(reply.status.code)
            event.latencyMicros = call.latencyMicros
            try await commit(event, call)
            metrics.increment("pirvault_token_requests_total", [("outcome", code)])
            return reply
        }
        let form: FormData
        let credentials: (id: String, secret: String)?
        let grantType: String?
        let scope: String?
        let format: String?
        do {
            form = try await formParameters(request)
            credentials = try clientCredentials(request, form)
            grantType = try form.single("grant_type")
            scope = try form.single("scope")
            format = try form.single("token_format")
        } catch let invalid as FormData.Invalid {
            return try await deny("invalid_request", invalid.description, client: nil)
        }
        guard let credentials else {
            return try await deny("invalid_client", "no client credentials (HTTP Basic or client_id/client_secret)", client: nil)
        }
        guard let grantType else { return try await deny("invalid_request", "grant_type is missing", client: nil) }
        var tokenFormat: TokenFormat? = nil
        if let format {
            guard let parsed = TokenFormat(rawValue: format) else {
                return try await deny("invalid_request", "token_format must be jwt or opaque", client: nil)
            }
            tokenFormat = parsed
        }
        event.clientID = AuditEvent.untrusted(credentials.id)
        let client: ClientState
        switch try authenticateClient(credentials.id, credentials.secret, call) {
        case .failure(let error):
            return try await deny(error.code, error.reason, client: error.client, headers: retryAfterHeader(error))
        case .success(let authenticated): client = authenticated
        }
        let tokenRequest = TokenRequest(
            clientID: credentials.id, secret: credentials.secret, scopes: scope.map { [$0] } ?? [], format: tokenFormat,
            grantType: grantType)
        switch authority.issue(tokenRequest, client: client, signer: cache.signer, now: now) {
        case .failure(let error):
            return try await deny(error.code, error.reason, client: client)
        case .success(let issued):
            event.outcome = .allowed
            event.reason = "scope \(issued.scope.joined(separator: " ")); \(issued.format.rawValue)"
            event.customer = client.customer
            event.instance = client.name
            event.clientID = client.clientID
            event.status = 200
            event.jti = issued.jti
            event.latencyMicros = call.latencyMicros
            try await commit(event, opaque: issued.opaqueRecord, call)
            metrics.increment("pirvault_token_requests_total", [("outcome", "issued")])
            return .json(issued.jsonObject)
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
            let form = try await formParameters(request)
            credentials = try clientCredentials(request, form)
            token = try form.single("token")
        } catch let invalid as FormData.Invalid {
            return try await refuse("invalid_request", invalid.description)
        }
        guard let credentials else {
            return try await refuse("invalid_client", "no client credentials", description: "client authentication failed")
        }
        switch try authenticateClient(credentials.id, credentials.secret, call) {
        case .failure(let error):
            event.clientID = AuditEvent.untrusted(credentials.id)
            return try await refuse(
                error.code, error.reason, description: error.code == "invalid_client" ? "client authentication failed" : nil,
                headers: retryAfterHeader(error))
        case .success(let caller):
            event.customer = caller.customer
            event.instance = caller.name
            event.clientID = caller.clientID
            guard let token else { return try await refuse("invalid_request", "token is missing") }
            let decision = try authority.decide(
                token: token, flow: nil, state: CachedState(cache: cache), now: event.time,
                verifiedSignatures: cache.verifiedSignatures)
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
        try committer.revoke(verified, reason: "revoked by its client (RFC 7009)", requestID: call.requestID, remoteAddress: call.remoteAddress)
        return .json(.object([]))
    }

    // MARK: Keys and metadata

    func jwks(_ request: Request, _ call: Call) async throws -> Reply {
        // Not audited, so no commit confirms the state: read it now.
        try cache.refresh(force: true)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "public, max-age=60"
        return Reply(status: .ok, headers: headers, body: cache.jwks + "\n")
    }

    /// RFC 8414 authorization server metadata.
    func metadata(_ request: Request, _ call: Call) async throws -> Reply {
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

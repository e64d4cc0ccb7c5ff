import Foundation
import Hummingbird
import PirvaultCore
import PirvaultHTTP
import PirvaultJSON

extension PirvaultServer {
    /// What a gateway call decided: the refusal (nil: allowed), the client
    /// the credentials name, and the token's jti.
    struct CallDecision {
        var refusal: Refusal?
        var client: ClientState?
        var jti: String?
    }

    /// The credentials a gateway call presents, decided with the shared
    /// authorization function: a Bearer token, or HTTP Basic for instances
    /// with the `password` grant type.
    func decideCall(authorization: String?, flow: String, call: Call) throws -> CallDecision {
        guard let authorization else { return CallDecision(refusal: .missingToken) }
        if let token = FormData.bearerToken(authorization) {
            let decision = try authority.decide(token: token, flow: flow, state: CachedState(cache: cache), now: clock.now(), verifiedSignatures: cache.verifiedSignatures)
            return CallDecision(refusal: decision.refusal, client: decision.token?.client, jti: decision.token?.jti)
        }
        if let basic = FormData.basicCredentials(authorization) {
            switch try authenticateClient(basic.id, basic.secret, call) {
            case .failure(let error):
                return CallDecision(
                    refusal: .malformed(error.code == Self.tooManyRequests ? error.reason : "HTTP Basic credentials were not accepted"),
                    client: error.client)
            case .success(let client):
                guard client.grantTypes.contains(.password) else {
                    return CallDecision(
                        refusal: .malformed("HTTP Basic is accepted only for instances with the password grant type; use a Bearer token"),
                        client: client)
                }
                return CallDecision(refusal: authority.authorize(client: client, scope: client.fullScope, flow: flow), client: client)
            }
        }
        return CallDecision(refusal: .malformed("the Authorization header is neither Bearer nor Basic"))
    }

    /// The JSON body of a refused call, and its status (401 or 403).
    func refusalReply(_ refusal: Refusal) -> Reply {
        var headers = HTTPFields()
        if refusal.isAuthentication {
            headers[.wwwAuthenticate] = "Bearer realm=\"pirvault\", error=\"invalid_token\""
            return .json(.object([("error", .string("invalid_token")), ("reason", .string(refusal.reason))]), status: .unauthorized, headers: headers)
        }
        return .json(.object([("error", .string("forbidden")), ("reason", .string(refusal.reason))]), status: .forbidden)
    }

    /// `ANY /http/{flow}`: authenticate, authorize, forward (or answer a
    /// receipt), audit, answer.
    func gateway(_ request: Request, _ call: Call) async throws -> Reply {
        var request = request
        // Read (and so bound) the body before deciding.
        let body = try await collectBody(&request, upTo: configuration.maxGatewayBodyBytes)
        let flow = request.uri.path
        // A forwarded call reaches the upstream before its audit commit, so
        // the state it is decided on is confirmed first.
        if upstream != nil, try cache.refresh(force: true) != call.stateVersion { throw StaleDecision() }
        let decided = try decideCall(authorization: request.headers[.authorization], flow: flow, call: call)
        let reply: Reply
        if let refusal = decided.refusal {
            reply = refusalReply(refusal)
        } else if let upstream {
            do {
                reply = try await upstream.forward(
                    method: request.method, path: flow, query: request.uri.query, headers: request.headers, body: body,
                    client: decided.client!, requestID: call.requestID)
            } catch {
                logger.warning("upstream failed", metadata: ["request_id": "\(call.requestID)", "error": "\(error)"])
                reply = .json(.object([("error", .string("bad_gateway")), ("reason", .string("the upstream could not be reached or authenticated"))]), status: .badGateway)
            }
        } else {
            let client = decided.client!
            reply = .json(
                .object([
                    ("flow", .string(flow)), ("instance", .string(client.name)), ("customer", .string(client.customer)),
                    ("client_id", .string(client.clientID)), ("method", .string(request.method.rawValue)),
                    ("request_id", .string(call.requestID)),
                ]))
        }
        try await audit("gateway.call", request: request, flow: flow, decided: decided, reply: reply, call: call)
        return reply
    }

    /// `GET /authorize`: the same decision for a reverse proxy's sub-request
    /// (nginx `auth_request`), from `Authorization` and `X-Original-URI`.
    func authorize(_ request: Request, _ call: Call) async throws -> Reply {
        let uri = request.headers[.originalURI] ?? ""
        let flow = String(uri.prefix { $0 != "?" })
        let decided = try decideCall(authorization: request.headers[.authorization], flow: flow, call: call)
        let reply = decided.refusal.map(refusalReply) ?? .json(.object([("allowed", .bool(true))]))
        try await audit("gateway.authorize", request: request, flow: flow, decided: decided, reply: reply, call: call)
        return reply
    }

    private func audit(
        _ name: String, request: Request, flow: String, decided: CallDecision,
        reply: Reply, call: Call
    ) async throws {
        let method = request.headers[.originalMethod] ?? request.method.rawValue
        try await commit(
            AuditEvent(
                time: clock.now(), event: name, outcome: decided.refusal == nil ? .allowed : .denied,
                reason: decided.refusal?.reason ?? "allowed", customer: decided.client?.customer,
                instance: decided.client?.name, clientID: decided.client?.clientID, flow: AuditEvent.untrusted(flow),
                method: AuditEvent.untrusted(method), status: Int(reply.status.code), remoteAddress: call.remoteAddress,
                requestID: call.requestID, latencyMicros: call.latencyMicros, jti: decided.jti),
            call)
        let outcome = decided.refusal == nil ? "allowed" : decided.refusal!.isAuthentication ? "unauthenticated" : "forbidden"
        metrics.increment("pirvault_gateway_decisions_total", [("outcome", outcome)])
    }
}

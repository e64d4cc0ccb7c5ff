import Foundation
import Hummingbird
import Logging
import PirvaultCore
import PirvaultHTTP
import PirvaultJSON

/// The flow gateway (`ANY /http/{flow}`) and the same decision for a reverse
/// proxy's sub-request (`GET /authorize`, nginx `auth_request`).
struct GatewayRoutes: Sendable {
    let decisions: Decisions
    /// Where allowed calls are forwarded; without one the gateway answers a receipt.
    let upstream: Upstream?
    let logger: Logger

    var routes: RouteCollection<PirvaultRequestContext> {
        let routes = RouteCollection(context: PirvaultRequestContext.self)
        routes.get("/authorize") { request, context in try await decisions.decide(request, context, authorize) }
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head, .options] {
            routes.on("/http/**", method: method) { request, context in try await decisions.decide(request, context, gateway) }
        }
        return routes
    }

    /// What a gateway call decided: the refusal (nil: allowed), the client
    /// the credentials name, and the token's jti.
    struct CallDecision {
        var refusal: Refusal?
        var client: ClientState?
        var jti: String?
        /// HTTP Basic's user when it names no instance (recorded, made safe).
        var presentedClientID: String? = nil
        /// The refused authentication is already counted in the metrics.
        var failureCounted = false
    }

    /// `ANY /http/{flow}`: authenticate, authorize, forward (or answer a
    /// receipt), audit, answer.
    func gateway(_ request: Request, _ call: Call) async throws -> Reply {
        let flow = request.uri.path
        // A forwarded call reaches the upstream before its audit commit, so
        // the state it is decided on is confirmed first.
        if upstream != nil, try await decisions.cache.stateVersion(force: true, newer: .min) != call.stateVersion {
            throw StaleDecision()
        }
        let decided = try await decideCall(authorization: request.headers[.authorization], flow: flow, call: call)
        let reply: Reply
        if let refusal = decided.refusal {
            reply = refusalReply(refusal)
        } else if let upstream {
            do {
                reply = try await upstream.forward(
                    method: request.method, path: flow, query: request.uri.query, headers: request.headers, body: call.body,
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
        try await audit(.gatewayCall, request: request, flow: flow, decided: decided, reply: reply, call: call)
        return reply
    }

    /// `GET /authorize`: the same decision for a reverse proxy's sub-request
    /// (nginx `auth_request`), from `Authorization` and `X-Original-URI`.
    func authorize(_ request: Request, _ call: Call) async throws -> Reply {
        let uri = request.headers[.originalURI] ?? ""
        let flow = String(uri.prefix { $0 != "?" })
        let decided = try await decideCall(authorization: request.headers[.authorization], flow: flow, call: call)
        let reply = decided.refusal.map(refusalReply) ?? .json(.object([("allowed", .bool(true))]))
        try await audit(.gatewayAuthorize, request: request, flow: flow, decided: decided, reply: reply, call: call)
        return reply
    }

    /// The credentials a gateway call presents, decided with the shared
    /// authorization function: a Bearer token, or HTTP Basic for instances
    /// with the `password` grant type. A refusal names the client whenever
    /// the credentials identify one.
    private func decideCall(authorization: String?, flow: String, call: Call) async throws -> CallDecision {
        guard let authorization else { return CallDecision(refusal: .missingToken) }
        if let token = FormData.bearerToken(authorization) {
            let decision = try await decisions.tokenDecision(token, flow: flow, at: decisions.clock.now())
            return CallDecision(refusal: decision.refusal, client: decision.client, jti: decision.jti)
        }
        if let basic = FormData.basicCredentials(authorization) {
            switch try await decisions.authenticateClient(basic.id, basic.secret, call) {
            case .failure(let error):
                return CallDecision(
                    refusal: .malformed(error.code == .tooManyRequests ? error.reason : "HTTP Basic credentials were not accepted"),
                    client: error.client, presentedClientID: basic.id, failureCounted: error.authenticationFailure != nil)
            case .success(let client):
                guard client.grantTypes.contains(.password) else {
                    return CallDecision(
                        refusal: .malformed("HTTP Basic is accepted only for instances with the password grant type; use a Bearer token"),
                        client: client)
                }
                return CallDecision(
                    refusal: decisions.authority.authorize(client: client, scope: client.fullScope, flow: flow), client: client)
            }
        }
        return CallDecision(refusal: .malformed("the Authorization header is neither Bearer nor Basic"))
    }

    /// The JSON body of a refused call, and its status (401 or 403).
    private func refusalReply(_ refusal: Refusal) -> Reply {
        var headers = HTTPFields()
        if refusal.isAuthentication {
            headers[.wwwAuthenticate] = "Bearer realm=\"pirvault\", error=\"invalid_token\""
            return .json(.object([("error", .string("invalid_token")), ("reason", .string(refusal.reason))]), status: .unauthorized, headers: headers)
        }
        return .json(.object([("error", .string("forbidden")), ("reason", .string(refusal.reason))]), status: .forbidden)
    }

    private func audit(
        _ name: AuditEventType, request: Request, flow: String, decided: CallDecision, reply: Reply, call: Call
    ) async throws {
        let method = request.headers[.originalMethod] ?? request.method.rawValue
        try await decisions.commit(
            AuditEvent(
                time: decisions.clock.now(), event: name, outcome: decided.refusal == nil ? .allowed : .denied,
                reason: decided.refusal?.reason ?? "allowed", customer: decided.client?.customer,
                instance: decided.client?.name,
                clientID: decided.client?.clientID ?? decided.presentedClientID.map(AuditEvent.untrusted), flow: AuditEvent.untrusted(flow),
                method: AuditEvent.untrusted(method), status: Int(reply.status.code), remoteAddress: call.remoteAddress,
                requestID: call.requestID, latencyMicros: call.latencyMicros, jti: decided.jti),
            call)
        let outcome: String
        switch decided.refusal {
        case nil: outcome = "allowed"
        case let refusal? where refusal.isAuthentication:
            outcome = "unauthenticated"
            if !decided.failureCounted { decisions.metrics.authenticationFailure(reason: refusal.code) }
        case _?: outcome = "forbidden"
        }
        decisions.metrics.gatewayDecision(customer: decided.client?.customer, outcome: outcome)
    }
}

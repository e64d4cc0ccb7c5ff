import Foundation
import Hummingbird
import HummingbirdTesting
import PirvaultCore
import PirvaultJSON
import Testing

@testable import PirvaultServer

struct GatewayTests {
    @Test func answersAReceiptForAnAllowedCallAndAuditsIt() async throws {
        let fixture = try await ServerFixture()
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        try await fixture.run { http in
            let token = try await http.token(client)
            let response = try await http.execute(uri: "/http/orders/42?x=1", method: .post, headers: bearer(token), body: ByteBuffer(string: "<order/>"))
            #expect(response.status == .ok)
            let receipt = try json(response)
            #expect(receipt["flow"] == .string("/http/orders/42"))
            #expect(receipt["instance"] == .string("acme"))
            #expect(receipt["customer"] == .string("ACME"))
            // The audit row is committed before the answer is sent.
            let last = try await fixture.vault.auditEvents().last
            #expect(last?.event == .gatewayCall)
            #expect(last?.status == 200)
            #expect(last?.flow == "/http/orders/42")
            #expect(last?.method == "POST")
            #expect(last?.requestID == response.headers[.init("X-Request-ID")!])
        }
    }

    @Test func refusesWith401Or403AndAReason() async throws {
        let fixture = try await ServerFixture()
        let flowClient = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        let apiClient = try await fixture.vault.client(InstanceSpec(name: "acme-api", customer: "ACME", plan: .api))
        let basicClient = try await fixture.vault.client(InstanceSpec(name: "acme-basic", customer: "ACME", grantTypes: [.clientCredentials, .password], flows: ["orders/*"]))
        try await fixture.run { http in
            let token = try await http.token(flowClient)
            let apiToken = try await http.token(apiClient)
            var basicHeader = HTTPFields()
            basicHeader[.authorization] = basic(basicClient.id, basicClient.secret)
            var basicNotAllowed = HTTPFields()
            basicNotAllowed[.authorization] = basic(flowClient.id, flowClient.secret)
            let cases: [(String, HTTPFields, HTTPResponse.Status, String)] = [
                ("/http/orders/1", [:], .unauthorized, "no access token"),
                ("/http/orders/1", bearer("garbage.token.here"), .unauthorized, "malformed token"),
                ("/http/invoices/1", bearer(token), .forbidden, "not among the flows allowed"),
                ("/http/orders/1", bearer(apiToken), .forbidden, "plan api"),
                ("/http/orders/../admin", bearer(token), .forbidden, "invalid flow path"),
                ("/http/orders/1", basicHeader, .ok, ""),
                ("/http/orders/1", basicNotAllowed, .unauthorized, "password grant type"),
            ]
            for (path, headers, status, reason) in cases {
                let response = try await http.execute(uri: path, method: .get, headers: headers)
                #expect(response.status == status, "\(path) \(headers)")
                if status != .ok {
                    #expect(try json(response)["reason"]?.stringValue?.contains(reason) == true, "\(path): \(String(buffer: response.body))")
                }
                if status == .unauthorized { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true) }
            }
        }
        let calls = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(calls.count == 7)
        #expect(calls.filter { $0.outcome == .denied }.count == 6)
    }

    @Test func cliChangesTakeEffectOnTheVeryNextRequest() async throws {
        let fixture = try await ServerFixture()
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        try await fixture.run { http in
            let token = try await http.token(client)
            #expect(try await http.execute(uri: "/http/orders/1", method: .get, headers: bearer(token)).status == .ok)
            var changes = InstanceChanges()
            changes.removeFlows = ["orders/*"]
            changes.addFlows = ["invoices/*"]
            _ = try await fixture.vault.cli { [changes] in try $0.updateInstance(named: "acme", changes) }
            #expect(try await http.execute(uri: "/http/orders/1", method: .get, headers: bearer(token)).status == .forbidden)
            #expect(try await http.execute(uri: "/http/invoices/1", method: .get, headers: bearer(token)).status == .ok)
            try await fixture.vault.cli { try $0.revokeCredentials(named: "acme") }
            let revoked = try await http.execute(uri: "/http/invoices/1", method: .get, headers: bearer(token))
            #expect(revoked.status == .unauthorized)
            #expect(try json(revoked)["reason"] == .string("the instance this token was issued to is revoked"))
        }
    }

    /// "Which client called which flow" holds for refusals too: whenever the
    /// presented credentials identify a client (a validly signed token of a
    /// revoked instance, a known client id with a wrong or rotated-out
    /// secret), its audit row names the customer, instance and client id.
    @Test func auditsEveryDenialUnderTheClientTheCredentialsName() async throws {
        let fixture = try await ServerFixture()
        let acme = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        let basicUser = try await fixture.vault.client(
            InstanceSpec(name: "acme-basic", customer: "ACME", grantTypes: [.clientCredentials, .password], flows: ["orders/*"]))
        let globex = try await fixture.vault.client(InstanceSpec(name: "globex", customer: "Globex", flows: ["orders/*"]))
        try await fixture.run { http in
            let token = try await http.token(acme)
            try await fixture.vault.cli { try $0.revokeCredentials(named: "acme") }
            #expect(try await http.execute(uri: "/http/orders/1", method: .get, headers: bearer(token)).status == .unauthorized)
            let wrongBasic = try await http.execute(uri: "/http/orders/2", method: .get, headers: [.authorization: basic(basicUser.id, "wrong")])
            #expect(wrongBasic.status == .unauthorized)
            let wrongSecret = try await http.execute(
                uri: "/oauth/token", method: .post, headers: formHeaders(basic(globex.id, "wrong")),
                body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(wrongSecret.status == .unauthorized)
            _ = try await fixture.vault.cli { try $0.rotateCredentials(named: "globex", graceSeconds: 0) }
            let rotatedOut = try await http.execute(
                uri: "/oauth/token", method: .post, headers: formHeaders(basic(globex.id, globex.secret)),
                body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(rotatedOut.status == .unauthorized)
        }
        let denied = try await fixture.vault.auditEvents().filter { $0.outcome == .denied }
        #expect(denied.count == 4)
        let names = denied.map { "\($0.event) \($0.customer ?? "-") \($0.instance ?? "-") \($0.clientID ?? "-")" }
        #expect(names == [
            "gateway.call ACME acme \(acme.id)", "gateway.call ACME acme-basic \(basicUser.id)",
            "token.issue Globex globex \(globex.id)", "token.issue Globex globex \(globex.id)",
        ])
        #expect(denied[0].jti != nil, "the revoked instance's token is named by its jti")
    }

    /// 3 customers × 2 instances × 3 flows: every token against every flow.
    /// Only the pairs an instance is allowed pass; every other call is 403 and audited.
    @Test func isolatesCustomersInstancesAndFlows() async throws {
        let fixture = try await ServerFixture()
        let flows = ["orders", "invoices", "stock"]
        var clients: [(name: String, client: (id: String, secret: String), allowed: Set<String>)] = []
        for c in 0..<3 {
            for i in 0..<2 {
                let allowed = [flows[c], flows[(c + i + 1) % 3]]
                let name = "c\(c)-i\(i)"
                clients.append((name, try await fixture.vault.client(InstanceSpec(name: name, customer: "customer-\(c)", flows: allowed.map { $0 + "/*" })), Set(allowed)))
            }
        }
        let snapshot = clients
        let results = try await fixture.run { http -> [(String, String, HTTPResponse.Status)] in
            var results: [(String, String, HTTPResponse.Status)] = []
            for entry in snapshot {
                let token = try await http.token(entry.client)
                for flow in flows {
                    let response = try await http.execute(uri: "/http/\(flow)/1", method: .post, headers: bearer(token))
                    results.append((entry.name, flow, response.status))
                }
            }
            return results
        }
        for (name, flow, status) in results {
            let allowed = clients.first { $0.name == name }!.allowed.contains(flow)
            #expect(status == (allowed ? .ok : .forbidden), "\(name) → \(flow)")
        }
        #expect(results.filter { $0.2 == .ok }.count == 12)
        let calls = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(calls.count == 18)
        #expect(calls.filter { $0.outcome == .denied && $0.status == 403 }.count == 6)
    }

    @Test func authorizeAnswersReverseProxySubRequests() async throws {
        let fixture = try await ServerFixture()
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        try await fixture.run { http in
            let token = try await http.token(client)
            var allowed = bearer(token)
            allowed[.init("X-Original-URI")!] = "/http/orders/1?debug=1"
            #expect(try await http.execute(uri: "/authorize", method: .get, headers: allowed).status == .ok)
            var denied = bearer(token)
            denied[.init("X-Original-URI")!] = "/http/admin/1"
            #expect(try await http.execute(uri: "/authorize", method: .get, headers: denied).status == .forbidden)
            let metrics = String(buffer: try await http.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains("pirvault_gateway_decisions_total{customer=\"ACME\",outcome=\"allowed\"} 1"))
            #expect(metrics.contains("pirvault_gateway_decisions_total{customer=\"ACME\",outcome=\"forbidden\"} 1"))
            #expect(metrics.contains("pirvault_http_request_duration_seconds_bucket{route=\"/authorize\""))
        }
        #expect(try await fixture.vault.auditEvents().filter { $0.event == .gatewayAuthorize }.count == 2)
    }

    @Test func refusesOversizedHeaders() async throws {
        let fixture = try await ServerFixture { $0.maxHeaderBytes = 1024 }
        try await fixture.run { http in
            var headers = HTTPFields()
            headers[.init("X-Padding")!] = String(repeating: "p", count: 2000)
            let response = try await http.execute(uri: "/healthz", method: .get, headers: headers)
            #expect(response.status.code == 431)
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTesting
import PirvaultCore
import PirvaultJSON
import Testing

@testable import PirvaultServer

struct TokenEndpointTests {
    @Test func issuesTokensWithEveryClientAuthenticationForm() async throws {
        let fixture = try await ServerFixture()
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        // Live, so that the audit rows carry the caller's address.
        try await fixture.run(.live) { http in
            // Basic with the raw client id (it holds '!' and '|'), grant_type in the query string as the cloud documents.
            let raw = try await http.execute(uri: "/oauth/token?grant_type=client_credentials", method: .post, headers: formHeaders(basic(client.id, client.secret)))
            #expect(raw.status == .ok)
            #expect(raw.headers[.cacheControl] == "no-store")
            let body = try json(raw)
            #expect(body["token_type"] == .string("bearer"))
            #expect(body["expires_in"] == .integer(3600))
            #expect(body["scope"]?.stringValue?.hasSuffix(".ESBMessaging.send") == true)
            #expect(body["jti"]?.stringValue != nil)
            // Basic with form-encoded id and secret (RFC 6749 §2.3.1).
            let encoded = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, client.secret, encode: true)), body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(encoded.status == .ok)
            // client_secret_post.
            let form = "grant_type=client_credentials&client_id=\(client.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&client_secret=\(client.secret)"
            let post = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(), body: ByteBuffer(string: form))
            #expect(post.status == .ok)
            // Opaque on request.
            let opaque = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, client.secret)), body: ByteBuffer(string: "grant_type=client_credentials&token_format=opaque"))
            #expect(try json(opaque)["access_token"]?.stringValue?.count == 43)
        }
        let issued = try await fixture.vault.auditEvents().filter { $0.event == .tokenIssue && $0.outcome == .allowed }
        #expect(issued.count == 4)
        #expect(issued.allSatisfy { $0.remoteAddress != nil && $0.requestID != nil && $0.jti != nil && $0.latencyMicros != nil })
    }

    @Test func refusesAsRFC6749Says() async throws {
        let fixture = try await ServerFixture()
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        try await fixture.run { http in
            let cases: [(HTTPFields, String, HTTPResponse.Status, String)] = [
                (formHeaders(basic(client.id, "wrong")), "grant_type=client_credentials", .unauthorized, "invalid_client"),
                (formHeaders(basic("sb-nobody", "x")), "grant_type=client_credentials", .unauthorized, "invalid_client"),
                (formHeaders(), "grant_type=client_credentials", .unauthorized, "invalid_client"),
                (formHeaders(basic(client.id, client.secret)), "grant_type=password", .badRequest, "unsupported_grant_type"),
                (formHeaders(basic(client.id, client.secret)), "", .badRequest, "invalid_request"),
                (formHeaders(basic(client.id, client.secret)), "grant_type=client_credentials&scope=Admin", .badRequest, "invalid_scope"),
                (formHeaders(basic(client.id, client.secret)), "grant_type=client_credentials&grant_type=client_credentials", .badRequest, "invalid_request"),
                (formHeaders(basic(client.id, client.secret)), "grant_type=client_credentials&client_secret=\(client.secret)", .badRequest, "invalid_request"),
                (formHeaders(basic(client.id, client.secret)), "grant_type=%ZZ", .badRequest, "invalid_request"),
            ]
            for (headers, body, status, error) in cases {
                let response = try await http.execute(uri: "/oauth/token", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == status, "\(body)")
                #expect(try json(response)["error"] == .string(error), "\(body)")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(!String(buffer: response.body).contains(client.secret))
                if status == .unauthorized { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true) }
            }
            var json = HTTPFields()
            json[.contentType] = "application/json"
            json[.authorization] = basic(client.id, client.secret)
            let wrongType = try await http.execute(uri: "/oauth/token", method: .post, headers: json, body: ByteBuffer(string: #"{"grant_type":"client_credentials"}"#))
            #expect(wrongType.status == .badRequest)
            let huge = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, client.secret)), body: ByteBuffer(string: "grant_type=client_credentials&pad=" + String(repeating: "x", count: 20_000)))
            #expect(huge.status == .contentTooLarge)
        }
        let denied = try await fixture.vault.auditEvents().filter { $0.event == .tokenIssue && $0.outcome == .denied }
        #expect(denied.count == 10)
        #expect(denied.allSatisfy { !($0.reason ?? "").contains(client.secret) })
    }

    @Test func capsFailedAuthenticationsPerClient() async throws {
        let fixture = try await ServerFixture { $0.maxFailedAuthentications = 3 }
        let client = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        try await fixture.run { http in
            for _ in 0..<3 {
                let wrong = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, "guess")), body: ByteBuffer(string: "grant_type=client_credentials"))
                #expect(wrong.status == .unauthorized)
            }
            let limited = try await http.execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, client.secret)), body: ByteBuffer(string: "grant_type=client_credentials"))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
        #expect(try await fixture.vault.auditEvents().last?.reason?.contains("too many failed authentications") == true)
    }

    @Test func publishesKeysAndMetadata() async throws {
        let fixture = try await ServerFixture()
        try await fixture.run { http in
            // As XSUAA writes it, at the address SAP's libraries build (with ?zid= or an X-zid header).
            var zid = HTTPFields()
            zid[.init("X-zid")!] = "any"
            for (path, headers) in [
                ("/token_keys", HTTPFields()), ("/token_keys?zid=any", HTTPFields()), ("/token_keys", zid),
                ("/.well-known/jwks.json", HTTPFields()),
            ] {
                let keys = try json(try await http.execute(uri: path, method: .get, headers: headers))
                let key = try #require(keys["keys"]?.arrayValue?.first)
                #expect(key["alg"] == .string("RS256") && key["kty"] == .string("RSA") && key["use"] == .string("sig"))
                #expect(key["n"]?.stringValue != nil && key["e"] == .string("AQAB"))
                #expect(key["value"]?.stringValue?.hasPrefix("-----BEGIN PUBLIC KEY-----\n") == true)
            }
            let metadata = try json(try await http.execute(uri: "/.well-known/oauth-authorization-server", method: .get))
            #expect(metadata["token_endpoint"] == .string("http://127.0.0.1:8080/oauth/token"))
            #expect(metadata["jwks_uri"] == .string("http://127.0.0.1:8080/token_keys"))
            #expect(metadata["grant_types_supported"] == JSONValue(["client_credentials"]))
            // RFC 8414 §3.1/§3.3: at the address derived from the issuer, whose `issuer` is that issuer.
            let atIssuerPath = try json(try await http.execute(uri: "/.well-known/oauth-authorization-server/oauth/token", method: .get))
            #expect(atIssuerPath == metadata)
            #expect(metadata["issuer"] == .string("http://127.0.0.1:8080/oauth/token"))
            let health = try await http.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func introspectionShowsAClientOnlyItsOwnCustomersTokens() async throws {
        let fixture = try await ServerFixture()
        let acme1 = try await fixture.vault.client(InstanceSpec(name: "acme-1", customer: "ACME"))
        let acme2 = try await fixture.vault.client(InstanceSpec(name: "acme-2", customer: "ACME"))
        let beta = try await fixture.vault.client(InstanceSpec(name: "beta", customer: "Beta"))
        try await fixture.run { http in
            let token = try await http.token(acme1)
            func introspect(as caller: (id: String, secret: String)) async throws -> JSONValue {
                try json(try await http.execute(uri: "/oauth/introspect", method: .post, headers: formHeaders(basic(caller.id, caller.secret)), body: ByteBuffer(string: "token=" + token)))
            }
            let own = try await introspect(as: acme2)
            #expect(own["active"] == .bool(true))
            #expect(own["client_id"] == .string(acme1.id))
            #expect(try await introspect(as: beta) == .object([("active", .bool(false))]))
            let unauthenticated = try await http.execute(uri: "/oauth/introspect", method: .post, headers: formHeaders(), body: ByteBuffer(string: "token=" + token))
            #expect(unauthenticated.status == .unauthorized)
        }
    }

    @Test func revocationStopsOnlyTheClientsOwnToken() async throws {
        let fixture = try await ServerFixture()
        let acme = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        let beta = try await fixture.vault.client(InstanceSpec(name: "beta", customer: "Beta"))
        try await fixture.run { http in
            let token = try await http.token(acme)
            let other = try await http.execute(uri: "/oauth/revoke", method: .post, headers: formHeaders(basic(beta.id, beta.secret)), body: ByteBuffer(string: "token=" + token))
            #expect(other.status == .badRequest)
            #expect(try await http.execute(uri: "/http/x", method: .get, headers: bearer(token)).status == .ok)
            let own = try await http.execute(uri: "/oauth/revoke", method: .post, headers: formHeaders(basic(acme.id, acme.secret)), body: ByteBuffer(string: "token=" + token))
            #expect(own.status == .ok)
            let after = try await http.execute(uri: "/http/x", method: .get, headers: bearer(token))
            #expect(after.status == .unauthorized)
            #expect(try json(after)["reason"] == .string("token has been revoked"))
            let garbage = try await http.execute(uri: "/oauth/revoke", method: .post, headers: formHeaders(basic(acme.id, acme.secret)), body: ByteBuffer(string: "token=nonsense"))
            #expect(garbage.status == .ok)
        }
    }
}

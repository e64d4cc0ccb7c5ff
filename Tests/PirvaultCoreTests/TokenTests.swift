import Foundation
import PirvaultCrypto
import PirvaultJSON
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

struct TokenIssueTests {
    let time = TestClock()

    @Test func jwtHasExactlyTheHeaderAndClaimsOfTheDesign() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenTTL: 900))
        let token = try fixture.issue(client)
        let tenant = try fixture.vault.tenant()
        let xsappname = tenant.runtimeXsappname
        #expect(client.id.hasSuffix("|" + xsappname))
        let kid = try fixture.vault.signingIdentity().kid
        #expect(
            try decodeSegment(token.accessToken, 0).canonicalString()
                == JSONValue.object([
                    ("alg", .string("RS256")), ("typ", .string("JWT")), ("kid", .string(kid)),
                    ("jku", .string("http://127.0.0.1:8080/token_keys")),
                ]).canonicalString())
        let claims = try decodeSegment(token.accessToken, 1)
        guard case .object(let members) = claims else { Issue.record("payload is not an object"); return }
        #expect(Set(members.map(\.0)) == ["iss", "sub", "client_id", "cid", "azp", "aud", "scope", "grant_type", "zid", "iat", "exp", "jti", "ext_attr", "gen", "cred"])
        #expect(claims["iss"] == .string("http://127.0.0.1:8080/oauth/token"))
        for name in ["sub", "client_id", "cid", "azp"] { #expect(claims[name] == .string(client.id)) }
        #expect(claims["aud"] == JSONValue([client.id, xsappname]))
        #expect(claims["scope"] == JSONValue(["\(xsappname).ESBMessaging.send"]))
        #expect(claims["grant_type"] == .string("client_credentials"))
        #expect(claims["zid"] == .string(fixture.vault.vaultID))
        #expect(claims["iat"] == .integer(time.now.seconds))
        #expect(claims["exp"] == .integer(time.now.seconds + 900))
        #expect(claims["jti"] == .string(token.jti))
        #expect(
            claims["ext_attr"]
                == .object([
                    ("customer", .string("ACME")), ("enhancer", .string("XSUAA")), ("instance", .string("acme")),
                    ("plan", .string("integration-flow")), ("zdn", .string(tenant.subdomain)),
                ]))
        #expect(claims["gen"] == .integer(1))
        #expect(token.expiresIn == 900)
        #expect(token.jsonObject["token_type"] == .string("bearer"))
    }

    @Test func scopesNarrowToRequestedRolesInEitherForm() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(
            InstanceSpec(name: "ops", customer: "ACME", plan: .api, roles: ["MonitoringDataRead", "WorkspacePackagesRead"]))
        let xsappname = ClientID.xsappname(of: client.id)
        #expect(try fixture.issue(client).scope == ["\(xsappname).MonitoringDataRead", "\(xsappname).WorkspacePackagesRead"])
        #expect(try fixture.issue(client, scopes: ["WorkspacePackagesRead"]).scope == ["\(xsappname).WorkspacePackagesRead"])
        #expect(try fixture.issue(client, scopes: ["\(xsappname).MonitoringDataRead"]).scope == ["\(xsappname).MonitoringDataRead"])
        #expect(throws: TokenError.self) { try fixture.issue(client, scopes: ["WorkspacePackagesEdit"]) }
        #expect(throws: TokenError.self) { try fixture.issue(client, scopes: ["other-app!b1.MonitoringDataRead"]) }
    }

    @Test func opaqueTokensAreShortRandomAndStoredOnlyAsAHash() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenFormat: .opaque))
        let token = try fixture.issue(client)
        #expect(token.format == .opaque)
        #expect(token.accessToken.count <= 43)
        #expect(Base64.decode(token.accessToken, .urlSafeNoPadding)!.count >= 16)
        #expect(!file(fixture.vaultPath + "-wal", contains: Array(token.accessToken.utf8)))
        #expect(!file(fixture.vaultPath, contains: Array(token.accessToken.utf8)))
        #expect(try fixture.refusal(of: token.accessToken, flow: "/http/x") == nil)
        #expect(try fixture.issue(client, format: .jwt).accessToken.contains("."))
    }

    /// Each refused request: its RFC 6749 code, a specific reason, one audit row, nothing else.
    @Test func refusalsAreAuditedWithTheirReason() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let cases: [(TokenRequest, OAuthErrorCode, String)] = [
            (TokenRequest(clientID: client.id, secret: "wrong-secret"), .invalidClient, "wrong client secret"),
            (TokenRequest(clientID: "sb-nobody", secret: client.secret), .invalidClient, "unknown client id"),
            (TokenRequest(clientID: client.id, secret: client.secret, scopes: ["Admin"]), .invalidScope, "scope 'Admin' is not granted"),
            (TokenRequest(clientID: client.id, secret: client.secret, grantType: "password"), .unsupportedGrantType, "not supported"),
        ]
        for (request, code, reason) in cases {
            let before = try fixture.auditEvents().count
            #expect {
                try fixture.vault.issueToken(request)
            } throws: { error in
                guard let error = error as? TokenError else { return false }
                return error.code == code && error.reason.contains(reason) && !error.description.contains(client.secret)
            }
            let events = try fixture.auditEvents()
            #expect(events.count == before + 1)
            #expect(events.last?.event == .tokenIssue)
            #expect(events.last?.outcome == .denied)
            #expect(events.last?.reason?.contains(reason) == true)
        }
        var changes = InstanceChanges()
        changes.removeGrantTypes = [.clientCredentials]
        changes.addGrantTypes = [.password]
        _ = try fixture.vault.updateInstance(named: "acme", changes)
        #expect(throws: TokenError.self) { try fixture.issue(client) }
        #expect(try fixture.auditEvents().last?.reason?.contains("unauthorized_client") == true)
    }

    @Test func issuesAreAuditedWithTheirJTIButNeverTheToken() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let token = try fixture.issue(client)
        let event = try #require(try fixture.auditEvents().last)
        #expect(event.event == .tokenIssue)
        #expect(event.jti == token.jti)
        let row = String(decoding: event.canonicalBytes, as: UTF8.self)
        #expect(!row.contains(token.accessToken))
        #expect(!row.contains(client.secret))
    }
}

struct TokenVerifyTests {
    let time = TestClock()

    @Test func acceptsAFreshTokenForAnAllowedFlow() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*", "products/details"]))
        let token = try fixture.issue(client).accessToken
        for flow in ["/http/orders/1", "/http/orders/a/b", "/http/products/details", "/http/products/details?x=1"] {
            #expect(try fixture.refusal(of: token, flow: flow) == nil, "\(flow)")
        }
        let decision = try fixture.vault.verifyToken(token, flow: nil)
        #expect(decision.jsonObject["active"] == .bool(true))
        #expect(decision.jsonObject["instance"] == .string("acme"))
        #expect(decision.jsonObject["customer"] == .string("ACME"))
    }

    /// Every refusal reason, each from the situation that causes it.
    @Test func everyRefusalHasItsOwnReason() throws {
        let fixture = try Fixture(clock: time.clock)
        let flowClient = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        let apiClient = try fixture.client(InstanceSpec(name: "acme-api", customer: "ACME", plan: .api))
        let good = try fixture.issue(flowClient).accessToken
        let parts = good.split(separator: ".").map(String.init)
        let signer = try fixture.vault.signingIdentity()
        let authority = fixture.vault.tokenAuthority()
        let claims = try TokenClaims(json: decodeSegment(good, 1))
        func resigned(_ change: (inout TokenClaims) -> Void) -> String {
            var copy = claims
            change(&copy)
            return JWT.sign(copy, kid: signer.kid, jku: authority.jwksURL, key: signer.key)
        }
        let otherVault = try Fixture(clock: time.clock)
        let foreign = try otherVault.issue(try otherVault.client(InstanceSpec(name: "acme", customer: "ACME"))).accessToken
        let publicKey = signer.key.publicKey.storedRepresentation
        func signedPayload(_ json: String) -> String {
            let input = parts[0] + "." + base64url(json)
            return input + "." + Base64.encode(signer.key.signature(for: Array(input.utf8)), .urlSafeNoPadding)
        }
        let hsHeader = base64url(#"{"alg":"HS256","typ":"JWT","kid":"\#(signer.kid)"}"#)
        let hsSignature = hmacSHA256(key: publicKey, message: Array("\(hsHeader).\(parts[1])".utf8))

        let cases: [(String, String, String?, Refusal)] = [
            ("empty", "", nil, .missingToken),
            ("two parts", parts[0] + "." + parts[1], nil, .malformed("a JWT has three dot-separated parts")),
            ("bad base64", parts[0] + ".@@@." + parts[2], nil, .malformed("a part is not base64url")),
            ("bad json", base64url("{nope") + "." + parts[1] + "." + parts[2], nil, .malformed("a part is not valid JSON")),
            ("alg none", base64url(#"{"alg":"none","typ":"JWT","kid":"\#(signer.kid)"}"#) + "." + parts[1] + ".", nil, .unsupportedAlgorithm("none")),
            ("HS256 with the public key", hsHeader + "." + parts[1] + "." + Base64.encode(hsSignature, .urlSafeNoPadding), nil, .unsupportedAlgorithm("HS256")),
            ("unknown kid", base64url(#"{"alg":"EdDSA","typ":"JWT","kid":"nope"}"#) + "." + parts[1] + "." + parts[2], nil, .unknownSigningKey),
            ("token from another vault", foreign, nil, .unknownSigningKey),
            ("tampered payload", parts[0] + "." + base64url(#"{"scope":["x"]}"#) + "." + parts[2], nil, .badSignature),
            ("flipped signature", parts[0] + "." + parts[1] + "." + flipFirstCharacter(parts[2]), nil, .badSignature),
            ("wrong issuer", resigned { $0.issuer = "https://evil.example/oauth/token" }, nil, .wrongIssuer),
            ("other zone", resigned { $0.zoneID = "another-vault" }, nil, .otherVault),
            ("expired", resigned { $0.expiresAt = time.now.seconds }, nil, .expired),
            ("from the future", resigned { $0.issuedAt = time.now.seconds + 3600 }, nil, .notYetValid),
            ("old generation", resigned { $0.credentialGeneration = 0 }, nil, .credentialsRevoked),
            ("unknown credential", resigned { $0.credentialID = 999 }, nil, .secretRotatedOut),
            ("unknown client", resigned { $0.clientID = "sb-deleted" }, nil, .instanceGone),
            ("missing claim", signedPayload(#"{"iss":"x"}"#), nil, .malformed("claim 'ext_attr' is missing")),
            ("claim of the wrong type", signedPayload(#"{"iss":1,"ext_attr":{}}"#), nil, .malformed("claim 'iss' is missing or not a string")),
            ("unknown opaque", Base64.encode(SecureRandom.bytes(32), .urlSafeNoPadding), nil, .unknownOpaqueToken),
            ("garbage opaque", "not a token at all!", nil, .malformed("neither a JWT nor an opaque token of this vault")),
            ("traversal", good, "/http/orders/../admin", .invalidFlowPath),
            ("encoded traversal", good, "/http/orders/%2e%2e/admin", .invalidFlowPath),
            ("encoded slash", good, "/http/orders%2Fx", .invalidFlowPath),
            ("not under /http/", good, "/admin/orders/1", .invalidFlowPath),
            ("api plan", try fixture.issue(apiClient).accessToken, "/http/orders/1", .apiPlan(instance: "acme-api")),
            ("missing role", resigned { $0.scope = [] }, "/http/orders/1", .missingRole("ESBMessaging.send")),
            ("flow not allowed", good, "/http/products/1", .flowNotAllowed(flow: "/http/products/1", instance: "acme")),
            ("other customer's flow prefix", good, "/http/ordersx/1", .flowNotAllowed(flow: "/http/ordersx/1", instance: "acme")),
        ]
        var reasons = Set<String>()
        for (name, token, flow, expected) in cases {
            let refusal = try fixture.refusal(of: token, flow: flow)
            #expect(refusal == expected, "\(name): got \(String(describing: refusal))")
            reasons.insert(expected.reason)
        }
        // revoked token, revoked instance, deleted instance and rotated-out secret are below, from real operations
        #expect(reasons.count >= 20)
        #expect(Refusal.apiPlan(instance: "x").reason.contains("plan api"))
        #expect(Refusal.missingRole("r").isAuthentication == false)
        #expect(Refusal.expired.isAuthentication == true)
    }

    @Test func revokingOneTokenStopsOnlyThatToken() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let first = try fixture.issue(client).accessToken
        let second = try fixture.issue(client).accessToken
        let jti = try fixture.vault.revokeToken(first)
        #expect(try fixture.refusal(of: first) == .tokenRevoked)
        #expect(try fixture.refusal(of: second) == nil)
        // Survives a restart: a new process sees the same.
        let reopened = try Vault.open(at: fixture.vaultPath, unlock: .keyFile(fixture.key), stores: .all, clock: time.clock)
        #expect(try reopened.verifyToken(first, flow: nil).refusal == .tokenRevoked)
        #expect(try fixture.auditEvents().contains { $0.event == .tokenRevoke && $0.jti == jti })
        #expect(throws: VaultError.self) { try fixture.vault.revokeToken("garbage") }
    }

    @Test func revokingAnInstanceStopsEverySecretAndToken() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let other = try fixture.client(InstanceSpec(name: "beta", customer: "Beta"))
        let jwt = try fixture.issue(client).accessToken
        let opaque = try fixture.issue(client, format: .opaque).accessToken
        let otherToken = try fixture.issue(other).accessToken
        try fixture.vault.revokeCredentials(named: "acme")
        #expect(try fixture.refusal(of: jwt) == .instanceRevoked)
        #expect(try fixture.refusal(of: opaque) == .instanceRevoked)
        #expect(try fixture.refusal(of: otherToken) == nil)
        #expect {
            try fixture.issue(client)
        } throws: { ($0 as? TokenError)?.reason == "instance is revoked" }
        let reopened = try fixture.reopen()
        #expect(try reopened.instance(named: "acme").status == .revoked)
        #expect(throws: VaultError.self) { try fixture.vault.revokeCredentials(named: "acme") }
        #expect(throws: VaultError.self) { try fixture.vault.rotateCredentials(named: "acme") }
    }

    @Test func deletingAnInstanceInvalidatesItsTokens() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let token = try fixture.issue(client).accessToken
        try fixture.vault.deleteInstance(named: "acme")
        #expect(try fixture.refusal(of: token) == .instanceGone)
    }

    @Test func expiryFollowsTheInjectedClock() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenTTL: 60))
        let token = try fixture.issue(client).accessToken
        time.advance(seconds: 59)
        #expect(try fixture.refusal(of: token) == nil)
        time.advance(seconds: 1)
        #expect(try fixture.refusal(of: token) == .expired)
    }
}

struct RotationTests {
    let time = TestClock()

    @Test func thePreviousSecretWorksUntilTheGracePeriodEnds() throws {
        let fixture = try Fixture(clock: time.clock)
        let old = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenTTL: 7200))
        let oldToken = try fixture.issue(old).accessToken
        let rotated = try fixture.vault.rotateCredentials(named: "acme", graceSeconds: 3600)
        let new = (id: rotated.clientID, secret: rotated.clientSecret)
        #expect(new.id == old.id)
        #expect(new.secret != old.secret)
        #expect(try fixture.vault.serviceKey(named: "acme").clientSecret == new.secret)
        time.advance(seconds: 3599)
        #expect(throws: Never.self) { try fixture.issue(old) }
        #expect(try fixture.refusal(of: oldToken) == nil)
        time.advance(seconds: 1)
        #expect {
            try fixture.issue(old)
        } throws: { ($0 as? TokenError)?.reason.contains("rotated out") == true }
        #expect(try fixture.refusal(of: oldToken) == .secretRotatedOut)
        #expect(throws: Never.self) { try fixture.issue(new) }
    }

    @Test func zeroGraceStopsTheOldSecretAndItsTokensAtOnce() throws {
        let fixture = try Fixture(clock: time.clock)
        let old = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let oldToken = try fixture.issue(old).accessToken
        let rotated = try fixture.vault.rotateCredentials(named: "acme", graceSeconds: 0)
        #expect(throws: TokenError.self) { try fixture.issue(old) }
        #expect(try fixture.refusal(of: oldToken) == .secretRotatedOut)
        #expect(throws: Never.self) { try fixture.issue((rotated.clientID, rotated.clientSecret)) }
    }

    @Test func atMostTwoSecretsAreValidAtATime() throws {
        let fixture = try Fixture(clock: time.clock)
        let first = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let second = try fixture.vault.rotateCredentials(named: "acme", graceSeconds: 3600)
        let third = try fixture.vault.rotateCredentials(named: "acme", graceSeconds: 3600)
        #expect(throws: TokenError.self) { try fixture.issue(first) }
        #expect(throws: Never.self) { try fixture.issue((second.clientID, second.clientSecret)) }
        #expect(throws: Never.self) { try fixture.issue((third.clientID, third.clientSecret)) }
        let valid = try fixture.vault.read { try $0.credentials(instanceID: fixture.vault.record(named: "acme", in: $0).id) }.filter { $0.expiresAt.map { $0 > time.now } ?? true }
        #expect(valid.count == 2)
    }

    @Test func signingKeyRotationKeepsOldTokensVerifyingUntilTheyExpire() throws {
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenTTL: 600))
        let oldToken = try fixture.issue(client).accessToken
        let oldKid = try fixture.vault.signingIdentity().kid
        let newKid = try fixture.vault.rotateSigningKey(publishAheadSeconds: 0).kid
        #expect(newKid != oldKid)
        let newToken = try fixture.issue(client).accessToken
        #expect(try decodeSegment(newToken, 0)["kid"] == .string(newKid))
        #expect(try fixture.refusal(of: oldToken) == nil)
        let kids = try fixture.vault.jwks()["keys"]?.arrayValue?.compactMap { $0["kid"]?.stringValue }
        #expect(kids == [newKid, oldKid])
        time.advance(seconds: 600)
        #expect(try fixture.vault.jwks()["keys"]?.arrayValue?.count == 1)
        #expect(try fixture.refusal(of: newToken) == .expired)
    }

    @Test func vaultKeyRotationKeepsEveryInstanceUsable() throws {
        let fixture = try Fixture(clock: time.clock)
        var clients: [(id: String, secret: String)] = []
        for i in 0..<5 { clients.append(try fixture.client(InstanceSpec(name: "i\(i)", customer: "C\(i)"))) }
        let token = try fixture.issue(clients[0]).accessToken
        let oldHeader = try fixture.vault.store.read { try $0.header() }
        #expect(try fixture.vault.rotateVaultKey() == 5)
        #expect(try fixture.vault.store.read { try $0.header() }.sealedVaultKey != oldHeader.sealedVaultKey)
        let reopened = try Vault.open(at: fixture.vaultPath, unlock: .keyFile(fixture.key), stores: .all, clock: time.clock)
        for (i, client) in clients.enumerated() {
            #expect(try reopened.serviceKey(named: "i\(i)").clientSecret == client.secret)
            #expect(throws: Never.self) { try reopened.issueToken(TokenRequest(clientID: client.id, secret: client.secret)) }
        }
        #expect(try reopened.verifyToken(token, flow: nil).isAllowed)
    }

    @Test func aFailedVaultKeyRotationChangesNothing() throws {
        let fixture = try Fixture(clock: time.clock)
        _ = try fixture.client(InstanceSpec(name: "good", customer: "A"))
        _ = try fixture.client(InstanceSpec(name: "broken", customer: "B"))
        try fixture.flipBit(table: "instances", column: "sealed_data_key", where: "name = 'broken'")
        let before = try fixture.raw().query("SELECT sealed_data_key FROM instances ORDER BY id") { $0.blob(0)! }
        let header = try fixture.vault.store.read { try $0.header() }
        #expect(throws: VaultError.self) { try fixture.vault.rotateVaultKey() }
        #expect(try fixture.raw().query("SELECT sealed_data_key FROM instances ORDER BY id") { $0.blob(0)! } == before)
        #expect(try fixture.vault.store.read { try $0.header() } == header)
        #expect(throws: Never.self) { try fixture.reopen().serviceKey(named: "good") }
    }

    @Test func changingTheUnlockSecretRewrapsOnlyTheVaultKey() throws {
        setenv("PIRVAULT_TEST_INSECURE_KDF", "1", 1)
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let dataKeys = try fixture.raw().query("SELECT sealed_data_key FROM instances") { $0.blob(0)! }
        try fixture.vault.changeUnlock(to: .passphrase("a brand new passphrase"))
        #expect(throws: VaultError.self) { try fixture.reopen() }
        let reopened = try Vault.open(at: fixture.vaultPath, unlock: .passphrase("a brand new passphrase"), stores: .all)
        #expect(try reopened.serviceKey(named: "acme").clientSecret == client.secret)
        #expect(try fixture.raw().query("SELECT sealed_data_key FROM instances") { $0.blob(0)! } == dataKeys)
        let newKey = SecretBytes.random(count: 32)
        try reopened.changeUnlock(to: .keyFile(newKey))
        #expect(throws: Never.self) { try Vault.open(at: fixture.vaultPath, unlock: .keyFile(newKey), stores: .all) }
    }
}

struct FlowPathTests {
    @Test(arguments: [
        ("*", "/http/a", true), ("*", "/http/a/b/c", true), ("orders/*", "/http/orders/1", true),
        ("orders/*", "/http/orders", false), ("orders/*", "/http/orders/1/2", true), ("orders/*", "/http/ordersx/1", false),
        ("products/details", "/http/products/details", true), ("products/details", "/http/products/details/x", false),
        ("products/detail*", "/http/products/details", true), ("*/details", "/http/products/details", true),
        ("*/details", "/http/products/x/details", false), ("a*c", "/http/abc", true), ("a*c", "/http/abd", false),
    ])
    func patternsMatchAsDocumented(_ pattern: String, _ path: String, _ expected: Bool) throws {
        #expect(try FlowPath(path).matches(pattern: pattern) == expected)
    }
}

/// HMAC-SHA256 (RFC 2104) over libsodium's SHA-256, only to forge an `alg` confusion token.
func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var block = key.count > 64 ? SHA256.hash(key) : key
    block += [UInt8](repeating: 0, count: 64 - block.count)
    var inner = SHA256()
    inner.update(block.map { $0 ^ 0x36 })
    inner.update(message)
    var outer = SHA256()
    outer.update(block.map { $0 ^ 0x5c })
    outer.update(inner.finalize())
    return outer.finalize()
}

func flipFirstCharacter(_ text: String) -> String {
    let first = text.first == "A" ? "B" : "A"
    return first + text.dropFirst()
}

struct CanonicalPayloadTests {
    @Test func theHandWrittenPayloadIsTheCanonicalForm() {
        let claims = TokenClaims(
            issuer: "http://x/oauth/token", clientID: "sb-1!b2|it-rt-\"q\"!b3", audience: ["a", "é"], scope: ["s.r", "s.t"],
            grantType: "client_credentials", zoneID: "z", issuedAt: 1, expiresAt: -2, jti: "j\n", customer: "Ü\u{1}",
            instance: "i", plan: "api", subdomain: "acme-prod", credentialGeneration: 3, credentialID: 4)
        #expect(claims.canonicalPayload() == claims.jsonObject.canonicalBytes())
        var before = claims
        before.subdomain = nil  // tokens issued before the tenant model
        #expect(before.canonicalPayload() == before.jsonObject.canonicalBytes())
    }
}

struct VerifiedSignatureCacheTests {
    @Test func aCachedSignatureStillFacesEveryLivenessCheck() throws {
        let time = TestClock()
        let fixture = try Fixture(clock: time.clock)
        let client = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", tokenTTL: 60))
        let token = try fixture.issue(client).accessToken
        let cache = VerifiedSignatures()
        let authority = fixture.vault.tokenAuthority()
        func decide() throws -> Refusal? {
            try fixture.vault.read { tx in
                try authority.decide(
                    token: token, flow: nil, state: StoreAuthorizationState(store: tx, now: time.now),
                    now: time.now, verifiedSignatures: cache
                ).refusal
            }
        }
        #expect(try decide() == nil)
        #expect(cache.claims(for: token) != nil)
        _ = try fixture.vault.revokeToken(token)
        #expect(try decide() == .tokenRevoked)
        time.advance(seconds: 60)
        #expect(try decide() == .expired)
        // A tampered token is never served from the cache: it is a different string.
        let tampered = try fixture.vault.read { tx in
            try authority.decide(
                token: token + "x", flow: nil, state: StoreAuthorizationState(store: tx, now: time.now), now: time.now,
                verifiedSignatures: cache)
        }
        #expect(tampered.refusal == .malformed("a part is not base64url"))
    }
}

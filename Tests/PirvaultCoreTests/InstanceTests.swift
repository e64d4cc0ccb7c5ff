import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultTestSupport
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

struct InstanceCreateTests {
    @Test func appliesThePlanDefaults() throws {
        let fixture = try Fixture()
        let key = try fixture.vault.createInstance(InstanceSpec(name: "acme-orders", customer: "ACME"))
        let instance = try fixture.vault.instance(named: "acme-orders")
        #expect(instance.plan == .integrationFlow)
        #expect(instance.roles == ["ESBMessaging.send"])
        #expect(instance.grantTypes == [.clientCredentials])
        #expect(instance.flows == ["*"])
        #expect(instance.tokenTTL == 3600)
        #expect(instance.tokenFormat == .jwt)
        #expect(instance.status == .active)
        #expect(instance.clientID == key.clientID)
        #expect(key.tokenURL == "http://127.0.0.1:8080/oauth/token")

        _ = try fixture.vault.createInstance(InstanceSpec(name: "acme-api", customer: "ACME", plan: .api))
        let api = try fixture.vault.instance(named: "acme-api")
        #expect(api.tokenTTL == 43200)
        #expect(api.roles == ["WorkspacePackagesRead", "MonitoringDataRead"])
        #expect(api.flows == [])
    }

    @Test func clientIDsHaveTheCloudsShapeWithTheTenantsXsappnames() throws {
        let fixture = try Fixture()
        let tenant = try fixture.vault.tenant()
        #expect(tenant.subdomain.wholeMatch(of: /vault-[0-9a-f]{8}/) != nil)
        #expect(tenant.runtimeXsappname == "it-rt-\(tenant.subdomain)!b\(tenant.appIndex)")
        #expect(tenant.managementXsappname == "it!b\(tenant.appIndex)")
        let flow = try fixture.vault.createInstance(InstanceSpec(name: "Acme_Orders.1", customer: "ACME"))
        let api = try fixture.vault.createInstance(InstanceSpec(name: "acme-api", customer: "ACME", plan: .api))
        let pattern = /^sb-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}!b[0-9]+\|(.+)$/
        #expect(try pattern.wholeMatch(in: flow.clientID)?.1 == Substring(tenant.runtimeXsappname))
        #expect(try pattern.wholeMatch(in: api.clientID)?.1 == Substring(tenant.managementXsappname))
    }

    @Test func generatedSecretsAreURLSafeAndSizedInBytes() throws {
        let fixture = try Fixture()
        let standard = try fixture.vault.createInstance(InstanceSpec(name: "a", customer: "C")).clientSecret
        #expect(standard.count == 43)
        #expect(Base64.decode(standard, .urlSafeNoPadding)?.count == 32)
        let short = try fixture.vault.createInstance(InstanceSpec(name: "b", customer: "C", secret: .generated(bytes: 16)))
        #expect(Base64.decode(short.clientSecret, .urlSafeNoPadding)?.count == 16)
        #expect(throws: VaultError.self) {
            try fixture.vault.createInstance(InstanceSpec(name: "c", customer: "C", secret: .generated(bytes: 15)))
        }
    }

    @Test func providedSecretsNeedEnoughEntropy() throws {
        let fixture = try Fixture()
        let strong = "Xk9#mQ2$vL7&pR4!tZ8*wN3^bH6@cJ5%dF1qYs0"
        let key = try fixture.vault.createInstance(InstanceSpec(name: "a", customer: "C", secret: .provided(strong)))
        #expect(key.clientSecret == strong)
        for weak in ["password", String(repeating: "a", count: 200), "abababababababababababababababababababab", "with space inside ok?"] {
            #expect(throws: VaultError.self) {
                try fixture.vault.createInstance(InstanceSpec(name: "b", customer: "C", secret: .provided(weak)))
            }
        }
        #expect(SecretSource.estimatedEntropyBits(strong) >= 128)
        #expect(SecretSource.estimatedEntropyBits("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") < 1)
    }

    /// Each bad spec is refused with a usage error and changes nothing.
    static let invalidSpecs: [(String, InstanceSpec)] = [
        ("unknown role", InstanceSpec(name: "x", customer: "C", roles: ["Admin"])),
        ("api role on a flow plan", InstanceSpec(name: "x", customer: "C", roles: ["MonitoringDataRead"])),
        ("no roles", InstanceSpec(name: "x", customer: "C", roles: [])),
        ("authorization_code without redirect", InstanceSpec(name: "x", customer: "C", grantTypes: [.authorizationCode])),
        ("redirect without authorization_code", InstanceSpec(name: "x", customer: "C", redirectURIs: ["https://a.example/cb"])),
        ("plain http redirect", InstanceSpec(name: "x", customer: "C", grantTypes: [.authorizationCode], redirectURIs: ["http://evil.example/cb"])),
        ("relative redirect", InstanceSpec(name: "x", customer: "C", grantTypes: [.authorizationCode], redirectURIs: ["/cb"])),
        ("redirect with fragment", InstanceSpec(name: "x", customer: "C", grantTypes: [.authorizationCode], redirectURIs: ["https://a.example/cb#x"])),
        ("flow traversal", InstanceSpec(name: "x", customer: "C", flows: ["../admin"])),
        ("flow absolute", InstanceSpec(name: "x", customer: "C", flows: ["/etc/passwd"])),
        ("flow empty segment", InstanceSpec(name: "x", customer: "C", flows: ["a//b"])),
        ("flow with query", InstanceSpec(name: "x", customer: "C", flows: ["a?b=1"])),
        ("flows on api plan", InstanceSpec(name: "x", customer: "C", plan: .api, flows: ["*"])),
        ("password grant on api plan", InstanceSpec(name: "x", customer: "C", plan: .api, grantTypes: [.clientCredentials, .password])),
        ("ttl too short", InstanceSpec(name: "x", customer: "C", tokenTTL: 59)),
        ("ttl too long", InstanceSpec(name: "x", customer: "C", tokenTTL: 86_401)),
        ("negative ttl", InstanceSpec(name: "x", customer: "C", tokenTTL: -1)),
        ("SQL in name", InstanceSpec(name: "x'; DROP TABLE instances; --", customer: "C")),
        ("empty name", InstanceSpec(name: "", customer: "C")),
        ("long name", InstanceSpec(name: String(repeating: "n", count: 65), customer: "C")),
        ("name with slash", InstanceSpec(name: "a/b", customer: "C")),
        ("control character in customer", InstanceSpec(name: "x", customer: "C\u{07}")),
        ("padded customer", InstanceSpec(name: "x", customer: " C")),
        ("empty customer", InstanceSpec(name: "x", customer: "")),
        ("non-https url", InstanceSpec(name: "x", customer: "C", url: "ftp://a.example")),
        ("token url with credentials", InstanceSpec(name: "x", customer: "C", tokenURL: "https://u:p@a.example/oauth/token")),
    ]

    @Test(arguments: invalidSpecs.map(\.0))
    func refusesInvalidSpecs(_ name: String) throws {
        let fixture = try Fixture()
        let spec = Self.invalidSpecs.first { $0.0 == name }!.1
        let before = try fixture.auditEvents().count
        #expect {
            try fixture.vault.createInstance(spec)
        } throws: { error in
            (error as? VaultError)?.isUsageError == true
        }
        #expect(try fixture.auditEvents().count == before)
        #expect(try fixture.vault.store.read { try $0.instanceCount() } == 0)
    }

    @Test func refusesADuplicateNameAndChangesNothing() throws {
        let fixture = try Fixture()
        let first = try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "ACME"))
        let before = try fixture.auditEvents().count
        #expect(throws: VaultError.self) { try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "Other")) }
        #expect(try fixture.auditEvents().count == before)
        #expect(try fixture.vault.instance(named: "acme").customer == "ACME")
        #expect(try fixture.vault.serviceKey(named: "acme").clientSecret == first.clientSecret)
    }

    @Test func auditsCreationWithoutTheSecret() throws {
        let fixture = try Fixture()
        let key = try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "ACME"))
        let event = try #require(try fixture.auditEvents().last)
        #expect(event.event == .instanceCreate)
        #expect(event.clientID == key.clientID)
        #expect(event.customer == "ACME")
        let stored = try fixture.raw().query("SELECT canonical, leaf_hash FROM audit_events WHERE seq = ?", [.integer(event.seq!)]) {
            ($0.blob(0)!, $0.blob(1)!)
        }[0]
        #expect(stored.0 == event.jsonObject.canonicalBytes())
        #expect(stored.1 == SHA256.hash([0] + stored.0))
        #expect(!String(decoding: stored.0, as: UTF8.self).contains(key.clientSecret))
        #expect(!file(fixture.vaultPath, contains: Array(key.clientSecret.utf8)))
        #expect(!file(fixture.vaultPath + "-wal", contains: Array(key.clientSecret.utf8)))
    }
}

struct InstanceLifecycleTests {
    @Test func listsByCustomerInOrder() throws {
        let fixture = try Fixture()
        for (name, customer) in [("b1", "Beta"), ("a2", "Alpha"), ("a1", "Alpha")] {
            _ = try fixture.vault.createInstance(InstanceSpec(name: name, customer: customer))
        }
        var all: [String] = []
        try fixture.vault.forEachInstance { all.append($0.name) }
        #expect(all == ["a1", "a2", "b1"])
        var alpha: [String] = []
        try fixture.vault.forEachInstance(customer: "Alpha") { alpha.append($0.name) }
        #expect(alpha == ["a1", "a2"])
    }

    @Test func updatesRolesFlowsAndLimits() throws {
        let fixture = try Fixture()
        _ = try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        var changes = InstanceChanges()
        changes.addFlows = ["/http/products/details"]
        changes.removeFlows = ["orders/*"]
        changes.tokenTTL = 600
        changes.addGrantTypes = [.password]
        let updated = try fixture.vault.updateInstance(named: "acme", changes)
        #expect(updated.flows == ["products/details"])
        #expect(updated.tokenTTL == 600)
        #expect(updated.grantTypes == [.clientCredentials, .password])
        #expect(try fixture.auditEvents().last?.reason == "-flow orders/*; +flow products/details; +grant type password; token_ttl 600")
    }

    @Test func refusesUpdatesThatBreakTheRules() throws {
        let fixture = try Fixture()
        _ = try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "ACME"))
        var removeMissing = InstanceChanges()
        removeMissing.removeRoles = ["MonitoringDataRead"]
        var wrongPlan = InstanceChanges()
        wrongPlan.plan = .api
        var lastRole = InstanceChanges()
        lastRole.removeRoles = ["ESBMessaging.send"]
        var nothing = InstanceChanges()
        nothing.tokenTTL = 3600
        for changes in [removeMissing, wrongPlan, lastRole, nothing, InstanceChanges()] {
            #expect(throws: VaultError.self) { try fixture.vault.updateInstance(named: "acme", changes) }
        }
        #expect(try fixture.vault.instance(named: "acme").plan == .integrationFlow)
        #expect(throws: VaultError.self) { try fixture.vault.updateInstance(named: "nope", lastRole) }
    }

    @Test func deleteShredsTheDataKeyFromTheFile() throws {
        let fixture = try Fixture()
        _ = try fixture.vault.createInstance(InstanceSpec(name: "acme", customer: "ACME"))
        let sealed = try fixture.raw().query("SELECT sealed_data_key FROM instances") { $0.blob(0)! }[0]
        try fixture.vault.store.scrubDeletedRows()
        #expect(file(fixture.vaultPath, contains: sealed))
        try fixture.vault.deleteInstance(named: "acme")
        #expect(!file(fixture.vaultPath, contains: sealed))
        #expect(!file(fixture.vaultPath + "-wal", contains: sealed))
        #expect(throws: VaultError.self) { try fixture.vault.instance(named: "acme") }
        #expect(try fixture.auditEvents().last?.event == .instanceDelete)
    }
}

struct TamperTests {
    /// Each case alters the vault file behind pirvault's back; reading the
    /// service key must then fail with a tamper error and reveal nothing.
    enum Tamper: CaseIterable {
        case flipDataKeyByte, flipSecretByte, truncateSecret, swapDataKeys, copySecretAcrossInstances, copySecretWithinRows
    }

    @Test(arguments: Backend.allCases, Tamper.allCases)
    func detectsAlteredSealedColumns(_ backend: Backend, _ tamper: Tamper) throws {
        let fixture = try Fixture(backend: backend)
        _ = try fixture.vault.createInstance(InstanceSpec(name: "victim", customer: "A"))
        _ = try fixture.vault.createInstance(InstanceSpec(name: "other", customer: "B"))
        switch tamper {
        case .flipDataKeyByte:
            try fixture.flipBit(table: "instances", column: "sealed_data_key", where: "name = 'victim'")
        case .flipSecretByte:
            try fixture.flipBit(
                table: "credentials", column: "sealed_secret",
                where: "instance_id = (SELECT id FROM instances WHERE name = 'victim')")
        case .truncateSecret:
            try fixture.execute(
                "UPDATE credentials SET sealed_secret = substr(sealed_secret, 1, 20) WHERE instance_id = (SELECT id FROM instances WHERE name = 'victim')")
        case .swapDataKeys:
            try fixture.execute(
                "UPDATE instances SET sealed_data_key = (SELECT sealed_data_key FROM instances WHERE name = 'other') WHERE name = 'victim'")
        case .copySecretAcrossInstances:
            try fixture.execute(
                """
                UPDATE credentials SET sealed_secret = (SELECT c.sealed_secret FROM credentials c JOIN instances i ON i.id = c.instance_id WHERE i.name = 'other')
                WHERE instance_id = (SELECT id FROM instances WHERE name = 'victim')
                """)
        case .copySecretWithinRows:
            // Same instance and data key, different credential row: the row id in the associated data differs.
            let vault = fixture.vault
            try vault.write { tx in
                let record = try vault.record(named: "victim", in: tx)
                try vault.addCredential(
                    to: record, dataKey: vault.openDataKey(of: record), secret: "second-secret-xxxxxxxxxxxxxxxxxxxxx",
                    createdAt: "t", in: tx)
            }
            try fixture.execute(
                """
                UPDATE credentials SET sealed_secret = (SELECT sealed_secret FROM credentials WHERE id = (SELECT min(id) FROM credentials))
                WHERE id = (SELECT max(id) FROM credentials)
                """)
        }
        let before = try fixture.auditEvents().count
        #expect {
            try fixture.reopen().serviceKey(named: "victim")
        } throws: { error in
            guard case VaultError.tampered(let message) = error else { return false }
            return message.contains("victim") && message.contains("restore")
        }
        #expect(try fixture.auditEvents().count == before)
        #expect(throws: Never.self) { try fixture.reopen().serviceKey(named: "other") }
    }
}

struct ImportTests {
    let cloudKey = """
        {
          "oauth": {
            "clientid": "sb-5d8a1c2e-0f7b-4c1e-9a5d-2b3c4d5e6f70!b271846|it-rt-mytenant!b196",
            "clientsecret": "3f1c9a7e-2b4d-4e6f-8a1b-c2d3e4f5a6b7$Zx0YwVuTsRqPoNmLkJiHgFeDcBa9876543210=",
            "url": "https://mytenant.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
            "tokenurl": "https://mytenant.authentication.eu10.hana.ondemand.com/oauth/token",
            "createdate": "2026-02-03T10:11:12.131Z"
          }
        }
        """

    @Test func importsACloudServiceKeyWithOrWithoutTheWrapper() throws {
        let fixture = try Fixture()
        let key = try ServiceKey(importing: Array(cloudKey.utf8))
        let instance = try fixture.vault.importInstance(key, name: "cloud", customer: "ACME")
        #expect(instance.origin == "imported")
        #expect(instance.tokenURL == key.tokenURL)
        #expect(try fixture.vault.serviceKey(named: "cloud").clientSecret == key.clientSecret)
        #expect(!file(fixture.vaultPath + "-wal", contains: Array(key.clientSecret.utf8)))

        let flat = try JSONValue.parse(cloudKey)["oauth"]!.prettyString()
        let again = try ServiceKey(importing: Array(flat.utf8))
        #expect(again.clientID == key.clientID)
        #expect(throws: VaultError.self) { try fixture.vault.importInstance(again, name: "cloud2", customer: "ACME") }
    }

    static let badKeys: [(String, String)] = [
        ("certificate", #"{"oauth": {"clientid": "a", "certificate": "-----BEGIN CERTIFICATE-----", "key": "-----BEGIN RSA PRIVATE KEY-----", "tokenurl": "https://a.example/oauth/token"}}"#),
        ("malformed", #"{"oauth": {"clientid": "a", "#),
        ("not an object", #"["clientid"]"#),
        ("missing secret", #"{"clientid": "a", "tokenurl": "https://a.example/oauth/token"}"#),
        ("missing tokenurl", #"{"clientid": "a", "clientsecret": "b"}"#),
        ("secret not a string", #"{"clientid": "a", "clientsecret": 5, "tokenurl": "https://a.example/t"}"#),
        ("duplicate member", #"{"clientid": "a", "clientid": "b", "clientsecret": "c", "tokenurl": "https://a.example/t"}"#),
    ]

    @Test(arguments: badKeys.map(\.0))
    func refusesBadServiceKeys(_ name: String) {
        let text = Self.badKeys.first { $0.0 == name }!.1
        #expect {
            try ServiceKey(importing: Array(text.utf8))
        } throws: { error in
            guard let error = error as? VaultError, error.isUsageError else { return false }
            return name != "certificate" || error.description.contains("certificate-type")
        }
    }

    @Test func refusesAnInsecureTokenURL() throws {
        let fixture = try Fixture()
        let key = try ServiceKey(importing: Array(#"{"clientid": "a", "clientsecret": "b", "tokenurl": "http://evil.example/t"}"#.utf8))
        #expect(throws: VaultError.self) { try fixture.vault.importInstance(key, name: "x", customer: "C") }
    }

    @Test func refusesOversizedFiles() {
        #expect(throws: VaultError.self) { try ServiceKey(importing: [UInt8](repeating: 0x20, count: (1 << 20) + 1)) }
    }
}

struct TimeInputTests {
    @Test func parsesDurations() throws {
        #expect(try TimeInput.seconds(fromDuration: "90s") == 90)
        #expect(try TimeInput.seconds(fromDuration: "15m") == 900)
        #expect(try TimeInput.seconds(fromDuration: "24h") == 86_400)
        #expect(try TimeInput.seconds(fromDuration: "7d") == 604_800)
        #expect(try TimeInput.seconds(fromDuration: "1h30m") == 5_400)
        #expect(try TimeInput.seconds(fromDuration: "0s") == 0)
        for bad in ["", "5", "h", "-5s", "5x", "99999999999999999999s", "1.5h", "５s"] {
            #expect(throws: VaultError.self) { try TimeInput.seconds(fromDuration: bad) }
        }
    }

    @Test func parsesPointsInTime() throws {
        let now = Timestamp(seconds: 1_000_000)
        #expect(try TimeInput.timestamp(from: "24h", now: now) == Timestamp(seconds: 1_000_000 - 86_400))
        #expect(try TimeInput.timestamp(from: "-24h", now: now) == Timestamp(seconds: 1_000_000 - 86_400))
        #expect(try TimeInput.timestamp(from: "1970-01-02T00:00:00Z", now: now) == Timestamp(seconds: 86_400))
        #expect(throws: VaultError.self) { try TimeInput.timestamp(from: "yesterday", now: now) }
    }
}

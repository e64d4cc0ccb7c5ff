import Foundation
import PirvaultTestSupport
import Synchronization
import Testing

import PirvaultPostgres
@testable import PirvaultStore

/// One vault store on a fresh location of `backend`, with `sampleHeader`.
struct StoreUnderTest {
    let backend: Backend
    let location: String
    let store: any VaultStore

    init(_ backend: Backend) throws {
        self.backend = backend
        location = try backend.freshLocation("conformance")
        store = try backend.create(at: location, header: sampleHeader)
    }

    func instance(_ name: String, customer: String = "ACME", ttl: Int = 600) -> InstanceRecord {
        InstanceRecord(
            name: name, customer: customer, clientID: "sb-\(name)", plan: .api, roles: ["r1", "r2"],
            grantTypes: [.clientCredentials], redirectURIs: [], flows: ["/flow/*"], tokenTTL: ttl, tokenFormat: .jwt,
            url: "https://\(name).example", tokenURL: "https://\(name).example/oauth/token", origin: "generated",
            status: .active, createdAt: "2026-11-21T00:00:00.000000Z", updatedAt: "2026-11-21T00:00:00.000000Z")
    }

    /// Inserts an instance whose sealed data key names its row id.
    @discardableResult
    func insert(_ record: InstanceRecord) throws -> Int64 {
        try store.write { tx in try tx.insertInstance(record) { Array("key-of-\($0)".utf8) } }
    }

    func names(customer: String? = nil) throws -> [String] {
        var names: [String] = []
        try store.read { try $0.forEachInstance(customer: customer) { names.append($0.name) } }
        return names
    }
}

/// The storage contract, run against SQLite and PostgreSQL alike.
struct StoreConformanceTests {
    // MARK: Creating and opening

    @Test(arguments: Backend.allCases)
    func theHeaderRoundTrips(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        #expect(try subject.store.read { try $0.header() } == sampleHeader)
        #expect(subject.store.backend == backend.rawValue)
        #expect(try subject.store.read { try $0.schemaVersion() } == backend.migrations.count)
        let reopened = try VaultStores.all.open(subject.location, .commandLine)
        #expect(try reopened.read { try $0.header() } == sampleHeader)
        #expect(try reopened.read { try $0.vaultKeyEpoch() } == 1)
        try reopened.write { tx in
            try tx.updateUnlock(
                method: .passphrase, kdfOpslimit: 3, kdfMemlimit: 1 << 26, kdfSalt: [7, 7], sealedVaultKey: [9])
        }
        var expected = sampleHeader
        (expected.unlockMethod, expected.kdfOpslimit, expected.kdfMemlimit, expected.kdfSalt) = (
            .passphrase, 3, 1 << 26, [7, 7]
        )
        expected.sealedVaultKey = [9]
        #expect(try subject.store.read { try $0.header() } == expected)
    }

    @Test(arguments: Backend.allCases)
    func createRefusesAnExistingVault(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        #expect {
            try backend.create(at: subject.location, header: sampleHeader)
        } throws: { error in
            switch error as? StoreError {
            case .vaultExists, .databaseNotEmpty(_, holdsVault: true): return true
            default: return false
            }
        }
        #expect(try subject.store.read { try $0.header() } == sampleHeader)
    }

    @Test func createRefusesADatabaseThatHoldsAnotherTable() throws {
        let location = try Backend.postgresql.freshLocation("other_tables")
        try Backend.postgresql.execute("CREATE TABLE someone_elses (x INTEGER);", at: location)
        #expect {
            try Backend.postgresql.create(at: location, header: sampleHeader)
        } throws: { error in
            guard case .databaseNotEmpty(_, holdsVault: false) = error as? StoreError else { return false }
            return true
        }
        #expect(
            try Backend.postgresql.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", at: location)
                == ["1"])
        #expect {
            try Backend.postgresql.open(at: location)
        } throws: { error in
            guard case .databaseNotEmpty(_, holdsVault: false) = error as? StoreError else { return false }
            return true
        }
    }

    @Test(arguments: Backend.allCases)
    func openRefusesAMissingVault(_ backend: Backend) throws {
        let location = try backend.freshLocation("missing")
        #expect {
            try VaultStores.all.open(location, .commandLine)
        } throws: { error in
            guard case .vaultMissing = error as? StoreError else { return false }
            return true
        }
    }

    @Test(arguments: Backend.allCases)
    func openAppliesPendingMigrations(_ backend: Backend) throws {
        let location = try backend.freshLocation("pending")
        let shipped = backend.migrations
        _ = try backend.create(at: location, header: sampleHeader)
        let extra = Migration(version: shipped.count + 1, name: "extra", sql: "CREATE TABLE extra (x INTEGER);")
        let store = try backend.open(at: location, migrations: shipped + [extra])
        #expect(try store.read { try $0.schemaVersion() } == shipped.count + 1)
        try backend.execute("INSERT INTO extra VALUES (1);", at: location)
        #expect(try backend.query("SELECT x FROM extra", at: location) == ["1"])
    }

    @Test(arguments: Backend.allCases)
    func openRefusesAnEditedAppliedMigration(_ backend: Backend) throws {
        let location = try backend.freshLocation("edited")
        let original = backend.migrations[0]
        _ = try backend.create(at: location, header: sampleHeader)
        let edited = Migration(version: 1, name: original.name, sql: original.sql + "\n-- edited")
        #expect(throws: StoreError.migrationChanged(version: 1, name: original.name)) {
            try backend.open(at: location, migrations: [edited] + backend.migrations.dropFirst())
        }
    }

    @Test(arguments: Backend.allCases)
    func openRefusesANewerSchema(_ backend: Backend) throws {
        let location = try backend.freshLocation("newer")
        let shipped = backend.migrations
        let newer =
            shipped + [Migration(version: shipped.count + 1, name: "future", sql: "CREATE TABLE future (x INTEGER);")]
        _ = try backend.create(at: location, header: sampleHeader, migrations: newer)
        #expect(throws: StoreError.schemaTooNew(found: newer.count, supported: shipped.count)) {
            try VaultStores.all.open(location, .commandLine)
        }
    }

    // MARK: Instances and credentials

    @Test(arguments: Backend.allCases)
    func instancesRoundTripAndListInByteOrder(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        let id = try subject.insert(subject.instance("Zed", customer: "beta"))
        try subject.insert(subject.instance("alpha", customer: "beta", ttl: 3600))
        try subject.insert(subject.instance("Äpfel", customer: "beta"))
        try subject.insert(subject.instance("mid", customer: "Alpha"))

        var expected = subject.instance("Zed", customer: "beta")
        expected.id = id
        expected.sealedDataKey = Array("key-of-\(id)".utf8)
        #expect(try store.read { try $0.instance(named: "Zed") } == expected)
        #expect(try store.read { try $0.instance(clientID: "sb-Zed") } == expected)
        #expect(try store.read { try $0.instance(id: id) } == expected)
        #expect(try store.read { try $0.instance(named: "zed") } == nil)
        #expect(try store.read { try $0.instance(clientID: "nobody") } == nil)
        #expect(try store.read { try $0.instance(id: id + 100) } == nil)

        // Customer, then name, by UTF-8 bytes: upper case before lower case before non-ASCII.
        #expect(try subject.names() == ["mid", "Zed", "alpha", "Äpfel"])
        #expect(try subject.names(customer: "beta") == ["Zed", "alpha", "Äpfel"])
        #expect(try subject.names(customer: "nobody") == [])
        #expect(try store.read { try $0.instanceCount() } == 4)
        #expect(try store.read { try $0.maximumTokenTTL() } == 3600)
        #expect(try store.read { try $0.sealedDataKeys() }.map(\.name) == ["Zed", "alpha", "Äpfel", "mid"])
        #expect(try store.read { try $0.sealedDataKeys() }.allSatisfy { $0.sealed == Array("key-of-\($0.instanceID)".utf8) })

        var changed = expected
        changed.plan = .integrationFlow
        changed.roles = ["only"]
        changed.flows = []
        changed.tokenTTL = 7200
        changed.status = .revoked
        changed.credentialGeneration = 3
        changed.updatedAt = "2026-11-22T00:00:00.000000Z"
        try store.write { tx in
            try tx.updateInstance(changed)
            try tx.updateSealedDataKey(instanceID: id, sealed: [1, 2, 3])
        }
        changed.sealedDataKey = [1, 2, 3]
        #expect(try store.read { try $0.instance(id: id) } == changed)
        #expect(try store.read { try $0.maximumTokenTTL() } == 7200)
    }

    /// Plan and grant types are decoded where rows are read: a value no
    /// pirvault writes is a store error, never a crash. (Token format and
    /// status cannot be altered so: the schema CHECKs them.)
    @Test(arguments: Backend.allCases, ["plan = 'standard'", "grant_types = '[\"client_credentials\",\"implicit\"]'"])
    func unknownStoredKindsAreCorruption(_ backend: Backend, assignment: String) throws {
        let subject = try StoreUnderTest(backend)
        try subject.insert(subject.instance("odd"))
        try backend.execute("UPDATE instances SET \(assignment) WHERE name = 'odd'", at: subject.location)
        #expect(throws: StoreError.self) { try subject.store.read { try $0.instance(named: "odd") } }
        #expect(throws: StoreError.self) { try subject.names() }
    }

    @Test(arguments: Backend.allCases)
    func deletingAnInstanceDeletesItsCredentialsAndOpaqueTokens(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        let victim = try subject.insert(subject.instance("victim"))
        let other = try subject.insert(subject.instance("other"))
        func token(_ byte: UInt8, _ instanceID: Int64) -> OpaqueTokenRecord {
            OpaqueTokenRecord(
                tokenHash: [byte, 1], jti: "jti-\(byte)", instanceID: instanceID, credentialID: 1,
                credentialGeneration: 1,
                scope: ["a", "b"], issuedAt: Timestamp(seconds: 10), expiresAt: Timestamp(seconds: 20))
        }
        try store.write { tx in
            for id in [victim, other] {
                _ = try tx.insertCredential(instanceID: id, verifier: [1], createdAt: "t") {
                    Array("secret-\($0)".utf8)
                }
                try tx.insertOpaqueToken(token(UInt8(id), id))
            }
        }
        #expect(try store.read { try $0.opaqueToken(hash: [UInt8(victim), 1]) } == token(UInt8(victim), victim))
        try store.write { tx in try tx.deleteInstance(id: victim) }
        #expect(try store.read { try $0.instance(id: victim) } == nil)
        #expect(try store.read { try $0.credentials(instanceID: victim) }.isEmpty)
        #expect(try store.read { try $0.opaqueToken(hash: [UInt8(victim), 1]) } == nil)
        #expect(try store.read { try $0.instanceCount() } == 1)
        #expect(try store.read { try $0.credentials(instanceID: other) }.count == 1)
        #expect(try store.read { try $0.opaqueToken(hash: [UInt8(other), 1]) } == token(UInt8(other), other))
        #expect(try subject.backend.query("SELECT count(*) FROM credentials", at: subject.location) == ["1"])
    }

    @Test(arguments: Backend.allCases)
    func credentialsListNewestFirstExpireAndGo(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        let id = try subject.insert(subject.instance("acme"))
        let (first, second) = try store.write { tx in
            (
                try tx.insertCredential(instanceID: id, verifier: [1], createdAt: "one") {
                    Array("secret-\($0)".utf8)
                },
                try tx.insertCredential(instanceID: id, verifier: [2], createdAt: "two") {
                    Array("secret-\($0)".utf8)
                }
            )
        }
        #expect(try store.read { try $0.credentials(instanceID: id) }.map(\.id) == [second, first])
        let stored = try #require(try store.read { try $0.credential(id: first) })
        #expect(stored.instanceID == id)
        #expect(stored.sealedSecret == Array("secret-\(first)".utf8))
        #expect(stored.verifier == [1])
        #expect(stored.createdAt == "one")
        #expect(stored.expiresAt == nil)
        #expect(try store.read { try $0.credential(id: second + 100) } == nil)

        try store.write { tx in try tx.expireCredential(id: first, at: Timestamp(seconds: 100)) }
        #expect(try store.read { try $0.credential(id: first) }?.expiresAt == Timestamp(seconds: 100))
        try store.write { tx in try tx.deleteExpiredCredentials(instanceID: id, before: Timestamp(seconds: 99)) }
        #expect(try store.read { try $0.credentials(instanceID: id) }.count == 2)
        try store.write { tx in try tx.deleteExpiredCredentials(instanceID: id, before: Timestamp(seconds: 100)) }
        #expect(try store.read { try $0.credentials(instanceID: id) }.map(\.id) == [second])
    }

    // MARK: Tokens and keys

    @Test(arguments: Backend.allCases)
    func revokedTokensAreKeptUntilTheyExpire(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        try store.write { tx in
            try tx.revokeToken(
                jti: "a", instanceID: nil, at: Timestamp(seconds: 1), expiresAt: Timestamp(seconds: 100))
            try tx.revokeToken(
                jti: "a", instanceID: 5, at: Timestamp(seconds: 2), expiresAt: Timestamp(seconds: 999))
            try tx.revokeToken(
                jti: "b", instanceID: 7, at: Timestamp(seconds: 1), expiresAt: Timestamp(seconds: 200))
        }
        #expect(try store.read { try $0.isTokenRevoked(jti: "a") })
        #expect(try !store.read { try $0.isTokenRevoked(jti: "c") })
        #expect(try store.read { try $0.revokedTokenIDs(at: Timestamp(seconds: 99)) } == ["a", "b"])
        // The first revocation stands: "a" expires at 100, not 999.
        #expect(try store.read { try $0.revokedTokenIDs(at: Timestamp(seconds: 100)) } == ["b"])
        let token = OpaqueTokenRecord(
            tokenHash: [9], jti: "o", instanceID: try StoreUnderTest.insertAnyInstance(into: store), credentialID: 1,
            credentialGeneration: 2, scope: [], issuedAt: Timestamp(seconds: 1), expiresAt: Timestamp(seconds: 150))
        try store.write { tx in try tx.insertOpaqueToken(token) }
        #expect(try store.read { try $0.opaqueToken(hash: [9]) } == token)
        #expect(try store.read { try $0.opaqueToken(hash: [8]) } == nil)
        try store.write { tx in try tx.purgeExpiredTokens(before: Timestamp(seconds: 150)) }
        #expect(try !store.read { try $0.isTokenRevoked(jti: "a") })
        #expect(try store.read { try $0.isTokenRevoked(jti: "b") })
        #expect(try store.read { try $0.opaqueToken(hash: [9]) } == nil)
    }

    @Test(arguments: Backend.allCases)
    func failedAuthenticationsAreSharedInOrderAndForgotten(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        try store.write { tx in
            try tx.recordAuthenticationFailures(["client:a", "address:x"], at: Timestamp(seconds: 10))
        }
        try store.write { tx in try tx.recordAuthenticationFailures(["client:a"], at: Timestamp(seconds: 20)) }
        // Another session (another server) sees them, oldest first.
        let seen = try store.openAnother().read { try $0.authenticationFailures(after: 0) }
        #expect(seen.map(\.key) == ["client:a", "address:x", "client:a"])
        #expect(seen.map(\.time) == [Timestamp(seconds: 10), Timestamp(seconds: 10), Timestamp(seconds: 20)])
        #expect(seen.map(\.id) == seen.map(\.id).sorted() && Set(seen.map(\.id)).count == 3)
        #expect(try store.read { try $0.authenticationFailures(after: seen[1].id) } == [seen[2]])
        try store.write { tx in try tx.forgetAuthenticationFailures(before: Timestamp(seconds: 20)) }
        #expect(try store.read { try $0.authenticationFailures(after: 0) } == [seen[2]])
    }

    @Test(arguments: Backend.allCases)
    func oneSigningKeyIsNewestAndRetiredOnesStayPublishedForAWhile(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        #expect(try store.read { try $0.latestSigningKey() } == nil)
        let first = try store.write { tx in
            try tx.insertSigningKey(
                kid: "k1", algorithm: .edDSA, publicKey: [1], createdAt: Timestamp(seconds: 10),
                activatesAt: Timestamp(seconds: 10)
            ) { Array("seed-\($0)".utf8) }
        }
        // The schema itself refuses a second key that is not retired.
        #expect(throws: StoreError.self) {
            try store.write { tx in
                try tx.insertSigningKey(
                    kid: "k2", algorithm: .rs256, publicKey: [2], createdAt: Timestamp(seconds: 20),
                    activatesAt: Timestamp(seconds: 20)
                ) { _ in [2] }
            }
        }
        #expect(try store.read { try $0.allSigningKeys() }.map(\.kid) == ["k1"])
        // A staged key: published from 20, signing from 30, when k1 retires.
        let second = try store.write { tx in
            try tx.retireSigningKey(id: first, at: Timestamp(seconds: 30), publishedUntil: Timestamp(seconds: 80))
            return try tx.insertSigningKey(
                kid: "k2", algorithm: .rs256, publicKey: [2], createdAt: Timestamp(seconds: 20),
                activatesAt: Timestamp(seconds: 30)
            ) { Array("seed-\($0)".utf8) }
        }
        let latest = try #require(try store.read { try $0.latestSigningKey() })
        #expect(
            latest
                == SigningKeyRecord(
                    id: second, kid: "k2", algorithm: .rs256, publicKey: [2], sealedPrivateKey: Array("seed-\(second)".utf8),
                    createdAt: Timestamp(seconds: 20), activatesAt: Timestamp(seconds: 30), retiredAt: nil,
                    publishedUntil: nil))
        #expect(try store.read { try $0.publishedSigningKeys(at: Timestamp(seconds: 79)) }.map(\.kid) == ["k2", "k1"])
        #expect(try store.read { try $0.publishedSigningKeys(at: Timestamp(seconds: 80)) }.map(\.kid) == ["k2"])
        let retired = try #require(try store.read { try $0.allSigningKeys() }.first)
        #expect(retired.id == first && retired.retiredAt == Timestamp(seconds: 30) && retired.algorithm == .edDSA)
        #expect(retired.publishedUntil == Timestamp(seconds: 80))
        try store.write { tx in try tx.updateSealedPrivateKey(signingKeyID: first, sealed: [4, 2]) }
        #expect(try store.read { try $0.allSigningKeys() }.map(\.sealedPrivateKey) == [[4, 2], Array("seed-\(second)".utf8)])
        // A staged key withdrawn before it signed is gone; the one it replaced is retired anew.
        try store.write { tx in
            try tx.deleteSigningKey(id: second)
            try tx.retireSigningKey(id: first, at: Timestamp(seconds: 40), publishedUntil: Timestamp(seconds: 90))
        }
        #expect(try store.read { try $0.allSigningKeys() }.map(\.kid) == ["k1"])
        #expect(try store.read { try $0.allSigningKeys() }.first?.publishedUntil == Timestamp(seconds: 90))
    }

    @Test(arguments: Backend.allCases)
    func vaultKeyLinksFollowRotationsAndAreForgotten(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        #expect(try store.read { try $0.vaultKeyLinks(after: 0) }.isEmpty)
        let links = (2...4).map {
            VaultKeyLink(epoch: Int64($0), sealedKey: [UInt8($0)], createdAt: Timestamp(seconds: Int64($0) * 100))
        }
        for link in links {
            try store.write { tx in
                try tx.replaceVaultKey(
                    sealedVaultKey: [UInt8(link.epoch), 0], sealedVerifierKey: [UInt8(link.epoch), 1], link: link,
                    forgetLinksBefore: Timestamp(seconds: 250))
            }
        }
        #expect(try store.read { try $0.vaultKeyEpoch() } == 4)
        #expect(try store.read { try $0.header() }.sealedVaultKey == [4, 0])
        #expect(try store.read { try $0.header() }.sealedVerifierKey == [4, 1])
        // The link of epoch 2 (made at 200) is older than 250 and forgotten.
        #expect(try store.read { try $0.vaultKeyLinks(after: 0) } == Array(links.dropFirst()))
        #expect(try store.read { try $0.vaultKeyLinks(after: 3) } == [links[2]])
        #expect(try store.read { try $0.vaultKeyLinks(after: 4) }.isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func theStateVersionMovesWithWhatAServerCachesOnly(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        var last = try store.read { try $0.stateVersion() }
        func moves(_ what: String, _ change: (any StoreWriter) throws -> Void) throws {
            try store.write(change)
            let now = try store.read { try $0.stateVersion() }
            #expect(now > last, "\(what) should move the state version")
            last = now
        }
        func staysPut(_ what: String, _ change: (any StoreWriter) throws -> Void) throws {
            try store.write(change)
            #expect(try store.read { try $0.stateVersion() } == last, "\(what) should leave the state version")
        }
        try staysPut("an audit append") { try $0.appendAudit(record(0)) }
        try staysPut("a checkpoint") {
            try $0.insertCheckpoint(CheckpointRecord(treeSize: 1, rootHash: [1], frontier: [1], note: "n", createdAt: .now()))
        }
        try staysPut("a failed authentication") { try $0.recordAuthenticationFailures(["client:x"], at: Timestamp(seconds: 1)) }
        try staysPut("an audit signing key") {
            try $0.insertAuditSigningKey(publicKey: [1], sealedPrivateKey: [2], createdAt: .now())
        }
        var id: Int64 = 0
        try moves("an instance insert") { id = try $0.insertInstance(subject.instance("a")) { _ in [1] } }
        try moves("an instance update") { try $0.updateInstance(try #require(try $0.instance(id: id))) }
        var credential: Int64 = 0
        try moves("a credential insert") {
            credential = try $0.insertCredential(instanceID: id, verifier: [1], createdAt: "t") { _ in [1] }
        }
        try moves("a credential expiry") { try $0.expireCredential(id: credential, at: Timestamp(seconds: 1)) }
        try moves("a credential delete") { try $0.deleteExpiredCredentials(instanceID: id, before: Timestamp(seconds: 2)) }
        try moves("a revocation") {
            try $0.revokeToken(jti: "j", instanceID: id, at: Timestamp(seconds: 1), expiresAt: Timestamp(seconds: 9))
        }
        var signingKey: Int64 = 0
        try moves("a signing key") {
            signingKey = try $0.insertSigningKey(
                kid: "k", algorithm: .edDSA, publicKey: [1], createdAt: Timestamp(seconds: 1), activatesAt: Timestamp(seconds: 1)
            ) { _ in [1] }
        }
        try moves("a signing key retirement") {
            try $0.retireSigningKey(id: signingKey, at: Timestamp(seconds: 2), publishedUntil: Timestamp(seconds: 3))
        }
        try moves("an unlock change") {
            try $0.updateUnlock(method: .keyFile, kdfOpslimit: nil, kdfMemlimit: nil, kdfSalt: nil, sealedVaultKey: [5])
        }
        try moves("a vault key rotation") {
            try $0.replaceVaultKey(
                sealedVaultKey: [6], sealedVerifierKey: [7], link: VaultKeyLink(epoch: 2, sealedKey: [8], createdAt: .now()),
                forgetLinksBefore: Timestamp(seconds: 0))
        }
        try moves("an instance delete") { try $0.deleteInstance(id: id) }
        // Statements that change no row change nothing a server holds.
        try staysPut("a repeated revocation") {
            try $0.revokeToken(jti: "j", instanceID: nil, at: Timestamp(seconds: 5), expiresAt: Timestamp(seconds: 9))
        }
        try staysPut("retiring a key that does not exist") {
            try $0.retireSigningKey(id: signingKey + 100, at: Timestamp(seconds: 4), publishedUntil: Timestamp(seconds: 5))
        }
        try moves("a staged key withdrawn") { try $0.deleteSigningKey(id: signingKey) }
        try moves("a subdomain chosen") { try $0.setSubdomain("acme-test") }
        try staysPut("deleting no expired credential") {
            try $0.deleteExpiredCredentials(instanceID: id, before: Timestamp(seconds: 9))
        }
        // Another session sees the same counter.
        #expect(try store.openAnother().read { try $0.stateVersion() } == last)
    }

    // MARK: Transactions

    @Test(arguments: Backend.allCases)
    func anErrorInsideWriteRollsBackEverything(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        struct Boom: Error {}
        let version = try store.read { try $0.stateVersion() }
        #expect(throws: Boom.self) {
            try store.write { tx in
                _ = try tx.insertInstance(subject.instance("gone")) { _ in [1] }
                try tx.appendAudit(record(0))
                try tx.insertSigningKey(kid: "k", algorithm: .edDSA, publicKey: [1], createdAt: .now(), activatesAt: .now()) { _ in [1] }
                try tx.appendAudit(record(1))
                throw Boom()
            }
        }
        #expect(try store.read { try $0.instanceCount() } == 0)
        #expect(try store.read { try $0.auditLogSize() } == 0)
        #expect(try store.read { try $0.latestSigningKey() } == nil)
        #expect(try store.read { try $0.stateVersion() } == version)
        // The session is usable afterwards, and the handle knows the log's head as it appends.
        try store.write { tx in
            try tx.appendAudit(record(0))
            try tx.appendAudit(record(1))
            #expect(try tx.auditLogSize() == 2)
        }
        #expect(try store.openAnother().read { try $0.auditLogSize() } == 2)
    }

    @Test(arguments: Backend.allCases)
    func readSeesOneSnapshot(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let other = try subject.store.openAnother()
        let (before, after) = try subject.store.read { tx in
            let before = try tx.instanceCount()
            try other.write { _ = try $0.insertInstance(subject.instance("late")) { _ in [1] } }
            return (before, try tx.instanceCount())
        }
        #expect(before == 0 && after == 0)
        #expect(try subject.store.read { try $0.instanceCount() } == 1)
    }

    @Test(arguments: Backend.allCases)
    func concurrentWritersAppendWithoutGapsOrErrors(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let writers = Writers(stores: [try subject.store.openAnother(), try subject.store.openAnother()])
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            let store = writers.stores[writer]
            do {
                for _ in 0..<200 {
                    try store.write { tx in try tx.appendAudit(record(try tx.auditLogSize(), customer: "w\(writer)")) }
                }
            } catch {
                writers.errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(writers.errors.withLock { $0 } == [])
        #expect(try subject.store.read { try $0.auditLogSize() } == 400)
        var seqs: [Int64] = []
        try subject.store.read { try $0.forEachAuditEvent(AuditFilter(newestFirst: false)) { seqs.append($0.seq) } }
        #expect(seqs == Array(0..<400))
    }
}

/// Stores handed to two threads, each using only its own.
private final class Writers: @unchecked Sendable {
    let stores: [any VaultStore]
    let errors = Mutex<[String]>([])
    init(stores: [any VaultStore]) { self.stores = stores }
}

extension StoreUnderTest {
    static func insertAnyInstance(into store: any VaultStore) throws -> Int64 {
        let record = InstanceRecord(
            name: "any", customer: "any", clientID: "sb-any", plan: .api, roles: [], grantTypes: [], redirectURIs: [],
            flows: [], tokenTTL: 60, tokenFormat: .opaque, url: "u", tokenURL: "t", origin: "generated",
            status: .active, createdAt: "c", updatedAt: "u")
        return try store.write { tx in try tx.insertInstance(record) { _ in [1] } }
    }
}

/// An audit row at `seq`, `seq` seconds after the epoch unless told otherwise.
func record(
    _ seq: Int64, time: Int64? = nil, event: AuditEventType = .gatewayCall, customer: String? = nil, clientID: String? = nil,
    flow: String? = nil
) -> AuditRecord {
    AuditRecord(
        seq: seq, time: Timestamp(seconds: time ?? seq), event: event, outcome: .allowed, reason: "r\(seq)",
        customer: customer, instance: "i", clientID: clientID, flow: flow, method: "GET", status: 200,
        remoteAddress: "127.0.0.1", requestID: "q\(seq)", latencyMicros: seq, jti: "j\(seq)",
        canonical: Array("event-\(seq)".utf8), leafHash: [UInt8(truncatingIfNeeded: seq), 0xAA])
}

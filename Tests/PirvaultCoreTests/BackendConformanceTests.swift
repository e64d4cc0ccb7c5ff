import Foundation
import PirvaultCrypto
import PirvaultTestSupport
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

/// The vault's behaviour on either backend: the same cases over SQLite and
/// PostgreSQL. (The tamper cases of InstanceTests, AuditLogTests and
/// VaultTests take the backend as an argument too.)
struct BackendConformanceTests {
    let time = TestClock()

    @Test(arguments: Backend.allCases)
    func aTokenLivesThroughRotationsAndDiesOnRevocation(_ backend: Backend) throws {
        let fixture = try Fixture(clock: time.clock, backend: backend)
        let old = try fixture.client(InstanceSpec(name: "acme", customer: "ACME"))
        let oldToken = try fixture.issue(old).accessToken
        #expect(try fixture.refusal(of: oldToken) == nil)

        let rotated = try fixture.vault.rotateCredentials(named: "acme", graceSeconds: 0)
        let current = (id: rotated.clientID, secret: rotated.clientSecret)
        #expect(try fixture.refusal(of: oldToken) == .secretRotatedOut)
        #expect(throws: TokenError.self) { try fixture.issue(old) }

        let revoked = try fixture.issue(current).accessToken
        _ = try fixture.vault.revokeToken(revoked)
        #expect(try fixture.refusal(of: revoked) == .tokenRevoked)

        let token = try fixture.issue(current).accessToken
        let opaque = try fixture.issue(current, format: .opaque).accessToken
        _ = try fixture.vault.rotateSigningKey()
        #expect(try fixture.vault.rotateVaultKey() == 1)
        #expect(try fixture.refusal(of: token) == nil)
        #expect(try fixture.refusal(of: opaque) == nil)

        // A new process with the key file sees the same.
        let reopened = try fixture.reopen(clock: time.clock)
        #expect(try reopened.verifyToken(token, flow: nil).isAllowed)
        #expect(try reopened.verifyToken(opaque, flow: nil).isAllowed)
        #expect(try reopened.verifyToken(revoked, flow: nil).refusal == .tokenRevoked)
        #expect(try reopened.serviceKey(named: "acme").clientSecret == current.secret)
        let fresh = try reopened.issueToken(TokenRequest(clientID: current.id, secret: current.secret)).accessToken
        #expect(try reopened.verifyToken(fresh, flow: nil).isAllowed)
        #expect(try reopened.verifyAuditLog().problem == nil)
    }

    enum SealedKey: CaseIterable {
        case signingKey, auditSigningKey
    }

    /// A flipped bit in a sealed key is tampering, reported as such, never used.
    @Test(arguments: Backend.allCases, SealedKey.allCases)
    func aDoctoredKeyIsReportedAsTampering(_ backend: Backend, _ key: SealedKey) throws {
        let fixture = try Fixture(backend: backend)
        let table = key == .signingKey ? "signing_keys" : "audit_signing_key"
        try fixture.flipBit(table: table, column: "sealed_private_key", where: "1 = 1")
        let vault = try fixture.reopen()
        #expect {
            switch key {
            case .signingKey: _ = try vault.signingIdentity()
            case .auditSigningKey: _ = try vault.auditVerifierKey()
            }
        } throws: { error in
            guard case VaultError.tampered(let message) = error else { return false }
            return message.contains(key == .signingKey ? "signing key" : "audit signing key")
        }
    }

    @Test(arguments: Backend.allCases)
    func aDeletedOrEditedEventIsFoundAtItsIndex(_ backend: Backend) throws {
        let fixture = try Fixture(backend: backend)
        for i in 0..<4 { _ = try fixture.vault.createInstance(InstanceSpec(name: "i\(i)", customer: "C")) }
        #expect(try fixture.vault.verifyAuditLog().problem == nil)
        try fixture.execute("UPDATE audit_events SET event = 'instance.delete' WHERE seq = 3")
        #expect(try fixture.reopen().verifyAuditLog().problem?.contains("index 3 was altered") == true)
        // The first bad index is the one reported.
        try fixture.execute("DELETE FROM audit_events WHERE seq = 1")
        let problem = try fixture.reopen().verifyAuditLog().problem
        #expect(problem?.contains("index 1 is missing") == true, "\(problem ?? "no problem found")")
    }
}

import Foundation
import PirvaultCore
import Synchronization
import Testing

@testable import PirvaultServer

struct AuthorizationCacheTests {
    /// A revocation by another process is not seen until the audit writer
    /// reports a newer state version; then the cache reloads and sees it.
    @Test func answersFromMemoryUntilTheStateVersionMoves() async throws {
        let vault = try await TestVault()
        let client = try await vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        let cache = try await AuthorizationCache(reader: try await vault.connection("test-reader"), timeout: .seconds(3))
        let loaded = try await vault.cli { try $0.stateVersion() }
        #expect(try await cache.stateVersion(force: false, newer: .min) == loaded)
        #expect(try await cache.withState { try $0.client(clientID: client.id) }?.status == .active)

        try await vault.cli { try $0.revokeCredentials(named: "acme") }
        let revoked = try await vault.cli { try $0.stateVersion() }
        #expect(revoked > loaded)
        #expect(try await cache.withState { try $0.client(clientID: client.id) }?.status == .active)
        #expect(try await cache.stateVersion(force: false, newer: loaded) == loaded)

        #expect(try await cache.stateVersion(force: false, newer: revoked) == revoked)
        #expect(try await cache.withState { try $0.client(clientID: client.id) }?.status == .revoked)
    }

    /// What memory holds (a client seen before, and an unknown one) is
    /// answered at once while the reading connection is busy; what it does
    /// not hold waits for the reader.
    @Test func memoryAnswersWithoutTheReadingConnection() async throws {
        let vault = try await TestVault()
        let seen = try await vault.client(InstanceSpec(name: "seen", customer: "ACME"))
        let unseen = try await vault.client(InstanceSpec(name: "unseen", customer: "ACME"))
        let reader = try await vault.connection("test-reader")
        let cache = try await AuthorizationCache(reader: reader, timeout: .seconds(5))
        #expect(try await cache.withState { try $0.client(clientID: seen.id) } != nil)
        #expect(try await cache.withState { try $0.client(clientID: "sb-nobody") } == nil)

        let busy = Atomic<Bool>(false)
        let occupied = Task {
            try await reader.perform(until: nil) { _ in
                busy.store(true, ordering: .releasing)
                Thread.sleep(forTimeInterval: 1.5)
            }
        }
        #expect(try await eventually { busy.load(ordering: .acquiring) })
        let started = ContinuousClock.now
        #expect(try await cache.withState { try $0.client(clientID: seen.id) }?.name == "seen")
        #expect(try await cache.withState { try $0.client(clientID: "sb-nobody") } == nil)
        #expect(ContinuousClock.now - started < .milliseconds(500))
        #expect(try await cache.withState { try $0.client(clientID: unseen.id) }?.name == "unseen")
        #expect(ContinuousClock.now - started > .milliseconds(800))
        try await occupied.value
    }
}

/// `Decisions.onCurrentState`, with the server's own cache and committer:
/// a decision whose state changes before its audit row commits is made again.
struct StaleDecisionRetryTests {
    @Test func aStaleDecisionIsMadeAgainOnTheNewState() async throws {
        let fixture = try await ServerFixture()
        let decisions = fixture.server.decisions
        let versions = Mutex<[Int64]>([])
        try await fixture.run { _ in
            try await decisions.onCurrentState { stateVersion in
                let attempt = versions.withLock { $0.append(stateVersion); return $0.count }
                // Another process changes the vault between this decision and its commit.
                if attempt == 1 { _ = try await fixture.vault.client(InstanceSpec(name: "new", customer: "ACME")) }
                try await decisions.committer.commit(PendingAudit(gatewayEvent("decided"), decidedAt: stateVersion))
            }
        }
        let current = try await fixture.vault.cli { try $0.stateVersion() }
        let tried = versions.withLock { $0 }
        #expect(tried.count == 2)
        #expect(tried.last == current && tried.first != current)
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(stored.map(\.requestID) == ["decided"])
    }

    @Test func aDecisionThatKeepsGoingStaleIsRefused() async throws {
        let fixture = try await ServerFixture()
        let decisions = fixture.server.decisions
        let attempts = Atomic<Int>(0)
        try await fixture.run { _ in
            await #expect(throws: StaleDecision.self) {
                try await decisions.onCurrentState { stateVersion in
                    let attempt = attempts.add(1, ordering: .relaxed).newValue
                    _ = try await fixture.vault.client(InstanceSpec(name: "new-\(attempt)", customer: "ACME"))
                    try await decisions.committer.commit(PendingAudit(gatewayEvent("never"), decidedAt: stateVersion))
                }
            }
        }
        #expect(attempts.load(ordering: .relaxed) == 1 + Decisions.staleRetries)
        #expect(StaleDecision().status == .serviceUnavailable)
        #expect(try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }.isEmpty)
    }
}

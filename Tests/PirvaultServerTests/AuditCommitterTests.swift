import Foundation
import Logging
import PirvaultCore
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@testable import PirvaultCore
@testable import PirvaultServer

/// Writes through a real vault connection, but fails or holds a batch when
/// told: the faults a database shows (an error, a commit that takes long)
/// without a mock in place of the store.
final class ScriptedWriter: AuditBatchWriter {
    enum Step: Sendable {
        case fail(VaultError)
        /// Waits until `release()` before writing.
        case hold
    }

    private let connection: SerializedVault
    private let script = Mutex<[Step]>([])
    private let sizes = Mutex<[Int]>([])
    private let gate: AsyncStream<Void>
    private let opener: AsyncStream<Void>.Continuation

    init(_ connection: SerializedVault) {
        self.connection = connection
        (gate, opener) = AsyncStream.makeStream()
    }

    var taskExecutor: any TaskExecutor { connection.taskExecutor }

    /// What the next batches do, in order; past the script a batch just writes.
    func script(_ steps: Step...) { script.withLock { $0 += steps } }
    /// Lets every held batch write.
    func release() { opener.finish() }
    /// The size of every batch it was handed, in order.
    var batchSizes: [Int] { sizes.withLock { $0 } }

    func append(
        _ entries: [PendingAudit], failuresSeen: Int64, forgettingFailuresBefore: Timestamp?,
        until deadline: ContinuousClock.Instant
    ) async throws -> AppendedAudit {
        sizes.withLock { $0.append(entries.count) }
        switch script.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
        case .fail(let error): throw error
        case .hold: for await _ in gate {}
        case nil: break
        }
        return try await connection.append(
            entries, failuresSeen: failuresSeen, forgettingFailuresBefore: forgettingFailuresBefore, until: deadline)
    }
}

/// A committer over a test vault, run as a service the way `serve` runs it.
struct CommitterFixture {
    let vault: TestVault
    let writer: ScriptedWriter
    let committer: AuditCommitter
    let limiter = FailureLimiter(limit: 3, windowSeconds: 60)
    let log = RecordedLog()

    init(timeout: Duration = .seconds(3)) async throws {
        vault = try await TestVault()
        writer = ScriptedWriter(try await vault.connection("test-writer"))
        committer = AuditCommitter(
            writer: writer, limiter: limiter, metrics: ServerMetrics(registry: PrometheusCollectorRegistry()),
            timeout: timeout, clock: .system, health: CommitHealth(logger: log.logger))
    }

    /// Runs `body` while the committer runs, then shuts it down gracefully.
    func running<T: Sendable>(_ body: @Sendable (AuditCommitter) async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [committer], logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body(committer)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// Every line logged through `logger`, as "level message".
final class RecordedLog: Sendable {
    private let recorded = Mutex<[String]>([])
    var lines: [String] { recorded.withLock { $0 } }
    var logger: Logger { Logger(label: "test") { _ in Handler(log: self) } }

    private struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.recorded.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}

func gatewayEvent(_ request: String) -> AuditEvent {
    AuditEvent(time: .now(), event: .gatewayCall, outcome: .allowed, flow: "orders", requestID: request)
}

/// Polls `condition` every 10 ms for up to 5 s.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    let end = ContinuousClock.now + .seconds(5)
    while !condition() {
        guard ContinuousClock.now < end else { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}

struct AuditCommitterTests {
    @Test func requestsThatArriveDuringACommitShareTheNextOne() async throws {
        let fixture = try await CommitterFixture()
        fixture.writer.script(.hold)
        try await fixture.running { committer in
            try await withThrowingTaskGroup(of: Void.self) { requests in
                requests.addTask { try await committer.commit(PendingAudit(gatewayEvent("first"))) }
                #expect(try await eventually { fixture.writer.batchSizes == [1] })
                for index in 0..<40 {
                    requests.addTask { try await committer.commit(PendingAudit(gatewayEvent("r\(index)"))) }
                }
                #expect(try await eventually { committer.waitingCount == 40 })
                fixture.writer.release()
                try await requests.waitForAll()
            }
        }
        #expect(fixture.writer.batchSizes == [1, 40])
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(Set(stored.compactMap(\.requestID)) == Set(["first"] + (0..<40).map { "r\($0)" }))
    }

    @Test func aFailedCommitRefusesItsRequestsAndTheNextOneCommits() async throws {
        let fixture = try await CommitterFixture()
        fixture.writer.script(.fail(.store(.io(path: "vault.db", problem: "No space left on device"))))
        try await fixture.running { committer in
            await #expect(throws: VaultError.self) { try await committer.commit(PendingAudit(gatewayEvent("lost"))) }
            try await committer.commit(PendingAudit(gatewayEvent("kept")))
        }
        // One line when commits start failing (saying why), one when they succeed again.
        let lines = fixture.log.lines
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("error audit commits are failing") == true && lines.first?.contains("No space left on device") == true)
        #expect(lines.last?.hasPrefix("notice audit commits succeed again") == true)
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(stored.map(\.requestID) == ["kept"])
        #expect(try await fixture.vault.cli { try $0.verifyAuditLog() }.isValid)
    }

    /// Another connection holds the write lock past the deadline: the commit
    /// is stopped at the deadline (not at SQLite's 30 s lock timeout), writes
    /// nothing, and the committer goes on once the lock is free.
    @Test func aCommitBehindAForeignWriteLockIsStoppedAtItsDeadline() async throws {
        let fixture = try await CommitterFixture(timeout: .milliseconds(500))
        let holder = try await fixture.vault.connection("test-lock-holder")
        let holding = Atomic<Bool>(false)
        let lock = Task {
            try await holder.perform(until: nil) { vault in
                try vault.write { _ in
                    holding.store(true, ordering: .releasing)
                    Thread.sleep(forTimeInterval: 2)
                }
            }
        }
        #expect(try await eventually { holding.load(ordering: .acquiring) })
        try await fixture.running { committer in
            let started = ContinuousClock.now
            let refusal = await #expect(throws: VaultError.self) {
                try await committer.commit(PendingAudit(gatewayEvent("stalled")))
            }
            let waited = ContinuousClock.now - started
            // The deadline ends the lock wait: interrupted, or busy if it
            // ended just as SQLite gave up; both are answered with 503.
            #expect(refusal == .store(.interrupted) || refusal == .store(.busy), "\(String(describing: refusal))")
            #expect(refusal?.status == .serviceUnavailable)
            #expect(waited >= .milliseconds(400) && waited < .milliseconds(1500), "waited \(waited)")
            try await lock.value
            try await committer.commit(PendingAudit(gatewayEvent("after")))
        }
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(stored.map(\.requestID) == ["after"])
        #expect(try await fixture.vault.cli { try $0.verifyAuditLog() }.isValid)
    }

    @Test func aDecisionOnAStateThatChangedIsRefusedAsStale() async throws {
        let fixture = try await CommitterFixture()
        let before = try await fixture.vault.cli { try $0.stateVersion() }
        _ = try await fixture.vault.client(InstanceSpec(name: "acme", customer: "ACME"))
        let after = try await fixture.vault.cli { try $0.stateVersion() }
        #expect(after != before)
        try await fixture.running { committer in
            await #expect(throws: StaleDecision.self) {
                try await committer.commit(PendingAudit(gatewayEvent("stale"), decidedAt: before))
            }
            #expect(committer.latestStateVersion.load(ordering: .acquiring) == after)
            try await committer.commit(PendingAudit(gatewayEvent("current"), decidedAt: after))
        }
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(stored.map(\.requestID) == ["current"])
    }

    @Test func aFailedAuthenticationIsCountedByTheLimiterWhenItCommits() async throws {
        let fixture = try await CommitterFixture()
        let keys = ["client:sb-x", "address:127.0.0.1"]
        let now = Timestamp.now()
        try await fixture.running { committer in
            for attempt in 0..<3 {
                #expect(fixture.limiter.retryAfter(keys[0], now: now.seconds) == nil, "attempt \(attempt)")
                let event = AuditEvent(time: now, event: .tokenIssue, outcome: .denied, reason: "invalid client secret")
                try await committer.commit(PendingAudit(event, limiterKeys: keys, authenticationFailed: true))
            }
        }
        #expect(fixture.limiter.retryAfter(keys[0], now: now.seconds) != nil)
        #expect(fixture.limiter.retryAfter(keys[1], now: now.seconds) != nil)
    }

    /// Graceful shutdown commits what is waiting; afterwards a request is
    /// refused at once instead of waiting for a committer that is gone.
    @Test func shutdownCommitsWhatIsWaitingAndThenRefuses() async throws {
        let fixture = try await CommitterFixture()
        fixture.writer.script(.hold)
        let group = ServiceGroup(services: [fixture.committer], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let committer = fixture.committer
            tasks.addTask { try await committer.commit(PendingAudit(gatewayEvent("held"))) }
            #expect(try await eventually { fixture.writer.batchSizes == [1] })
            tasks.addTask { try await committer.commit(PendingAudit(gatewayEvent("waiting"))) }
            #expect(try await eventually { committer.waitingCount == 1 })
            await group.triggerGracefulShutdown()
            fixture.writer.release()
            try await tasks.waitForAll()
        }
        await #expect(throws: VaultError.self) { try await fixture.committer.commit(PendingAudit(gatewayEvent("late"))) }
        let stored = try await fixture.vault.auditEvents().filter { $0.event == .gatewayCall }
        #expect(stored.map(\.requestID) == ["held", "waiting"])
    }
}

struct FailureLimiterTests {
    @Test func refusesPastTheLimitUntilTheWindowEnds() {
        let limiter = FailureLimiter(limit: 3, windowSeconds: 60)
        for second in [1000, 1010] as [Int64] { limiter.recordFailure("client:a", now: second) }
        #expect(limiter.retryAfter("client:a", now: 1020) == nil)
        limiter.recordFailure("client:a", now: 1020)
        #expect(limiter.retryAfter("client:a", now: 1020) == 40)
        #expect(limiter.retryAfter("client:a", now: 1059) == 1)
        #expect(limiter.retryAfter("client:a", now: 1060) == nil)
        #expect(limiter.retryAfter("client:b", now: 1020) == nil)
    }

    @Test func aFailureAfterTheWindowStartsANewOne() {
        let limiter = FailureLimiter(limit: 2, windowSeconds: 60)
        limiter.recordFailure("address:10.0.0.1", now: 0)
        limiter.recordFailure("address:10.0.0.1", now: 61)
        #expect(limiter.retryAfter("address:10.0.0.1", now: 61) == nil)
        limiter.recordFailure("address:10.0.0.1", now: 62)
        #expect(limiter.retryAfter("address:10.0.0.1", now: 62) == 59)
    }
}

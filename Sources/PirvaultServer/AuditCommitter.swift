import PirvaultCore
import ServiceLifecycle
import Synchronization

/// Durable audit with group commit, as a service of the application's
/// `ServiceGroup`. A request hands over its event and waits; the service
/// commits everything that is waiting in one transaction (`synchronous=FULL`)
/// on the writer connection, then answers all of them. While one commit
/// syncs, the next batch gathers, so durability costs one fsync per batch,
/// not per request.
///
/// Every batch has a deadline: its oldest request's arrival plus the
/// configured timeout. A commit that misses it (a database that stalls or a
/// lock held elsewhere) is stopped, and each of its requests is refused
/// with 503 — never served unaudited, never left hanging. A decision made
/// on a state that changed before the commit gets `StaleDecision` instead,
/// and its request is decided again on the new state.
///
/// On graceful shutdown (after the HTTP server has stopped, as the service
/// group stops services in reverse order) it commits what is left and ends.
final class AuditCommitter: Service, Sendable {
    private struct Waiting {
        var entries: [PendingAudit] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var oldest = ContinuousClock.now
        var stopped = false
    }

    private let waiting = Mutex(Waiting())
    /// Rung when work arrives; holds at most one ring, so a busy committer
    /// finds everything that gathered meanwhile in one batch.
    private let doorbell: AsyncStream<Void>.Continuation
    private let rings: AsyncStream<Void>
    private let writer: any AuditBatchWriter
    /// Fed with the failed authentications of every server after each
    /// commit, so the limit counts across nodes.
    private let limiter: FailureLimiter
    private let metrics: ServerMetrics
    private let timeout: Duration
    private let clock: Clock
    /// Told of every commit's outcome; logs when commits start and stop failing.
    let health: CommitHealth
    /// The vault's state version at the latest commit: a newer one than the
    /// cache holds means another process or node changed the vault.
    let latestStateVersion = Atomic<Int64>(.min)

    init(
        writer: any AuditBatchWriter, limiter: FailureLimiter, metrics: ServerMetrics, timeout: Duration, clock: Clock,
        health: CommitHealth
    ) {
        self.writer = writer
        self.health = health
        self.limiter = limiter
        self.metrics = metrics
        self.timeout = timeout
        self.clock = clock
        (rings, doorbell) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Returns once `entry` is committed; throws `StaleDecision` if the
    /// state its request was decided on is no longer current, and the
    /// vault's error if the commit failed or missed its deadline.
    func commit(_ entry: PendingAudit) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = waiting.withLock { waiting -> Bool in
                guard !waiting.stopped else { return false }
                if waiting.entries.isEmpty { waiting.oldest = .now }
                waiting.entries.append(entry)
                waiting.waiters.append(continuation)
                return true
            }
            if accepted { doorbell.yield() } else { continuation.resume(throwing: VaultError.store(.interrupted)) }
        }
    }

    /// How many requests wait for the next batch.
    var waitingCount: Int { waiting.withLock { $0.entries.count } }

    /// The service: commits batches until graceful shutdown (or
    /// cancellation), then commits what is still waiting.
    func run() async {
        var progress = Progress()
        await withGracefulShutdownHandler {
            // On the writer's thread: from one batch to the next the loop
            // waits for no thread of the cooperative pool, which the request
            // handlers keep busy.
            await withTaskExecutorPreference(writer.taskExecutor) {
                for await _ in rings {
                    while let batch = take() { await commit(batch, &progress) }
                }
            }
        } onGracefulShutdown: {
            self.waiting.withLock { $0.stopped = true }
            self.doorbell.finish()
        }
        // Cancelled before the rings were all read: nobody will commit these.
        waiting.withLock { $0.stopped = true }
        while let batch = take() { for waiter in batch.waiters { waiter.resume(throwing: VaultError.store(.interrupted)) } }
    }

    /// What the committer carries from one batch to the next.
    private struct Progress {
        /// The last failure row already fed to `limiter`.
        var failuresSeen: Int64 = 0
        var batchesSincePurge = AuditCommitter.batchesBetweenPurges
    }

    private func take() -> Waiting? {
        waiting.withLock { waiting -> Waiting? in
            guard !waiting.entries.isEmpty else { return nil }
            let batch = waiting
            waiting.entries.removeAll(keepingCapacity: true)
            waiting.waiters.removeAll(keepingCapacity: true)
            return batch
        }
    }

    private func commit(_ batch: Waiting, _ progress: inout Progress) async {
        let started = ContinuousClock.now
        progress.batchesSincePurge += 1
        var purgeBefore: Timestamp? = nil
        if progress.batchesSincePurge > Self.batchesBetweenPurges {
            // Now and then (and before the first batch) the failed
            // authentications older than the limit's window are forgotten.
            progress.batchesSincePurge = 0
            purgeBefore = clock.now().adding(seconds: -2 * limiter.windowSeconds)
        }
        do {
            let appended = try await writer.append(
                batch.entries, failuresSeen: progress.failuresSeen, forgettingFailuresBefore: purgeBefore,
                until: batch.oldest + timeout)
            for failure in appended.failures {
                limiter.recordFailure(failure.key, now: failure.time.seconds)
                progress.failuresSeen = failure.id
            }
            health.succeeded()
            latestStateVersion.store(appended.stateVersion, ordering: .releasing)
            metrics.auditCommitted(events: batch.entries.count - appended.stale.count, duration: .now - started)
            for (index, waiter) in batch.waiters.enumerated() {
                if appended.stale.contains(index) { waiter.resume(throwing: StaleDecision()) } else { waiter.resume() }
            }
        } catch {
            health.failed(error)
            for waiter in batch.waiters { waiter.resume(throwing: error) }
        }
    }

    static let batchesBetweenPurges = 10_000
}

/// Where the committer writes a batch: the vault's writing connection (a
/// `SerializedVault`), or in tests one that fails, stalls or refuses as told.
protocol AuditBatchWriter: Sendable {
    /// Where the committer's loop runs between its calls.
    var taskExecutor: any TaskExecutor { get }

    /// Appends the entries that are not stale in one transaction, after
    /// deleting the failed authentications older than `forgettingFailuresBefore`
    /// when given; stopped at `deadline`.
    func append(
        _ entries: [PendingAudit], failuresSeen: Int64, forgettingFailuresBefore: Timestamp?,
        until deadline: ContinuousClock.Instant
    ) async throws -> AppendedAudit
}

extension SerializedVault: AuditBatchWriter {
    func append(
        _ entries: [PendingAudit], failuresSeen: Int64, forgettingFailuresBefore: Timestamp?,
        until deadline: ContinuousClock.Instant
    ) async throws -> AppendedAudit {
        try await perform(until: deadline) { vault in
            if let forgettingFailuresBefore { try vault.forgetAuthenticationFailures(before: forgettingFailuresBefore) }
            return try vault.appendAuditEvents(entries, failuresSeen: failuresSeen)
        }
    }
}

/// The request was decided on a state that another process or node changed
/// before its audit row committed: decide it again.
struct StaleDecision: Error {}

import Foundation
import PirvaultCore
import ServiceLifecycle
import Synchronization

/// Durable audit with group commit, as a service of the application's
/// `ServiceGroup`. A request hands over its event and waits; one writer
/// thread commits everything that is waiting in one transaction
/// (`synchronous=FULL`), then answers all of them. While one commit syncs,
/// the next batch gathers, so durability costs one fsync per batch, not per
/// request; the writer is woken only when it has gone idle, not per request.
/// If the commit fails every waiter gets the error (the request is then
/// refused with 503, never served unaudited). A decision made on a state that
/// changed before the commit gets `StaleDecision` instead, and its request is
/// decided again on the new state.
///
/// The writer thread runs while the service runs: it starts with `run()` and,
/// on graceful shutdown (after the HTTP server has stopped, as the service
/// group stops services in reverse order), commits what is left and ends.
final class AuditCommitter: Service, Sendable {
    /// Work for the writer thread: a batch of audit rows, or one other write.
    private struct Pending {
        var entries: [PendingAudit] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var jobs: [@Sendable (Vault) -> Void] = []
        var idle = false
        var stopping = false
    }

    private let pending = Mutex(Pending())
    /// Fed from the vault after each commit with the failed authentications
    /// of every server, so the limit counts across nodes.
    private let limiter: FailureLimiter
    private let metrics: ServerMetrics
    /// The vault's state version at the latest commit: a newer one than the
    /// cache holds means another process or node changed the vault.
    let latestStateVersion = Atomic<Int64>(.min)
    /// The last failure row already fed to `limiter` (touched only by the writer thread).
    nonisolated(unsafe) private var failuresSeen: Int64 = 0
    nonisolated(unsafe) private var batchesSincePurge = AuditCommitter.batchesBetweenPurges
    private let wake = DispatchSemaphore(value: 0)
    private let vault: Mutex<Vault>

    init(vault: sending Vault, limiter: FailureLimiter, metrics: ServerMetrics) {
        self.limiter = limiter
        self.metrics = metrics
        self.vault = Mutex(vault)
    }

    /// Returns once `entry` is committed; throws `StaleDecision` if the
    /// state its request was decided on is no longer current.
    func commit(_ entry: PendingAudit) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue { state in
                state.entries.append(entry)
                state.waiters.append(continuation)
            } refused: {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Runs `body` on the writer thread, between two batches: for the few
    /// writes besides audit rows (a token revocation), so that they never
    /// block a request thread.
    func write<T: Sendable>(_ body: @escaping @Sendable (Vault) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue { state in
                state.jobs.append { vault in continuation.resume(with: Result { try body(vault) }) }
            } refused: {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Adds work, waking the writer only if it sleeps.
    private func enqueue(_ add: (inout Pending) -> Void, refused: () -> Void) {
        let (accepted, wasIdle) = pending.withLock { state -> (Bool, Bool) in
            guard !state.stopping else { return (false, false) }
            add(&state)
            defer { state.idle = false }
            return (true, state.idle)
        }
        if !accepted { refused() } else if wasIdle { wake.signal() }
    }

    /// The service: the writer thread runs until graceful shutdown (or
    /// cancellation), then commits what is waiting and stops.
    func run() async {
        pending.withLock { $0.stopping = false }
        let (finished, finish) = AsyncStream<Never>.makeStream()
        let thread = Thread { [self] in
            writeUntilStopped()
            finish.finish()
        }
        thread.name = "pirvault-audit"
        thread.start()
        try? await gracefulShutdown()
        pending.withLock { $0.stopping = true }
        wake.signal()
        for await _ in finished {}
    }

    private func writeUntilStopped() {
        while true {
            let (batch, idle) = pending.withLock { state -> (Pending, Bool) in
                let taken = state
                state.entries.removeAll(keepingCapacity: true)
                state.waiters.removeAll(keepingCapacity: true)
                state.jobs.removeAll(keepingCapacity: true)
                state.idle = taken.waiters.isEmpty && taken.jobs.isEmpty && !taken.stopping
                return (taken, state.idle)
            }
            if idle {
                wake.wait()
                continue
            }
            vault.withLock { vault in
                for job in batch.jobs { job(vault) }
                if !batch.waiters.isEmpty { commit(batch, vault) }
            }
            if batch.stopping && batch.waiters.isEmpty && batch.jobs.isEmpty { return }
        }
    }

    private func commit(_ batch: Pending, _ vault: Vault) {
        let started = ContinuousClock.now
        do {
            try forgetOldFailures(vault)
            let appended = try vault.appendAuditEvents(batch.entries, failuresSeen: failuresSeen)
            for failure in appended.failures {
                limiter.recordFailure(failure.key, now: failure.time.seconds)
                failuresSeen = failure.id
            }
            latestStateVersion.store(appended.stateVersion, ordering: .releasing)
            metrics.auditCommitted(events: batch.entries.count - appended.stale.count, duration: ContinuousClock.now - started)
            for (index, waiter) in batch.waiters.enumerated() {
                if appended.stale.contains(index) { waiter.resume(throwing: StaleDecision()) } else { waiter.resume() }
            }
        } catch {
            for waiter in batch.waiters { waiter.resume(throwing: error) }
        }
    }
}

extension AuditCommitter {
    static let batchesBetweenPurges = 10_000

    /// Now and then (and before the first batch) forgets the failed
    /// authentications older than the limit's window.
    private func forgetOldFailures(_ vault: Vault) throws {
        batchesSincePurge += 1
        guard batchesSincePurge > Self.batchesBetweenPurges else { return }
        batchesSincePurge = 0
        try vault.forgetAuthenticationFailures(before: vault.clock.now().adding(seconds: -2 * limiter.windowSeconds))
    }
}

/// The request was decided on a state that another process or node changed
/// before its audit row committed: decide it again.
struct StaleDecision: Error {}

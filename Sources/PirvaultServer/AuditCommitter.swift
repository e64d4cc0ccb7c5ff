import Foundation
import PirvaultCore
import Synchronization

/// Durable audit with group commit. A request hands over its event and waits;
/// one writer thread commits everything that is waiting in one transaction
/// (`synchronous=FULL`), then answers all of them. While one commit syncs,
/// the next batch gathers, so durability costs one fsync per batch, not per
/// request. If the commit fails every waiter gets the error (the request is
/// then refused with 503, never served unaudited). A decision made on a
/// state that changed before the commit gets `StaleDecision` instead, and its
/// request is decided again on the new state.
final class AuditCommitter: Sendable {
    private struct Pending {
        var entries: [PendingAudit] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var stopping = false
    }

    private let pending = Mutex(Pending())
    /// Fed from the vault after each commit with the failed authentications
    /// of every server, so the limit counts across nodes.
    private let limiter: FailureLimiter
    /// The last failure row already fed to `limiter` (touched only by the writer thread).
    nonisolated(unsafe) private var failuresSeen: Int64 = 0
    nonisolated(unsafe) private var batchesSincePurge = AuditCommitter.batchesBetweenPurges
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let vault: Mutex<Vault>

    init(vault: sending Vault, limiter: FailureLimiter) {
        self.limiter = limiter
        self.vault = Mutex(vault)
        let thread = Thread { [self] in run() }
        thread.name = "pirvault-audit"
        thread.start()
    }

    /// Returns once `entry` is committed; throws `StaleDecision` if the
    /// state its request was decided on is no longer current.
    func commit(_ entry: PendingAudit) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = pending.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.entries.append(entry)
                state.waiters.append(continuation)
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Revokes a token on the writer's connection (audited there).
    func revoke(_ token: VerifiedToken, reason: String, requestID: String?, remoteAddress: String?) throws {
        try vault.withLock { try $0.revoke(token, reason: reason, requestID: requestID, remoteAddress: remoteAddress) }
    }

    /// Commits what is waiting and stops the writer thread.
    func shutdown() {
        pending.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wake.wait()
            let batch = pending.withLock { state -> Pending in
                let taken = state
                state.entries.removeAll(keepingCapacity: true)
                state.waiters.removeAll(keepingCapacity: true)
                return taken
            }
            if !batch.waiters.isEmpty {
                do {
                    let stale = try vault.withLock { vault in
                        try forgetOldFailures(vault)
                        let appended = try vault.appendAuditEvents(batch.entries, failuresSeen: failuresSeen)
                        for failure in appended.failures {
                            limiter.recordFailure(failure.key, now: failure.time.seconds)
                            failuresSeen = failure.id
                        }
                        return appended.stale
                    }
                    for (index, waiter) in batch.waiters.enumerated() {
                        if stale.contains(index) { waiter.resume(throwing: StaleDecision()) } else { waiter.resume() }
                    }
                } catch {
                    for waiter in batch.waiters { waiter.resume(throwing: error) }
                }
            }
            if batch.stopping {
                finished.signal()
                return
            }
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

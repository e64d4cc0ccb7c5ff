import Foundation
import PirvaultCore
import Synchronization

/// Durable audit with group commit. A request hands over its event and waits;
/// one writer thread commits everything that is waiting in one transaction
/// (`synchronous=FULL`), then answers all of them. While one commit syncs,
/// the next batch gathers, so durability costs one fsync per batch, not per
/// request. If the commit fails every waiter gets the error (the request is
/// then refused with 503, never served unaudited).
final class AuditCommitter: Sendable {
    private struct Pending {
        var events: [AuditEvent] = []
        var opaque: [OpaqueTokenRecord] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var stopping = false
    }

    private let pending = Mutex(Pending())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let vault: Mutex<Vault>

    init(vault: sending Vault) {
        self.vault = Mutex(vault)
        let thread = Thread { [self] in run() }
        thread.name = "pirvault-audit"
        thread.start()
    }

    /// Returns once `event` (and `opaque`, the record of an opaque token just
    /// issued) is committed.
    func commit(_ event: AuditEvent, opaque: OpaqueTokenRecord? = nil) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = pending.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.events.append(event)
                if let opaque { state.opaque.append(opaque) }
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
                state.events.removeAll(keepingCapacity: true)
                state.opaque.removeAll(keepingCapacity: true)
                state.waiters.removeAll(keepingCapacity: true)
                return taken
            }
            if !batch.waiters.isEmpty {
                do {
                    try vault.withLock { try $0.appendAuditEvents(batch.events, storingOpaqueTokens: batch.opaque) }
                    for waiter in batch.waiters { waiter.resume() }
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

import Foundation
import Synchronization

/// Stops a connection's work when its deadline passes: one thread per
/// connection that sleeps until the deadline of the work running now.
///
/// A timer per piece of work (a sleeping task beside it) costs a task group,
/// a timer registration and a thread wake-up per audit commit, which showed
/// as a lower gateway rate. Here a commit only stores its deadline: the
/// thread is woken when work starts after an idle spell (or with an earlier
/// deadline than the one it sleeps towards), and otherwise wakes about once
/// per timeout, finds the work that runs then, and sleeps on until that
/// work's deadline. Written by hand because a timer that is re-armed only
/// when needed is what neither Dispatch's timers nor `Task.sleep` offer.
final class DeadlineWatchdog: Sendable {
    /// The work running now, with its deadline, and what the thread sleeps towards.
    private struct State {
        var running: (deadline: ContinuousClock.Instant, stop: @Sendable () -> Void)?
        /// nil while the thread sleeps with no deadline to wait for (or is awake).
        var sleepingUntil: ContinuousClock.Instant?
        var idle = true
        var stopping = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in watch() }
        thread.name = name
        thread.start()
    }

    /// Work with `deadline` starts; `stop` interrupts it if it still runs then.
    func started(until deadline: ContinuousClock.Instant, stop: @escaping @Sendable () -> Void) {
        let wakeUp = state.withLock { state -> Bool in
            state.running = (deadline, stop)
            return state.idle || (state.sleepingUntil.map { deadline < $0 } ?? false)
        }
        if wakeUp { wake.signal() }
    }

    /// The work that started last has finished.
    func finished() { state.withLock { $0.running = nil } }

    /// Lets the thread end.
    func stopWatching() {
        state.withLock { $0.stopping = true }
        wake.signal()
    }

    private func watch() {
        while true {
            let next = state.withLock { state -> ContinuousClock.Instant?? in
                guard !state.stopping else { return .none }
                let deadline = state.running?.deadline
                state.idle = deadline == nil
                state.sleepingUntil = deadline
                return .some(deadline)
            }
            guard let next else { return }
            if let deadline = next {
                let wait = max(.zero, deadline - .now).components
                let nanoseconds = Int(wait.seconds) * 1_000_000_000 + Int(wait.attoseconds / 1_000_000_000)
                _ = wake.wait(timeout: .now() + .nanoseconds(nanoseconds))
            } else {
                wake.wait()
            }
            let overdue = state.withLock { state -> (@Sendable () -> Void)? in
                state.sleepingUntil = nil
                state.idle = false
                guard let running = state.running, running.deadline <= .now else { return nil }
                return running.stop
            }
            overdue?()
        }
    }
}

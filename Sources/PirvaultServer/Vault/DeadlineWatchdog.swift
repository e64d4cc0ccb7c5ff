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
    /// What the thread does between two looks at the work.
    private enum Sleep {
        case awake
        /// No work runs: only `started` wakes it.
        case untilWoken
        case until(ContinuousClock.Instant)
    }

    /// The work running now, with its deadline, and how the thread sleeps.
    private struct State {
        var running: (deadline: ContinuousClock.Instant, stop: @Sendable () -> Void)?
        var sleep = Sleep.awake
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
            switch state.sleep {
            case .awake: return false
            case .untilWoken: return true
            case .until(let later): return deadline < later
            }
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
            let sleep = state.withLock { state -> Sleep? in
                guard !state.stopping else { return nil }
                state.sleep = state.running.map { .until($0.deadline) } ?? .untilWoken
                return state.sleep
            }
            switch sleep {
            case nil: return
            case .awake: break
            case .untilWoken: wake.wait()
            case .until(let deadline):
                let wait = max(.zero, deadline - .now).components
                let nanoseconds = Int(wait.seconds) * 1_000_000_000 + Int(wait.attoseconds / 1_000_000_000)
                _ = wake.wait(timeout: .now() + .nanoseconds(nanoseconds))
            }
            let overdue = state.withLock { state -> (@Sendable () -> Void)? in
                state.sleep = .awake
                guard let running = state.running, running.deadline <= .now else { return nil }
                return running.stop
            }
            overdue?()
        }
    }
}

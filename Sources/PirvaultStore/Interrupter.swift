import Synchronization

/// Stops a store's work from another thread: what a deadline's timer, or
/// a cancelled task, holds of a store that a thread of its own is using.
///
/// Once `interrupt()` is called, the statement under way (SQLite's
/// `sqlite3_interrupt`), the wait for a lock, or the wait for the database
/// server (PostgreSQL) fails with `StoreError.interrupted`, and so does
/// every later statement, until the store's own thread calls `clear()`
/// before its next piece of work.
public final class Interrupter: Sendable {
    private struct State {
        var interrupted = false
        /// What ends the wait or statement under way (set by the store while it waits).
        var stop: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// Read on every statement, so kept apart from the lock.
    private let flag = Atomic<Bool>(false)

    package init() {}

    /// Stops what the store does now, and everything after, until `clear()`.
    /// Any thread. The stop action runs under the lock, so a store that
    /// withdraws it (`setStop(nil)`) is never called afterwards.
    public func interrupt() {
        state.withLock { state in
            state.interrupted = true
            flag.store(true, ordering: .sequentiallyConsistent)
            state.stop?()
        }
    }

    /// What `interrupt()` calls from now on to end a running statement (nil: nothing).
    package func setStop(_ stop: (@Sendable () -> Void)?) {
        state.withLock { $0.stop = stop }
    }

    /// Lets the store work again. Its own thread, between two pieces of work.
    public func clear() {
        state.withLock { state in
            state.interrupted = false
            flag.store(false, ordering: .sequentiallyConsistent)
        }
    }

    public var isInterrupted: Bool { flag.load(ordering: .sequentiallyConsistent) }

    /// Fails at once when interrupted.
    package func check() throws {
        if isInterrupted { throw StoreError.interrupted }
    }

    /// Runs `body` with `stop` as what `interrupt()` calls meanwhile (it
    /// must be quick: it runs under the lock); throws `interrupted` without
    /// running `body` if already interrupted.
    package func whileWaiting<T>(stoppedBy stop: @escaping @Sendable () -> Void, _ body: () throws -> T) throws -> T {
        let proceed = state.withLock { state -> Bool in
            guard !state.interrupted else { return false }
            state.stop = stop
            return true
        }
        guard proceed else { throw StoreError.interrupted }
        defer { state.withLock { $0.stop = nil } }
        return try body()
    }
}

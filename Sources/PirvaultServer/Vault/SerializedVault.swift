import PirvaultCore
import Synchronization

/// One vault connection for async code, in the pattern of GRDB's
/// `SerializedDatabase`: an actor that owns one `Vault` (which is not
/// `Sendable` and blocks its thread) and runs every piece of work on it
/// one at a time, on a thread of its own (`ThreadExecutor`).
///
/// Work is a synchronous `(Vault) throws -> T` body with a deadline: if the
/// body has not finished when the deadline passes, or its task is
/// cancelled, the store's `Interrupter` stops it (SQLite's
/// `sqlite3_interrupt` and lock wait, PostgreSQL's pending statement or
/// connection attempt), and the caller gets `StoreError.interrupted` as a
/// `VaultError` — never a hang. Work that waited in the queue past its
/// deadline fails without running.
///
/// The server has two: the cache's reader and the audit committer's writer.
public actor SerializedVault {
    private let vault: Vault
    private let executor: ThreadExecutor
    private let interrupter: Interrupter
    private let watchdog: DeadlineWatchdog
    /// The work running now, so that a late stop cannot stop the next one.
    private let running = Mutex<Ticket?>(nil)

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    /// The connection's thread, for a task that should run there between its calls.
    nonisolated var taskExecutor: any TaskExecutor { executor }

    private init(_ vault: sending Vault, executor: ThreadExecutor) {
        self.vault = vault
        self.executor = executor
        interrupter = vault.interrupter
        watchdog = DeadlineWatchdog(name: executor.name + "-deadline")
    }

    deinit {
        executor.stop()
        watchdog.stopWatching()
    }

    /// Opens a vault with `open` on a new connection thread named `name`:
    /// unlocking (Argon2id), migrations and all run there, not on the
    /// caller's thread.
    public static func open(
        _ name: String, _ open: @escaping @Sendable () throws -> sending Vault
    ) async throws -> SerializedVault {
        let executor = ThreadExecutor(name: name)
        do {
            return try await Opener(executor: executor).open(open)
        } catch {
            executor.stop()
            throw error
        }
    }

    /// A second connection to the same vault, with the same keys, on a
    /// thread of its own.
    public func openAnother(_ name: String) throws -> SerializedVault {
        SerializedVault(try vault.openAnotherConnection(), executor: ThreadExecutor(name: name))
    }

    /// Runs `body` on the connection's thread once the work queued before
    /// it is done. It is stopped at `deadline` (nil: never) or when the
    /// calling task is cancelled.
    public nonisolated func perform<T: Sendable>(
        until deadline: ContinuousClock.Instant?, _ body: @escaping @Sendable (Vault) throws -> T
    ) async throws -> T {
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await run(ticket, until: deadline, body)
        } onCancel: {
            stop(ticket)
        }
    }

    private func run<T>(_ ticket: Ticket, until deadline: ContinuousClock.Instant?, _ body: (Vault) throws -> T) throws -> T {
        let stopped = running.withLock { current -> Bool in
            current = ticket
            interrupter.clear()
            return ticket.stopped.load(ordering: .relaxed)
        }
        defer { running.withLock { $0 = nil } }
        if stopped { throw VaultError.store(.interrupted) }
        guard let deadline else { return try body(vault) }
        // Waited in the queue past its deadline: not started.
        guard deadline > .now else { throw VaultError.store(.interrupted) }
        watchdog.started(until: deadline) { [self] in stop(ticket) }
        defer { watchdog.finished() }
        return try body(vault)
    }

    /// Marks `ticket`'s work as stopped, and interrupts it if it runs now.
    private nonisolated func stop(_ ticket: Ticket) {
        running.withLock { current in
            ticket.stopped.store(true, ordering: .relaxed)
            if current === ticket { interrupter.interrupt() }
        }
    }

    /// One piece of work; whether it was stopped is set and read under `running`'s lock.
    private final class Ticket: Sendable {
        let stopped = Atomic<Bool>(false)
    }

    /// Runs the opening on the new executor, so the vault is made on its thread.
    private actor Opener {
        let executor: ThreadExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

        init(executor: ThreadExecutor) { self.executor = executor }

        func open(_ open: @Sendable () throws -> sending Vault) throws -> SerializedVault {
            SerializedVault(try open(), executor: executor)
        }
    }
}

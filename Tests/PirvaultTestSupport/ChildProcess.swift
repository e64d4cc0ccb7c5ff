import Foundation
import Synchronization

/// Runs blocking `work` on a thread of its own and resumes the caller with
/// what it returns or throws.
///
/// The one way the tests wait for something that holds a thread: a child's
/// exit (``ChildProcess``), a whole `pg_ctl` or `psql` run
/// (``TestPostgres``), a blocking socket read. swift-testing runs async tests
/// on Swift's cooperative pool, which has one thread per core (two on CI);
/// a test that blocked one of them would stall every other test's awaits
/// and any server running in the test process. Here the blocking happens on
/// a new thread that ends when `work` returns, and the caller's task only
/// waits on a continuation. `work` cannot be cancelled, so it must bound
/// itself (a timeout, a process that ends).
public func onDedicatedThread<T: Sendable, E: Error>(
    _ work: @escaping @Sendable () throws(E) -> T
) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: Result { () throws(E) -> T in try work() }) }
    }
    return try result.get()
}

/// A program started with `posix_spawn`, whose exit any number of tasks can
/// await with ``exit()``, before or after it happens.
///
/// Not Foundation's `Process`, for two reasons. On Linux it learns of the
/// exit through a socket the child inherits, and a daemon the child leaves
/// behind (the server that `pg_ctl start` starts) keeps that socket open, so
/// the wait never ends. And in Swift 6.3.1 its `run()` reads each name in
/// /proc/self/fd by copying 256 bytes from a directory entry that may be
/// shorter, which now and then crashes the test process (SIGSEGV) when many
/// processes start at once, as they do when async tests run in parallel
/// (swift-corelibs-foundation #5472, fixed after 6.3.1). Here the child gets
/// stdin, stdout and stderr from files and no other descriptor, and a
/// dedicated thread (``onDedicatedThread(_:)``) waits for its exit, so no
/// thread of the cooperative pool blocks. Linux (glibc 2.34 or later) only,
/// as are the tests' socket helpers.
public final class ChildProcess: Sendable {
    /// How a program ended.
    public struct Exit: Sendable {
        /// The exit code, or 128 + the signal if one ended the program (as a shell reports it).
        public let status: Int32
        /// The signal that ended the program, if one did.
        public let signal: Int32?

        init(waitStatus: Int32) {
            let signal = waitStatus & 0x7f
            self.status = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal
            self.signal = signal == 0 ? nil : signal
        }
    }

    /// The program's process ID; send it signals with ``signal(_:)``.
    public let processIdentifier: pid_t
    private let reaper: Reaper
    private let exited: Task<Exit, Never>

    /// Starts `executable` (an absolute path) in its own process group, as
    /// Foundation's `Process` does, with stdin read from the file `stdin` and
    /// stdout and stderr written to the files `stdout` and `stderr` (created
    /// if missing; emptied first unless `appendingOutput`).
    public init(
        _ executable: String, _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = FileManager.default.currentDirectoryPath, stdin: String = "/dev/null",
        stdout: String = "/dev/null", stderr: String = "/dev/null", appendingOutput: Bool = false
    ) throws {
        let pid = try Self.spawn(
            executable, arguments, environment: environment, directory: directory, input: stdin, output: stdout,
            errors: stderr, appendingOutput: appendingOutput, ownProcessGroup: true
        ).mapError { ChildProcessError(executable: executable, problem: $0.problem) }.get()
        let reaper = Reaper(pid)
        processIdentifier = pid
        self.reaper = reaper
        exited = Task { await onDedicatedThread { reaper.waitAndReap() } }
    }

    /// Whether the program has not been reaped yet.
    public var isRunning: Bool { reaper.isRunning }

    /// Sends `signal` to the program unless it has been reaped (its process
    /// ID may then belong to another process).
    public func signal(_ signal: Int32) {
        reaper.whileRunning { _ = kill(processIdentifier, signal) }
    }

    /// How the program ended, once it has.
    public func exit() async -> Exit { await exited.value }

    /// Runs `executable` in `directory` with stdin read from the file
    /// `input` and stdout and stderr written to the files `output` and
    /// `errors`; returns its exit status (128 + the signal if one ended it).
    /// Blocks the calling thread in `waitpid` until the program exits, so
    /// async code calls it through ``onDedicatedThread(_:)`` (as the async
    /// forms of ``TestPostgres`` do).
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
        input: String, output: String, errors: String
    ) throws -> Int32 {
        let pid = try spawn(
            executable, arguments, environment: environment, directory: directory, input: input, output: output,
            errors: errors, appendingOutput: false, ownProcessGroup: false
        ).mapError { TestPostgresError.setup(path: executable, problem: $0.problem) }.get()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw TestPostgresError.setup(
                    path: executable, problem: "cannot wait for it: " + String(cString: strerror(errno)))
            }
        }
        return Exit(waitStatus: status).status
    }

    private struct SpawnFailure: Error {
        let problem: String
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
        input: String, output: String, errors: String, appendingOutput: Bool, ownProcessGroup: Bool
    ) -> Result<pid_t, SpawnFailure> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputFlags = O_WRONLY | O_CREAT | (appendingOutput ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, outputFlags, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errors, outputFlags, 0o600)
        guard let closeFrom = glibcFunction("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self),
            let changeDirectory = glibcFunction("posix_spawn_file_actions_addchdir_np", as: AddChangeDirectory.self)
        else {
            return .failure(
                SpawnFailure(
                    problem:
                        "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later has it)"))
        }
        _ = closeFrom(&actions, 3)
        _ = changeDirectory(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            return .failure(SpawnFailure(problem: "cannot run it: " + String(cString: strerror(spawned))))
        }
        return .success(pid)
    }

    private typealias AddCloseFrom =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// A glibc extension that Swift's Glibc module leaves out (it needs `_GNU_SOURCE`).
    private static func glibcFunction<Function>(_ name: String, as type: Function.Type) -> Function? {
        dlsym(nil, name).map { unsafeBitCast($0, to: type) }
    }
}

/// Waits for one child and reaps it. The child stays a zombie, its process
/// ID still taken, until it is reaped under the same lock that
/// ``ChildProcess/signal(_:)`` holds, so a signal never reaches another
/// process that was given the ID again.
private final class Reaper: Sendable {
    private let pid: pid_t
    private let exit = Mutex<ChildProcess.Exit?>(nil)

    init(_ pid: pid_t) { self.pid = pid }

    var isRunning: Bool { exit.withLock { $0 == nil } }

    func whileRunning(_ body: () -> Void) {
        exit.withLock { if $0 == nil { body() } }
    }

    /// Blocks until the child has exited (`waitid` with `WNOWAIT` leaves it
    /// unreaped), then reaps it.
    func waitAndReap() -> ChildProcess.Exit {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
            precondition(errno == EINTR, "cannot wait for child \(pid): " + String(cString: strerror(errno)))
        }
        return exit.withLock { exit in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 {
                precondition(errno == EINTR, "cannot reap child \(pid): " + String(cString: strerror(errno)))
            }
            let reaped = ChildProcess.Exit(waitStatus: status)
            exit = reaped
            return reaped
        }
    }
}

/// A program could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let executable: String
    public let problem: String
    public var description: String { "cannot start \(executable): \(problem)" }
}

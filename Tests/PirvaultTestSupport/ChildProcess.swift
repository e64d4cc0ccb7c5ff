import Foundation

/// Runs blocking `work` on a thread of its own and resumes the caller with
/// what it returns or throws.
///
/// The one way the tests wait for something that holds a thread: a
/// `waitpid` (``ChildProcess``), a whole `pg_ctl` or `psql` run
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

/// Runs a program and waits for it, with `posix_spawn` and `waitpid`.
///
/// Not Foundation's `Process`: on Linux it learns of the exit through a
/// socket the child inherits, and a daemon the child leaves behind (the
/// server that `pg_ctl start` starts) keeps that socket open, so the wait
/// never ends. Here the child gets stdin, stdout and stderr and nothing else.
/// Linux (glibc 2.34 or later) only, as are the tests' socket helpers.
enum ChildProcess {
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard let closeFrom = glibcFunction("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self),
            let changeDirectory = glibcFunction("posix_spawn_file_actions_addchdir_np", as: AddChangeDirectory.self)
        else {
            throw TestPostgresError.setup(
                path: executable,
                problem:
                    "this C library lacks posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later has it)")
        }
        _ = closeFrom(&actions, 3)
        _ = changeDirectory(&actions, directory)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw TestPostgresError.setup(
                path: executable, problem: "cannot run it: " + String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else {
                throw TestPostgresError.setup(
                    path: executable, problem: "cannot wait for it: " + String(cString: strerror(errno)))
            }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
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

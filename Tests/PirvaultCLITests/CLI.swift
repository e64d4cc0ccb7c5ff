import Foundation
import PirvaultTestSupport

/// Runs the built `pirvault` binary, as a user would.
struct CLI {
    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
    }

    /// The `pirvault` executable next to the test bundle in the build folder.
    static let executable: URL = {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent("pirvault")
    }()

    let directory: String
    var environment: [String: String]

    /// A fresh folder; `PIRVAULT_PATH` points at a vault file in it.
    init() {
        directory = NSTemporaryDirectory() + "pirvault-cli-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        environment = [
            "PATH": "/usr/bin:/bin",
            "PIRVAULT_PATH": directory + "/vault.db",
            "PIRVAULT_TEST_INSECURE_KDF": "1",
        ]
    }

    var vaultPath: String { directory + "/vault.db" }

    /// Removes the folder and everything in it (vault, logs, large test files).
    func removeDirectory() { try? FileManager.default.removeItem(atPath: directory) }
    var keyPath: String { directory + "/vault.key" }

    /// A vault unlocked by a generated key file, with PIRVAULT_KEY_FILE set;
    /// `initArguments` go to `pirvault init` (`--signing-alg`, `--subdomain`).
    static func withVault(initArguments: [String] = []) async throws -> CLI {
        var cli = CLI()
        let result = await cli.run(["init", "--key-file", cli.keyPath, "--generate-key"] + initArguments)
        guard result.code == 0 else { throw CLIError(result.stderr) }
        cli.environment["PIRVAULT_KEY_FILE"] = cli.keyPath
        return cli
    }

    struct CLIError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func run(_ arguments: String..., stdin: String? = nil) async -> Result {
        await run(arguments, stdin: stdin)
    }

    func run(_ arguments: [String], stdin: String? = nil) async -> Result {
        await runExecutable(Self.executable.path, arguments, stdin: stdin)
    }

    /// With stdin given as raw bytes (which need not be UTF-8).
    func run(_ arguments: [String], stdinBytes: [UInt8]) async -> Result {
        await runExecutable(Self.executable.path, arguments, input: Data(stdinBytes))
    }

    func runExecutable(_ executable: String, _ arguments: [String], stdin: String? = nil) async -> Result {
        await runExecutable(executable, arguments, input: Data((stdin ?? "").utf8))
    }

    func runExecutable(_ executable: String, _ arguments: [String], input: Data) async -> Result {
        // Files, not pipes: no reader threads, and no deadlock on large output.
        let stem = directory + "/.run-" + UUID().uuidString
        FileManager.default.createFile(atPath: stem + ".out", contents: nil)
        FileManager.default.createFile(atPath: stem + ".err", contents: nil)
        FileManager.default.createFile(atPath: stem + ".in", contents: input)
        defer { for suffix in [".out", ".err", ".in"] { try? FileManager.default.removeItem(atPath: stem + suffix) } }
        let child = try! ChildProcess(
            executable, arguments, environment: environment, directory: directory, stdin: stem + ".in",
            stdout: stem + ".out", stderr: stem + ".err")
        let exit = await child.exit()
        return Result(
            code: exit.status,
            stdout: (try? String(contentsOfFile: stem + ".out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stem + ".err", encoding: .utf8)) ?? "")
    }
}

extension CLI {
    /// Starts `pirvault arguments`, sends it SIGKILL after `delay` seconds,
    /// and tells whether the signal ended it (false: it had already exited).
    func runKilled(_ arguments: [String], after delay: TimeInterval) async throws -> Bool {
        let child = try ChildProcess(Self.executable.path, arguments, environment: environment, directory: directory)
        defer { child.signal(SIGKILL) }  // also when the sleep is cancelled
        try await Task.sleep(for: .seconds(delay))
        child.signal(SIGKILL)
        return await child.exit().signal != nil
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` has passed,
/// at most `timeout / interval + 1` times; tells whether it held. Sleeps with
/// `Task.sleep`, so waiting holds no thread.
func poll(
    every interval: Duration, for timeout: Duration, until condition: () async throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    let lastTry = Int(timeout / interval)
    for attempt in 0...lastTry {
        if try await condition() { return true }
        if attempt == lastTry || clock.now >= deadline { break }
        try await Task.sleep(for: interval)
    }
    return false
}

/// `defer` for cleanups that must `await` (a `defer` body cannot): `body`
/// registers each one with `deferred { … }` where it would have written
/// `defer { … }`, and they run after it, last registered first, also when
/// it throws.
func withDeferred<T>(_ body: (Deferred) async throws -> T) async rethrows -> T {
    let deferred = Deferred()
    do {
        let value = try await body(deferred)
        await deferred.runAll()
        return value
    } catch {
        await deferred.runAll()
        throw error
    }
}

/// The cleanups of one ``withDeferred(_:)`` scope.
final class Deferred {
    private var cleanups: [() async -> Void] = []

    func callAsFunction(_ cleanup: @escaping () async -> Void) { cleanups.append(cleanup) }

    fileprivate func runAll() async {
        while let cleanup = cleanups.popLast() { await cleanup() }
    }
}

/// A small seeded generator (SplitMix64), so a failing random schedule can be
/// replayed from the seed the test prints.
struct SeededGenerator: RandomNumberGenerator {
    private(set) var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The client id and secret of a service key (as `instance create` prints it).
func serviceKeyCredentials(_ serviceKey: String) throws -> (id: String, secret: String) {
    guard let oauth = (try parseJSON(serviceKey) as? [String: Any])?["oauth"] as? [String: String],
        let id = oauth["clientid"], let secret = oauth["clientsecret"]
    else { throw CLI.CLIError("not a service key") }
    return (id, secret)
}

/// The JSON object or array printed on stdout.
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}

/// A time as pirvault prints it (RFC 3339 with microseconds, UTC).
func rfc3339(_ text: String) -> Date? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXXXX"
    return formatter.date(from: text)
}

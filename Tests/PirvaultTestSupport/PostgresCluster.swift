import Foundation

/// A PostgreSQL data directory in a private temporary folder, and the
/// programs that act on it.
///
/// As root the folder belongs to `postgres` and the server programs run
/// through `runuser -u postgres --` (`initdb` refuses root); otherwise they run
/// as the current user. Program input and output go through files, not
/// pipes: the server that `pg_ctl start` leaves behind could hold a pipe open,
/// and a program that exits early would make writing to its pipe fail.
struct PostgresCluster: Sendable {
    let binDirectory: String
    let folder: String
    let runsAsRoot: Bool
    var dataDirectory: String { folder + "/data" }
    var logFile: String { folder + "/server.log" }

    /// Makes the folder (mode 0700, owned by the server's user).
    init() throws {
        binDirectory = try Self.findBinDirectory()
        runsAsRoot = getuid() == 0
        folder = NSTemporaryDirectory() + "pirvault-pg-" + UUID().uuidString.prefix(8)
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw TestPostgresError.setup(path: folder, problem: "\(error)")
        }
        try giveToServerUser(folder)
    }

    /// The newest `/usr/lib/postgresql/VERSION/bin` that has `initdb`.
    static func findBinDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let newestFirst = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in newestFirst where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw TestPostgresError.notInstalled
    }

    /// As root, hands `path` to the `postgres` user; otherwise does nothing.
    func giveToServerUser(_ path: String) throws {
        guard runsAsRoot else { return }
        guard let account = getpwnam("postgres") else { throw TestPostgresError.noPostgresUser }
        guard chown(path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
            throw TestPostgresError.setup(path: path, problem: String(cString: strerror(errno)))
        }
    }

    /// Runs a server program (`initdb`, `pg_ctl`) as the server's user.
    func runServerProgram(_ name: String, _ arguments: [String], redacting secrets: [String]) throws {
        let program = binDirectory + "/" + name
        let (executable, fullArguments) =
            runsAsRoot ? ("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments) : (program, arguments)
        _ = try run(name, executable, fullArguments, environment: [:], stdin: "", redacting: secrets)
    }

    /// Runs a client program (`psql`) as the current user; returns its stdout.
    func runClient(
        _ name: String, _ arguments: [String], environment: [String: String], stdin: String, redacting secrets: [String]
    ) throws -> String {
        try run(name, binDirectory + "/" + name, arguments, environment: environment, stdin: stdin, redacting: secrets)
    }

    /// The last lines of the server log, or a note that there is none yet.
    func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "(no server log yet)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Removes the folder and everything in it.
    /// The postmaster (from `postmaster.pid`) and its children, postmaster first.
    func serverProcesses() throws -> [pid_t] {
        let pidFile = dataDirectory + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let postmaster = text.split(separator: "\n").first.flatMap({ pid_t($0) })
        else { throw TestPostgresError.setup(path: pidFile, problem: "no running server") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let children = entries.compactMap(pid_t.init).filter { process in
            // /proc/PID/stat: "PID (COMMAND) STATE PPID ..."; COMMAND may hold spaces and parentheses.
            guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
                let close = stat.range(of: ")", options: .backwards)
            else { return false }
            let fields = stat[close.upperBound...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == postmaster
        }
        return [postmaster] + children
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    private func run(
        _ name: String, _ executable: String, _ arguments: [String], environment: [String: String], stdin: String,
        redacting secrets: [String]
    ) throws -> String {
        let inputPath = folder + "/.in-" + UUID().uuidString
        let outputPath = folder + "/.out-" + UUID().uuidString
        let errorPath = folder + "/.err-" + UUID().uuidString
        _ = FileManager.default.createFile(
            atPath: inputPath, contents: Data(stdin.utf8), attributes: [.posixPermissions: 0o600])
        defer {
            for path in [inputPath, outputPath, errorPath] { try? FileManager.default.removeItem(atPath: path) }
        }
        // Settings of a developer's own PostgreSQL must not leak into the tests.
        let fullEnvironment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }.merging(
            environment
        ) { $1 }
        let status = try ChildProcess.run(
            executable, arguments, environment: fullEnvironment, directory: folder, input: inputPath,
            output: outputPath,
            errors: errorPath)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errorText = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw TestPostgresError.toolFailed(
                tool: name, status: status,
                stderr: Self.redact(errorText, secrets), logTail: Self.redact(logTail(), secrets))
        }
        return output
    }

    private static func redact(_ text: String, _ secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}

import Foundation
import Synchronization

/// A throw-away PostgreSQL server for tests: a fresh cluster in a temporary
/// folder, listening on a free port of 127.0.0.1 (and a Unix socket in that
/// folder), with password (SCRAM-SHA-256) authentication for TCP and local
/// connections and a random superuser password.
///
/// One server per test process is the intended use: take ``shared`` and give
/// each test its own database with ``createDatabase(_:owner:)``. Every failure
/// throws ``TestPostgresError``; a test that needs PostgreSQL never skips.
public final class TestPostgres: Sendable {
    /// The loopback address the server listens on.
    public let host = "127.0.0.1"
    /// The TCP port the server listens on; it stays the same across ``stop()`` and ``start()``.
    public let port: Int
    /// The password of the superuser `postgres`.
    public let superuserPassword: String
    private let cluster: PostgresCluster
    private let state = Mutex(State.running)

    private enum State { case running, suspended, stopped, shutDown }

    /// The server of this test process, started on first use (thread-safe)
    /// and stopped and removed when the process exits. Do not stop or shut it
    /// down for good from a test; start a server of your own for that.
    public static var shared: TestPostgres {
        get throws { try sharedServer.get() }
    }

    private static let sharedServer: Result<TestPostgres, any Error> = {
        let result = Result { try TestPostgres() }
        if case .success = result {
            atexit { try? TestPostgres.sharedServer.get().shutdown() }
        }
        return result
    }()

    /// Creates a cluster (`initdb`) and starts its server (`pg_ctl start`).
    public convenience init() throws {
        self.init(try Self.createAndStart())
    }

    private init(_ started: Started) {
        cluster = started.cluster
        port = started.port
        superuserPassword = started.superuserPassword
    }

    /// A cluster whose server is running, before it becomes a ``TestPostgres``.
    private struct Started: Sendable {
        let cluster: PostgresCluster
        let port: Int
        let superuserPassword: String
    }

    private static func createAndStart() throws -> Started {
        let cluster = try PostgresCluster()
        do {
            let password = Self.randomPassword()
            let passwordFile = cluster.folder + "/superuser-password"
            _ = FileManager.default.createFile(
                atPath: passwordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
            try cluster.giveToServerUser(passwordFile)
            try cluster.runServerProgram(
                "initdb",
                [
                    "-D", cluster.dataDirectory, "--username=postgres", "--pwfile=" + passwordFile,
                    "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--encoding=UTF8", "--locale=C",
                    "--no-sync",
                ], redacting: [password])
            try? FileManager.default.removeItem(atPath: passwordFile)
            let port = try Self.startOnFreePort(cluster, redacting: [password])
            return Started(cluster: cluster, port: port, superuserPassword: password)
        } catch {
            cluster.remove()
            throw error
        }
    }

    deinit { shutdown() }

    /// Creates a database with a unique name that begins with `name` and
    /// returns that name; each test gets its own, so tests stay independent.
    public func createDatabase(_ name: String, owner: String? = nil) throws -> String {
        let unique =
            String(name.prefix(50)) + "_"
            + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let ownerClause = owner.map { " OWNER " + Self.identifier($0) } ?? ""
        _ = try psql("CREATE DATABASE \(Self.identifier(unique))\(ownerClause);", database: "postgres")
        return unique
    }

    /// Creates a role that can log in with `password`. Roles belong to the
    /// whole server, so choose a name no other test uses.
    public func createRole(_ name: String, password: String) throws {
        // The password reaches psql in its environment, not in the SQL text.
        let sql =
            "\\getenv role_password ROLE_PASSWORD\nCREATE ROLE \(Self.identifier(name)) LOGIN PASSWORD :'role_password';"
        _ = try psql(
            sql, database: "postgres", user: "postgres", password: nil, environment: ["ROLE_PASSWORD": password],
            redacting: [password])
    }

    /// The URL a vault would be given: `postgres://USER@127.0.0.1:PORT/DATABASE`, without a password.
    public func url(database: String, user: String = "postgres") -> String {
        let encodedUser = user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? user
        let encodedDatabase = database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? database
        return "postgres://\(encodedUser)@\(host):\(port)/\(encodedDatabase)"
    }

    /// Runs `sql` with `psql -At` over TCP and returns what it printed,
    /// without the final newline; stops at the first error. The password
    /// (the superuser's when none is given) goes in `PGPASSWORD` and the SQL
    /// on stdin, so psql's meta-commands work too.
    public func psql(_ sql: String, database: String, user: String = "postgres", password: String? = nil) throws
        -> String
    {
        try psql(sql, database: database, user: user, password: password, environment: [:], redacting: [])
    }

    /// Stops the server (`pg_ctl stop -m fast`), as in an outage; ``start()`` brings it back.
    public func stop() throws {
        try state.withLock { state in
            guard state == .running else { return }
            try cluster.runServerProgram(
                "pg_ctl", ["-D", cluster.dataDirectory, "-m", "fast", "-w", "stop"], redacting: [superuserPassword])
            state = .stopped
        }
    }

    /// Starts the stopped server again, on the same port and data.
    public func start() throws {
        try state.withLock { state in
            guard state == .stopped else { return }
            try Self.start(cluster, port: port, redacting: [superuserPassword])
            state = .running
        }
    }

    /// Freezes every process of the server (SIGSTOP), as a network black
    /// hole or a paused machine looks to its clients: connections stay open
    /// and nothing answers. ``resume()`` lets them go on.
    public func suspend() throws {
        try state.withLock { state in
            guard state == .running else { return }
            for process in try cluster.serverProcesses() { kill(process, SIGSTOP) }
            state = .suspended
        }
    }

    /// Continues the processes that ``suspend()`` froze.
    public func resume() throws {
        try state.withLock { state in
            guard state == .suspended else { return }
            for process in try cluster.serverProcesses().reversed() { kill(process, SIGCONT) }
            state = .running
        }
    }

    /// Stops the server and removes its folder. Safe to call more than once.
    public func shutdown() {
        state.withLock { state in
            if state == .suspended, let processes = try? cluster.serverProcesses() {
                for process in processes { kill(process, SIGCONT) }
                state = .running
            }
            if state == .running {
                try? cluster.runServerProgram(
                    "pg_ctl", ["-D", cluster.dataDirectory, "-m", "immediate", "-w", "stop"], redacting: [])
            }
            if state != .shutDown { cluster.remove() }
            state = .shutDown
        }
    }

    private func psql(
        _ sql: String, database: String, user: String, password: String?, environment extra: [String: String],
        redacting secrets: [String]
    ) throws -> String {
        let arguments = [
            "-X", "-q", "-At", "-w", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user, "-d",
            database,
        ]
        let environment = extra.merging([
            "PGPASSWORD": password ?? superuserPassword, "PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "disable",
        ]) { $1 }
        let output = try cluster.runClient(
            "psql", arguments, environment: environment, stdin: sql,
            redacting: secrets + [superuserPassword] + (password.map { [$0] } ?? []))
        return output.hasSuffix("\n") ? String(output.dropLast()) : output
    }

    /// Picks a free port and starts there; another process may take the port
    /// first, so a failed bind is retried with a new port.
    private static func startOnFreePort(_ cluster: PostgresCluster, redacting secrets: [String]) throws -> Int {
        for attempt in 1...3 {
            let port = try LoopbackPort.free()
            do {
                try start(cluster, port: port, redacting: secrets)
                return port
            } catch TestPostgresError.toolFailed(_, _, _, let logTail)
                where attempt < 3 && logTail.contains("could not bind")
            {
                continue
            }
        }
        preconditionFailure("the last attempt returns or throws")
    }

    private static func start(_ cluster: PostgresCluster, port: Int, redacting secrets: [String]) throws {
        let options =
            "-p \(port) -k '\(cluster.folder)' -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on"
        try cluster.runServerProgram(
            "pg_ctl", ["-D", cluster.dataDirectory, "-l", cluster.logFile, "-w", "-t", "60", "start", "-o", options],
            redacting: secrets)
    }

    private static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func randomPassword() -> String {
        (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

// MARK: Async forms

/// The same operations for async tests. Each runs its synchronous form, and
/// so its `initdb`, `pg_ctl` or `psql` and the `waitpid` for it, on a
/// dedicated thread (``onDedicatedThread(_:)``), so that no thread of the
/// cooperative pool blocks while PostgreSQL works. In async code these
/// overloads are the ones chosen; write `await`.
extension TestPostgres {
    /// ``shared`` for async code: the same server, started on first use.
    public static func shared() async throws -> TestPostgres {
        try await onDedicatedThread { try TestPostgres.shared }
    }

    /// Creates a cluster (`initdb`) and starts its server (`pg_ctl start`).
    public convenience init() async throws {
        self.init(try await onDedicatedThread { try Self.createAndStart() })
    }

    /// Creates a database with a unique name that begins with `name` and returns that name.
    public func createDatabase(_ name: String, owner: String? = nil) async throws -> String {
        try await onDedicatedThread { try self.createDatabase(name, owner: owner) }
    }

    /// Creates a role that can log in with `password`.
    public func createRole(_ name: String, password: String) async throws {
        try await onDedicatedThread { try self.createRole(name, password: password) }
    }

    /// Runs `sql` with `psql -At` over TCP and returns what it printed, without the final newline.
    public func psql(_ sql: String, database: String, user: String = "postgres", password: String? = nil)
        async throws -> String
    {
        try await onDedicatedThread { try self.psql(sql, database: database, user: user, password: password) }
    }

    /// Stops the server (`pg_ctl stop -m fast`), as in an outage; ``start()`` brings it back.
    public func stop() async throws {
        try await onDedicatedThread { try self.stop() }
    }

    /// Starts the stopped server again, on the same port and data.
    public func start() async throws {
        try await onDedicatedThread { try self.start() }
    }

    /// Stops the server and removes its folder. Safe to call more than once.
    public func shutdown() async {
        await onDedicatedThread { self.shutdown() }
    }
}

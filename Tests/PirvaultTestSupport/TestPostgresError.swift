/// Why the throw-away PostgreSQL server could not be set up or used. Tests
/// that need the server fail with this error; they are never skipped.
public enum TestPostgresError: Error, Sendable, CustomStringConvertible {
    /// No `/usr/lib/postgresql/*/bin/initdb`.
    case notInstalled
    /// Running as root, but there is no `postgres` user to run the server as.
    case noPostgresUser
    /// The temporary folder could not be prepared.
    case setup(path: String, problem: String)
    /// A PostgreSQL program exited with a failure; its stderr and the tail of
    /// the server log, with the passwords of this server taken out.
    case toolFailed(tool: String, status: Int32, stderr: String, logTail: String)

    public var description: String {
        switch self {
        case .notInstalled:
            return
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install Debian's postgresql package (bash scripts/install-deps.sh does)"
        case .noPostgresUser:
            return
                "running as root but there is no postgres user to run the test server as; install Debian's postgresql package (bash scripts/install-deps.sh does)"
        case .setup(let path, let problem):
            return "cannot prepare the test PostgreSQL folder \(path): \(problem)"
        case .toolFailed(let tool, let status, let stderr, let logTail):
            return
                "\(tool) failed with status \(status)\n--- stderr ---\n\(stderr)\n--- server log (tail) ---\n\(logTail)"
        }
    }
}

import Foundation

extension PostgresLocation {
    /// The result of looking up the database password: the password (if any
    /// source has one) and a warning to print when a password file was skipped.
    public struct PasswordLookup: Sendable, Equatable, CustomStringConvertible {
        /// The password, or nil when no source has one for this location.
        public let password: String?
        /// Set when the password file was ignored because others can read it.
        public let warning: PasswordFileWarning?

        /// Says whether there is a password, never what it is.
        public var description: String {
            "PasswordLookup(password: \(password == nil ? "none" : "<redacted>"), warning: \(warning.map(\.description) ?? "none"))"
        }
    }

    /// A password file that libpq's rules say to ignore: group or others may
    /// read it. Its description is the one warning line to print.
    public struct PasswordFileWarning: Sendable, Equatable, CustomStringConvertible {
        /// The file as named to the user: `~/.pgpass`, or the `PGPASSFILE` path.
        public let file: String

        public var description: String { "\(file) is readable by others; chmod 600 it" }
    }

    /// Looks up the database password as libpq does: `PGPASSWORD` if set and
    /// not empty; otherwise the first matching entry of the file named by
    /// `PGPASSFILE`, or of `~/.pgpass` (see ``PgpassFile``). A Unix socket
    /// location matches the host field `localhost` (and its socket directory).
    ///
    /// A missing file or one that is not a regular file gives no password. A
    /// file that group or others may read (mode & 0o077) is ignored, and
    /// ``PasswordLookup/warning`` says so.
    ///
    /// - Throws: ``StoreError/io(path:problem:)`` when the file exists but
    ///   cannot be read.
    public func password(environment: [String: String], homeDirectory: String) throws -> PasswordLookup {
        if let password = environment["PGPASSWORD"], !password.isEmpty {
            return PasswordLookup(password: password, warning: nil)
        }
        let explicitFile = environment["PGPASSFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = explicitFile ?? homeDirectory + "/.pgpass"
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            return PasswordLookup(password: nil, warning: nil)
        }
        guard status.st_mode & 0o077 == 0 else {
            return PasswordLookup(password: nil, warning: PasswordFileWarning(file: explicitFile ?? "~/.pgpass"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError.io(path: path, problem: "the password file cannot be read; make it yours with mode 600")
        }
        let hosts = host.map { [$0] } ?? ["localhost"] + (socketDirectory.map { [$0] } ?? [])
        let password = PgpassFile(String(decoding: data, as: UTF8.self))
            .password(hosts: hosts, port: port, database: database, user: user)
        return PasswordLookup(password: password, warning: nil)
    }
}

import Foundation
import PirvaultStore

extension VaultStores {
    /// File paths (SQLite) and `postgres://` URLs (PostgreSQL): what the
    /// `pirvault` command and its server open. The database password comes
    /// from the environment as libpq reads it.
    public static let all = VaultStores(
        open: { location, limits in
            switch try VaultLocation.parse(location) {
            case .file(let path):
                return try SQLiteStore.open(at: path, limits: limits)
            case .postgres(let database):
                return try PostgresStore.open(at: database, password: try password(for: database), limits: limits)
            }
        },
        create: { location, limits, header, then in
            switch try VaultLocation.parse(location) {
            case .file(let path):
                return try SQLiteStore.create(at: path, limits: limits, header: header, then: then)
            case .postgres(let database):
                return try PostgresStore.create(
                    at: database, password: try password(for: database), limits: limits, header: header, then: then)
            }
        })

    /// The password from `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`. Like
    /// libpq, a password file that others can read is skipped with a warning
    /// on stderr.
    static func password(for database: PostgresLocation) throws -> String? {
        let lookup = try database.password(
            environment: ProcessInfo.processInfo.environment, homeDirectory: NSHomeDirectory())
        if let warning = lookup.warning {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        return lookup.password
    }
}

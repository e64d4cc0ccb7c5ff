import Foundation
import PirvaultPostgres
import PirvaultStore

/// The two storage backends, for tests that run the same cases against both
/// (as a conformance suite): `@Test(arguments: Backend.allCases)`.
///
/// Each test takes a fresh, empty location (`freshLocation()`) and may reach
/// past pirvault into the database (`execute`, `query`, `flipBit`) to play the
/// attacker or the broken disk. PostgreSQL is the process's `TestPostgres`;
/// when it cannot start, the test fails (it never skips).
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgresql

    public var description: String { rawValue }

    /// The shipped migrations of this backend.
    public var migrations: [Migration] {
        switch self {
        case .sqlite: Migration.sqlite
        case .postgresql: Migration.postgres
        }
    }

    /// A location where no vault exists yet: a path in a new temporary folder,
    /// or the URL of a new, empty database.
    public func freshLocation(_ name: String = "vault") throws -> String {
        switch self {
        case .sqlite:
            let directory = NSTemporaryDirectory() + "pirvault-\(name)-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return directory + "/vault.db"
        case .postgresql:
            let server = try Self.postgres()
            return server.url(database: try server.createDatabase(name))
        }
    }

    /// Creates a store at `location` with the given migrations (the shipped ones by default).
    public func create(
        at location: String, header: VaultHeaderRecord, migrations: [Migration]? = nil,
        then: (any StoreWriter) throws -> Void = { _ in }
    ) throws -> any VaultStore {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            return try SQLiteStore.create(
                at: path, header: header, migrations: migrations ?? self.migrations, then: { try then($1) })
        case .postgres(let database):
            return try PostgresStore.create(
                at: database, password: try Self.postgres().superuserPassword, header: header,
                migrations: migrations ?? self.migrations, then: { try then($1) })
        }
    }

    /// Opens the store at `location` with the given migrations (the shipped ones by default).
    public func open(at location: String, migrations: [Migration]? = nil) throws -> any VaultStore {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            return try SQLiteStore.open(at: path, migrations: migrations ?? self.migrations)
        case .postgres(let database):
            return try PostgresStore.open(
                at: database, password: try Self.postgres().superuserPassword,
                migrations: migrations ?? self.migrations)
        }
    }

    // MARK: Reaching past pirvault

    /// Runs SQL statements (`;`-separated) on the database at `location`
    /// outside pirvault. Keep to SQL both dialects share.
    public func execute(_ sql: String, at location: String) throws {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            try Connection(path: path, lockTimeout: .seconds(30)).execute(sql)
        case .postgres(let database):
            _ = try Self.postgres().psql(Self.terminated(sql), database: database.database)
        }
    }

    /// The first column of each row `sql` returns, as text (integers and text only).
    public func query(_ sql: String, at location: String) throws -> [String] {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            return try Connection(path: path, lockTimeout: .seconds(30)).query(sql) { $0.string(0) }
        case .postgres(let database):
            let output = try Self.postgres().psql(Self.terminated(sql), database: database.database)
            return output.isEmpty
                ? [] : output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Flips one bit of the byte at `offset` of a binary column in the rows `condition` selects.
    public func flipBit(table: String, column: String, where condition: String, at offset: Int = 30, location: String)
        throws
    {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            let raw = try Connection(path: path, lockTimeout: .seconds(30))
            let rows = try raw.query("SELECT rowid, \(column) FROM \(table) WHERE \(condition)") {
                ($0.int(0), $0.blob(1)!)
            }
            for (rowid, var bytes) in rows {
                bytes[offset] ^= 0x01
                try raw.run("UPDATE \(table) SET \(column) = ? WHERE rowid = ?", [.blob(bytes), .integer(rowid)])
            }
        case .postgres(let database):
            _ = try Self.postgres().psql(
                "UPDATE \(table) SET \(column) = set_byte(\(column), \(offset), get_byte(\(column), \(offset)) # 1) WHERE \(condition);",
                database: database.database)
        }
    }

    private static func terminated(_ sql: String) -> String {
        sql.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(";") ? sql : sql + ";"
    }

    /// A binary literal for SQL text: `x'…'` in SQLite, `'\x…'::bytea` in PostgreSQL.
    public func literal(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        switch self {
        case .sqlite: return "x'\(hex)'"
        case .postgresql: return "'\\x\(hex)'::bytea"
        }
    }

    /// The test server, with its password in `PGPASSWORD` (where pirvault
    /// reads it) — set once per process, before any store is opened.
    private static func postgres() throws -> TestPostgres {
        let server = try TestPostgres.shared
        _ = passwordInEnvironment
        return server
    }

    private static let passwordInEnvironment: Void = {
        if let server = try? TestPostgres.shared { setenv("PGPASSWORD", server.superuserPassword, 1) }
    }()
}

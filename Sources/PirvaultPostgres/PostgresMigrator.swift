import PirvaultStore
import Foundation
import PostgresNIO

/// Applies `migrations/postgres/` in order, each recorded with its checksum
/// in `schema_migrations`, and refuses a database whose applied migrations
/// differ from ours or are newer — the same rules as the SQLite migrator.
/// Nodes that start together take turns through an advisory lock.
struct PostgresMigrator {
    let migrations: [Migration]
    let session: PostgresSession

    /// The first statement of a schema transaction: one migrator at a time.
    static let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(7370726976617574)"

    /// Checks the applied migrations and applies any pending ones.
    func migrate(location: PostgresLocation) throws {
        guard try holdsVault() else {
            throw try tableCount() > 0
                ? StoreError.databaseNotEmpty(location.description, holdsVault: false)
                : StoreError.vaultMissing(path: location.description)
        }
        if try appliedVersions() == migrations.count { return }
        try session.writeTransaction(lock: { try session.query(Self.lock) }) { try applyPending() }
    }

    /// Applies pending migrations; the caller holds a write transaction.
    func applyPending() throws {
        try session.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                checksum   TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """)
        let applied = try appliedVersions()
        for migration in migrations where migration.version > applied {
            for statement in Self.statements(in: migration.sql) {
                try session.query(PostgresQuery(unsafeSQL: statement))
            }
            try session.run(
                """
                INSERT INTO schema_migrations (version, name, checksum, applied_at)
                VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(Timestamp.now().rfc3339))
                """)
        }
    }

    /// The number of tables in the database's user schemas.
    func tableCount() throws -> Int64 {
        try session.query(
            """
            SELECT count(*) FROM pg_catalog.pg_tables
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            """
        ).first?.int(0) ?? 0
    }

    /// Whether the current schema holds a pirvault schema record.
    func holdsVault() throws -> Bool {
        try session.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first?.column(0, as: Bool.self) ?? false
    }

    /// The number of applied migrations, after checking each against ours.
    private func appliedVersions() throws -> Int {
        guard try holdsVault() else { return 0 }
        let applied = try session.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").map {
            (version: Int(try $0.column(0, as: Int32.self)), name: try $0.string(1), checksum: try $0.string(2))
        }
        if let newest = applied.last, newest.version > migrations.count {
            throw StoreError.schemaTooNew(found: newest.version, supported: migrations.count)
        }
        for (index, record) in applied.enumerated() {
            guard record.version == index + 1 else { throw StoreError.notAVault(path: session.location.description) }
            let ours = migrations[index]
            guard ours.checksum == record.checksum else {
                throw StoreError.migrationChanged(version: ours.version, name: ours.name)
            }
        }
        return applied.count
    }

    /// The statements of a migration file, one by one: the extended query
    /// protocol that binds values runs one statement per message. Splits at
    /// `;` outside quotes, `$$` bodies and `--` comments.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?  // ' or " while inside one
        var inDollarBody = false
        var inComment = false
        var previous: Character = " "
        for character in sql {
            defer { previous = character }
            if inComment {
                if character == "\n" { inComment = false }
                continue
            }
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
                continue
            }
            if inDollarBody {
                current.append(character)
                if character == "$" && previous == "$" { inDollarBody = false }
                continue
            }
            switch character {
            case "-" where previous == "-":
                current.removeLast()
                inComment = true
            case "'", "\"":
                quote = character
                current.append(character)
            case "$" where previous == "$":
                inDollarBody = true
                current.append(character)
            case ";":
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            default:
                current.append(character)
            }
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }
}

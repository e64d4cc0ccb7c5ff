import Foundation

/// Applies migrations in order, each in the same transaction as its record in
/// `schema_migrations`, and refuses a vault whose applied migrations differ from
/// ours or that is newer than this binary.
struct SQLiteMigrator {
    let migrations: [Migration]

    /// Checks the applied migrations and applies any pending ones.
    /// Cheap when the vault is current: one read, no write lock.
    func migrate(_ db: Connection) throws {
        if try isCurrent(db) { return }
        try db.writeTransaction { try applyPending(db) }
    }

    /// Applies pending migrations; the caller holds a write transaction.
    func applyPending(_ db: Connection) throws {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                checksum   TEXT NOT NULL,
                applied_at TEXT NOT NULL
            ) STRICT
            """)
        let applied = try appliedVersions(db)
        for migration in migrations where migration.version > applied {
            try db.execute(migration.sql)
            try db.run(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum),
                 .text(Timestamp.now().rfc3339)])
        }
    }

    private func isCurrent(_ db: Connection) throws -> Bool {
        let hasTable = try db.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ) { _ in true }.first ?? false
        guard hasTable else {
            // A database with tables but no migration record is someone else's.
            let tables = try db.query("SELECT count(*) FROM sqlite_master") { $0.int(0) }.first ?? 0
            if tables > 0 { throw StoreError.notAVault(path: db.path) }
            return false
        }
        return try appliedVersions(db) == migrations.count
    }

    /// The number of applied migrations, after checking each against ours.
    private func appliedVersions(_ db: Connection) throws -> Int {
        let applied = try db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version") {
            (version: Int($0.int(0)), name: $0.string(1), checksum: $0.string(2))
        }
        if let newest = applied.last, newest.version > migrations.count {
            throw StoreError.schemaTooNew(found: newest.version, supported: migrations.count)
        }
        for (index, record) in applied.enumerated() {
            guard record.version == index + 1 else { throw StoreError.notAVault(path: db.path) }
            let ours = migrations[index]
            guard ours.checksum == record.checksum else {
                throw StoreError.migrationChanged(version: ours.version, name: ours.name)
            }
        }
        return applied.count
    }
}

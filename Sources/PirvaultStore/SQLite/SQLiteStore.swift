import Foundation

/// The default vault store: one SQLite file in WAL mode, `synchronous=FULL`.
///
/// A `SQLiteStore` is one connection; use it from one thread at a time.
public final class SQLiteStore: VaultStore {
    let db: Connection
    private let limits: StoreLimits

    public var location: String { db.path }
    public var backend: String { "sqlite" }

    private init(_ db: Connection, limits: StoreLimits) {
        self.db = db
        self.limits = limits
    }

    /// Creates a new vault file (mode 0600; refuses to overwrite anything),
    /// applies the schema and writes the header, all in one transaction: a
    /// crash leaves either no vault or a complete one.
    /// `then` runs inside that transaction (to write the first audit row).
    public static func create(
        at path: String, limits: StoreLimits = .commandLine, header: VaultHeaderRecord,
        migrations: [Migration] = Migration.sqlite, then: (any VaultStore, any StoreWriter) throws -> Void = { _, _ in }
    ) throws -> SQLiteStore {
        let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw StoreError.vaultExists(path: path) }
            throw StoreError.io(path: path, problem: String(cString: strerror(errno)))
        }
        close(fd)
        do {
            let db = try Connection(path: path, lockTimeout: limits.lockTimeout)
            let store = SQLiteStore(db, limits: limits)
            try db.writeTransaction {
                try SQLiteMigrator(migrations: migrations).applyPending(db)
                try db.run(
                    """
                    INSERT INTO vault_header (singleton, vault_id, unlock_method, kdf_algorithm, kdf_opslimit,
                        kdf_memlimit, kdf_salt, sealed_vault_key, sealed_verifier_key, created_at, vault_key_epoch,
                        subdomain, app_index, subdomain_chosen)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(header.vaultID), .text(header.unlockMethod.rawValue),
                     header.kdfSalt == nil ? .null : .text("argon2id13"),
                     header.kdfOpslimit.map(SQLValue.integer) ?? .null,
                     header.kdfMemlimit.map(SQLValue.integer) ?? .null,
                     header.kdfSalt.map(SQLValue.blob) ?? .null,
                     .blob(header.sealedVaultKey), .blob(header.sealedVerifierKey), .text(header.createdAt),
                     .integer(header.vaultKeyEpoch), .text(header.subdomain), .integer(header.appIndex),
                     .integer(header.subdomainChosen ? 1 : 0)])
                try then(store, SQLiteWriter(db))
            }
            return store
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            throw error
        }
    }

    /// Opens an existing vault and brings its schema up to date.
    public static func open(
        at path: String, limits: StoreLimits = .commandLine, migrations: [Migration] = Migration.sqlite
    ) throws -> SQLiteStore {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.vaultMissing(path: path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw StoreError.io(path: path, problem: "not a regular file")
        }
        let db = try Connection(path: path, lockTimeout: limits.lockTimeout)
        try SQLiteMigrator(migrations: migrations).migrate(db)
        return SQLiteStore(db, limits: limits)
    }

    public func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        try db.writeTransaction { try body(SQLiteWriter(db)) }
    }

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try db.readTransaction { try body(SQLiteReader(db)) }
    }

    /// `secure_delete` has zeroed the freed bytes; moving the WAL's content into
    /// the database file and emptying the WAL removes the last copies.
    public func scrubDeletedRows() throws {
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    public func openAnother() throws -> sending any VaultStore { try SQLiteStore.open(at: db.path, limits: limits) }

    public var interrupter: Interrupter { db.interrupter }
}

/// The reads of one SQLite transaction (`SQLiteStore.read`, and the base of
/// `SQLiteWriter`).
class SQLiteReader: StoreReader {
    let db: Connection

    init(_ db: Connection) { self.db = db }

    func schemaVersion() throws -> Int {
        Int(try db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") { $0.int(0) }.first ?? 0)
    }

    /// Bumped by triggers (migration 0004).
    func stateVersion() throws -> Int64 {
        try db.query("SELECT version FROM state_version WHERE singleton = 1") { $0.int(0) }.first ?? 0
    }

    func revokedTokenIDs(at now: Timestamp) throws -> Set<String> {
        Set(try db.query("SELECT jti FROM revoked_tokens WHERE expires_at_us > ?", [.integer(now.microseconds)]) { $0.string(0) })
    }

    /// The number of audit events (the tree size): the next leaf index.
    func auditLogSize() throws -> Int64 {
        try db.query("SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_events") { $0.int(0) }.first ?? 0
    }

    // MARK: Header

    func header() throws -> VaultHeaderRecord {
        let rows = try db.query(
            """
            SELECT vault_id, unlock_method, kdf_opslimit, kdf_memlimit, kdf_salt, sealed_vault_key,
                   sealed_verifier_key, created_at, vault_key_epoch, subdomain, app_index, subdomain_chosen
            FROM vault_header WHERE singleton = 1
            """
        ) { row -> VaultHeaderRecord in
            guard let method = VaultHeaderRecord.UnlockMethod(rawValue: row.string(1)) else {
                throw StoreError.corrupt(what: "unknown unlock method in the vault header")
            }
            return VaultHeaderRecord(
                vaultID: row.string(0), unlockMethod: method, kdfOpslimit: row.optionalInt(2),
                kdfMemlimit: row.optionalInt(3), kdfSalt: row.blob(4), sealedVaultKey: row.blob(5) ?? [],
                sealedVerifierKey: row.blob(6) ?? [], createdAt: row.string(7), vaultKeyEpoch: row.int(8),
                subdomain: row.string(9), appIndex: row.int(10), subdomainChosen: row.int(11) != 0)
        }
        guard let header = rows.first else { throw StoreError.notAVault(path: db.path) }
        return header
    }
}

/// The handle of one SQLite write transaction: it holds the write lock
/// (`BEGIN IMMEDIATE`), so what it reads at the start, and the log size it
/// appends at, stay true until it ends.
final class SQLiteWriter: SQLiteReader, StoreWriter {
    private var started: WriteStart?
    private var logSize: Int64?

    var start: WriteStart {
        get throws {
            if let started { return started }
            let read = try db.query(WriteStart.query) {
                WriteStart(
                    stateVersion: $0.int(0), vaultKeyEpoch: $0.int(1), latestAuthenticationFailure: $0.int(2),
                    latestCheckpointSize: $0.int(3), latestCheckpointTime: Timestamp(microseconds: $0.int(4)))
            }.first ?? { throw StoreError.notAVault(path: db.path) }()
            started = read
            return read
        }
    }

    override func auditLogSize() throws -> Int64 {
        if let logSize { return logSize }
        let size = try super.auditLogSize()
        logSize = size
        return size
    }

    /// Moves the log's head past rows this transaction appended.
    func advanceLog(to size: Int64) { logSize = size }

    /// Keeps `start` current with a checkpoint this transaction wrote.
    func noteCheckpoint(_ record: CheckpointRecord) {
        started?.latestCheckpointSize = record.treeSize
        started?.latestCheckpointTime = record.createdAt
    }
}

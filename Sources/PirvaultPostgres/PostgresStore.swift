import Foundation
import PirvaultStore
import PostgresNIO

/// The vault in a PostgreSQL database (15 or newer), shared by several
/// `pirvault serve` nodes. Same tables and meaning as the SQLite file
/// (`migrations/postgres/`), plus `audit_log_head`: every write transaction
/// locks that row first, so writers from every node are serialised and the
/// audit log keeps one total order.
///
/// A `PostgresStore` is one database session; use it from one thread at a time.
public final class PostgresStore: VaultStore {
    let session: PostgresSession
    private let password: String?

    public var location: String { session.location.description }
    public var backend: String { "postgresql" }

    private init(location: PostgresLocation, password: String?, limits: StoreLimits) throws {
        session = try PostgresSession(location: location, password: password, limits: limits)
        self.password = password
    }

    /// Creates the schema and header in the empty database at `location`,
    /// and whatever `then` writes, in one transaction. Refuses a database
    /// that holds any table (a vault or anything else).
    public static func create(
        at location: PostgresLocation, password: String?, limits: StoreLimits = .commandLine,
        header: VaultHeaderRecord, migrations: [Migration] = Migration.postgres,
        then: (any VaultStore, any StoreWriter) throws -> Void = { _, _ in }
    ) throws -> PostgresStore {
        let store = try PostgresStore(location: location, password: password, limits: limits)
        try store.session.writeTransaction(lock: { try store.session.query(PostgresMigrator.lock) }) {
            let migrator = PostgresMigrator(migrations: migrations, session: store.session)
            if try migrator.tableCount() > 0 {
                throw StoreError.databaseNotEmpty(location.description, holdsVault: try migrator.holdsVault())
            }
            try migrator.applyPending()
            try store.session.run(
                """
                INSERT INTO vault_header (singleton, vault_id, unlock_method, kdf_algorithm, kdf_opslimit,
                    kdf_memlimit, kdf_salt, sealed_vault_key, sealed_verifier_key, created_at, vault_key_epoch,
                    subdomain, app_index, subdomain_chosen)
                VALUES (1, \(header.vaultID), \(header.unlockMethod.rawValue),
                    \(header.kdfSalt == nil ? nil : "argon2id13"), \(header.kdfOpslimit), \(header.kdfMemlimit),
                    \(header.kdfSalt.map { ByteBuffer(bytes: $0) }), \(ByteBuffer(bytes: header.sealedVaultKey)),
                    \(ByteBuffer(bytes: header.sealedVerifierKey)), \(header.createdAt), \(header.vaultKeyEpoch),
                    \(header.subdomain), \(header.appIndex), \(header.subdomainChosen ? 1 : 0))
                """)
            // The schema just made the log, empty; this transaction holds its tables.
            try then(store, PostgresWriter(store.session, logSize: 0))
        }
        return store
    }

    /// Opens the vault in the database at `location` and brings its schema up to date.
    public static func open(
        at location: PostgresLocation, password: String?, limits: StoreLimits = .commandLine,
        migrations: [Migration] = Migration.postgres
    ) throws -> PostgresStore {
        let store = try PostgresStore(location: location, password: password, limits: limits)
        try PostgresMigrator(migrations: migrations, session: store.session).migrate(location: location)
        return store
    }

    public func openAnother() throws -> sending any VaultStore {
        try PostgresStore(location: session.location, password: password, limits: session.limits)
    }

    /// Write transactions start by locking the audit log's head row, whose
    /// size the transaction then appends at.
    public func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T {
        var writer: PostgresWriter?
        return try session.writeTransaction(
            lock: {
                let size = try session.query("SELECT size FROM audit_log_head WHERE singleton = 1 FOR UPDATE").first?.int(0)
                writer = PostgresWriter(session, logSize: size ?? 0)
            }, { try body(writer!) })
    }

    public func read<T>(_ body: (any StoreReader) throws -> T) throws -> T {
        try session.readTransaction { try body(PostgresReader(session)) }
    }

    /// VACUUM FULL rewrites each table that held secrets into new files
    /// without the dead row versions, so a deleted data key or secret is no
    /// longer in the table's files. WAL archives and backups keep what they
    /// had (docs/several-nodes.md).
    public func scrubDeletedRows() throws {
        for table in ["credentials", "opaque_tokens", "instances"] {
            try session.run(PostgresQuery(unsafeSQL: "VACUUM FULL \(table)"))
        }
    }

    public var interrupter: Interrupter { session.interrupter }
}

/// The reads of one PostgreSQL transaction (`PostgresStore.read`, and the
/// base of `PostgresWriter`).
class PostgresReader: StoreReader {
    let session: PostgresSession

    init(_ session: PostgresSession) { self.session = session }

    func schemaVersion() throws -> Int {
        Int(try session.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").first?.int(0) ?? 0)
    }

    func stateVersion() throws -> Int64 {
        try session.query("SELECT version FROM state_version WHERE singleton = 1").first?.int(0) ?? 0
    }

    func auditLogSize() throws -> Int64 {
        try session.query("SELECT size FROM audit_log_head WHERE singleton = 1").first?.int(0) ?? 0
    }

    // MARK: Header

    func header() throws -> VaultHeaderRecord {
        let rows = try session.query(
            """
            SELECT vault_id, unlock_method, kdf_opslimit, kdf_memlimit, kdf_salt, sealed_vault_key,
                   sealed_verifier_key, created_at, vault_key_epoch, subdomain, app_index, subdomain_chosen
            FROM vault_header WHERE singleton = 1
            """)
        guard let row = rows.first else { throw StoreError.notAVault(path: session.location.description) }
        guard let method = VaultHeaderRecord.UnlockMethod(rawValue: try row.string(1)) else {
            throw StoreError.corrupt(what: "unknown unlock method in the vault header")
        }
        return VaultHeaderRecord(
            vaultID: try row.string(0), unlockMethod: method, kdfOpslimit: try row.optionalInt(2),
            kdfMemlimit: try row.optionalInt(3), kdfSalt: try row.blob(4), sealedVaultKey: try row.blob(5) ?? [],
            sealedVerifierKey: try row.blob(6) ?? [], createdAt: try row.string(7), vaultKeyEpoch: try row.int(8),
            subdomain: try row.string(9), appIndex: try row.int(10), subdomainChosen: try row.column(11, as: Int32.self) != 0)
    }

    func vaultKeyEpoch() throws -> Int64 {
        try session.query("SELECT vault_key_epoch FROM vault_header WHERE singleton = 1").first?.int(0) ?? 1
    }

    func vaultKeyLinks(after epoch: Int64) throws -> [VaultKeyLink] {
        try session.query(
            "SELECT epoch, sealed_key, created_at_us FROM vault_key_links WHERE epoch > \(epoch) ORDER BY epoch"
        ).map {
            VaultKeyLink(epoch: try $0.int(0), sealedKey: try $0.blob(1) ?? [], createdAt: Timestamp(microseconds: try $0.int(2)))
        }
    }
}

/// The handle of one PostgreSQL write transaction. It holds the audit log's
/// head row lock: the log's size read with the lock, advanced by each
/// append, so no append asks again, and what the transaction started from.
final class PostgresWriter: PostgresReader, StoreWriter {
    var logSize: Int64
    private var started: WriteStart?

    init(_ session: PostgresSession, logSize: Int64) {
        self.logSize = logSize
        super.init(session)
    }

    /// A statement of its own after the lock: a `FOR UPDATE` that waited for
    /// the lock sees the other tables as they were before the wait.
    var start: WriteStart {
        get throws {
            if let started { return started }
            guard let row = try session.query(PostgresQuery(unsafeSQL: WriteStart.query)).first else {
                throw StoreError.notAVault(path: session.location.description)
            }
            let read = WriteStart(
                stateVersion: try row.int(0), vaultKeyEpoch: try row.int(1), latestAuthenticationFailure: try row.int(2),
                latestCheckpointSize: try row.int(3), latestCheckpointTime: Timestamp(microseconds: try row.int(4)))
            started = read
            return read
        }
    }

    override func auditLogSize() throws -> Int64 { logSize }

    /// Keeps `start` current with a checkpoint this transaction wrote.
    func noteCheckpoint(_ record: CheckpointRecord) {
        started?.latestCheckpointSize = record.treeSize
        started?.latestCheckpointTime = record.createdAt
    }

    func updateUnlock(
        method: VaultHeaderRecord.UnlockMethod, kdfOpslimit: Int64?, kdfMemlimit: Int64?, kdfSalt: [UInt8]?,
        sealedVaultKey: [UInt8]
    ) throws {
        try session.run(
            """
            UPDATE vault_header SET unlock_method = \(method.rawValue),
                kdf_algorithm = \(kdfSalt == nil ? nil : "argon2id13"), kdf_opslimit = \(kdfOpslimit),
                kdf_memlimit = \(kdfMemlimit), kdf_salt = \(kdfSalt.map { ByteBuffer(bytes: $0) }),
                sealed_vault_key = \(ByteBuffer(bytes: sealedVaultKey))
            WHERE singleton = 1
            """)
    }

    func replaceVaultKey(
        sealedVaultKey: [UInt8], sealedVerifierKey: [UInt8], link: VaultKeyLink, forgetLinksBefore: Timestamp
    ) throws {
        try session.run(
            """
            UPDATE vault_header SET sealed_vault_key = \(ByteBuffer(bytes: sealedVaultKey)),
                sealed_verifier_key = \(ByteBuffer(bytes: sealedVerifierKey)), vault_key_epoch = \(link.epoch)
            WHERE singleton = 1
            """)
        try session.run(
            """
            INSERT INTO vault_key_links (epoch, sealed_key, created_at_us)
            VALUES (\(link.epoch), \(ByteBuffer(bytes: link.sealedKey)), \(link.createdAt.microseconds))
            """)
        try session.run("DELETE FROM vault_key_links WHERE created_at_us < \(forgetLinksBefore.microseconds)")
    }
}

import Foundation

/// The vault's storage: one SQLite file in WAL mode. Every SQL statement of
/// pirvault lives in this type and its extensions, behind methods that take
/// and return records, so another backend can replace it.
///
/// A `VaultStore` is one connection; use it from one thread at a time.
public final class VaultStore {
    let db: Connection

    public var path: String { db.path }

    private init(_ db: Connection) { self.db = db }

    /// Creates a new vault file (mode 0600; refuses to overwrite anything),
    /// applies the schema and writes the header, all in one transaction: a
    /// crash leaves either no vault or a complete one.
    /// `then` runs inside that transaction (to write the first audit row).
    public static func create(
        at path: String, header: VaultHeaderRecord, migrations: [Migration] = Migration.embedded,
        then: (VaultStore) throws -> Void = { _ in }
    ) throws -> VaultStore {
        let fd = Foundation.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw StoreError.vaultExists(path: path) }
            throw StoreError.io(path: path, problem: String(cString: strerror(errno)))
        }
        close(fd)
        do {
            let db = try Connection(path: path)
            let store = VaultStore(db)
            try db.writeTransaction {
                try Migrator(migrations: migrations).applyPending(db)
                try db.run(
                    """
                    INSERT INTO vault_header (singleton, vault_id, unlock_method, kdf_algorithm, kdf_opslimit,
                        kdf_memlimit, kdf_salt, sealed_vault_key, sealed_verifier_key, created_at)
                    VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [.text(header.vaultID), .text(header.unlockMethod.rawValue),
                     header.kdfSalt == nil ? .null : .text("argon2id13"),
                     header.kdfOpslimit.map(SQLValue.integer) ?? .null,
                     header.kdfMemlimit.map(SQLValue.integer) ?? .null,
                     header.kdfSalt.map(SQLValue.blob) ?? .null,
                     .blob(header.sealedVaultKey), .blob(header.sealedVerifierKey), .text(header.createdAt)])
                try then(store)
            }
            return store
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            throw error
        }
    }

    /// Opens an existing vault and brings its schema up to date.
    public static func open(at path: String, migrations: [Migration] = Migration.embedded) throws -> VaultStore {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.vaultMissing(path: path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw StoreError.io(path: path, problem: "not a regular file")
        }
        let db = try Connection(path: path)
        try Migrator(migrations: migrations).migrate(db)
        return VaultStore(db)
    }

    /// Runs `body` in one write transaction: all of its changes land, or none.
    public func write<T>(_ body: () throws -> T) throws -> T {
        try db.writeTransaction(body)
    }

    /// Runs `body` against one consistent snapshot.
    public func read<T>(_ body: () throws -> T) throws -> T {
        try db.readTransaction(body)
    }

    /// A number that changes whenever another connection commits to the vault:
    /// a cheap way for a long-running process to notice CLI changes.
    public func dataVersion() throws -> Int64 { try db.dataVersion() }

    /// Moves the WAL's content into the database file and empties the WAL, so
    /// bytes freed by a delete (zeroed by `secure_delete`) leave the WAL too.
    public func checkpointAndTruncateWAL() throws {
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    // MARK: Header

    public func header() throws -> VaultHeaderRecord {
        let rows = try db.query(
            """
            SELECT vault_id, unlock_method, kdf_opslimit, kdf_memlimit, kdf_salt, sealed_vault_key,
                   sealed_verifier_key, created_at
            FROM vault_header WHERE singleton = 1
            """
        ) { row -> VaultHeaderRecord in
            guard let method = VaultHeaderRecord.UnlockMethod(rawValue: row.string(1)) else {
                throw StoreError.corrupt(what: "unknown unlock method in the vault header")
            }
            return VaultHeaderRecord(
                vaultID: row.string(0), unlockMethod: method, kdfOpslimit: row.optionalInt(2),
                kdfMemlimit: row.optionalInt(3), kdfSalt: row.blob(4), sealedVaultKey: row.blob(5) ?? [],
                sealedVerifierKey: row.blob(6) ?? [], createdAt: row.string(7))
        }
        guard let header = rows.first else { throw StoreError.notAVault(path: db.path) }
        return header
    }
}

extension VaultStore {
    /// Bumped by triggers whenever instances, credentials, signing keys or
    /// revocations change (not by audit appends).
    public func stateVersion() throws -> Int64 {
        try db.query("SELECT version FROM state_version WHERE singleton = 1") { $0.int(0) }.first ?? 0
    }

    /// Every revoked jti that has not expired yet.
    public func revokedTokenIDs(at now: Timestamp) throws -> Set<String> {
        Set(try db.query("SELECT jti FROM revoked_tokens WHERE expires_at_us > ?", [.integer(now.microseconds)]) { $0.string(0) })
    }
}

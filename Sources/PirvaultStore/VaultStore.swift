import PirvaultCrypto
import Foundation

/// The vault's storage, behind one interface with two implementations: the
/// embedded SQLite file (`SQLiteStore`, the default) and a PostgreSQL database
/// shared by several nodes (`PostgresStore`, in PirvaultPostgres). Every SQL
/// statement of pirvault lives in those two; the domain layer sees records.
///
/// A store is one database session, used by one thread at a time. Data is
/// read and changed only through the handle that `read` and `write` lend to
/// their body: `StoreReader` for a snapshot, `StoreWriter` (which can also
/// change data) for a write transaction. The handles, and the transaction
/// state they carry, exist only for the body's duration.
///
/// Every call blocks its thread (`noasync`): async code runs a store on a
/// thread of its own (the server's `SerializedVault`). Every method throws
/// `StoreError`. Sealed columns arrive sealed and leave sealed — a store
/// never sees a key or a secret in the clear.
public protocol VaultStore: AnyObject {
    /// Where the vault lives, for messages: a file path or a URL without password.
    var location: String { get }

    /// The backend's name as `vault info` prints it: `sqlite` or `postgresql`.
    var backend: String { get }

    /// Runs `body` in one write transaction: all of its changes land, or
    /// none. Writers are serialised (on every node); the handle knows what
    /// the transaction started from (`StoreWriter.start`). Not reentrant.
    @available(*, noasync, message: "a store blocks its thread; run it on a SerializedVault")
    func write<T>(_ body: (any StoreWriter) throws -> T) throws -> T

    /// Runs `body` against one consistent snapshot.
    @available(*, noasync, message: "a store blocks its thread; run it on a SerializedVault")
    func read<T>(_ body: (any StoreReader) throws -> T) throws -> T

    /// Makes the bytes of deleted rows unreadable from the database's own
    /// files (crypto-shredding's last step). Outside any transaction.
    @available(*, noasync, message: "a store blocks its thread; run it on a SerializedVault")
    func scrubDeletedRows() throws

    /// A new, independent session to the same vault with the same limits
    /// (a server reads on one and writes on another).
    @available(*, noasync, message: "a store blocks its thread; run it on a SerializedVault")
    func openAnother() throws -> sending any VaultStore

    /// Stops what this session runs now — a statement, a wait for a lock, a
    /// connection attempt — from another thread (see `Interrupter`).
    var interrupter: Interrupter { get }
}

/// What a store waits for before it gives up with `StoreError.busy`: the
/// vault's write lock (SQLite's busy timeout, PostgreSQL's `lock_timeout`)
/// and, on PostgreSQL, any one statement (`statement_timeout`).
public struct StoreLimits: Sendable, Equatable {
    public var lockTimeout: Duration
    /// nil: no limit (the CLI's long exports and copies).
    public var statementTimeout: Duration?

    public init(lockTimeout: Duration = .seconds(30), statementTimeout: Duration? = nil) {
        self.lockTimeout = lockTimeout
        self.statementTimeout = statementTimeout
    }

    /// What a command-line run waits: up to 30 s for a lock held by a server or another command.
    public static let commandLine = StoreLimits()
}

/// The reads of one snapshot: lent by `VaultStore.read`, and part of every
/// `StoreWriter`. Valid only inside the body it was lent to.
public protocol StoreReader: AnyObject {
    /// The applied schema version.
    func schemaVersion() throws -> Int

    /// Bumped whenever instances, credentials, signing keys or revocations
    /// change (not by audit appends): what a server's cache depends on.
    func stateVersion() throws -> Int64

    // MARK: Header

    func header() throws -> VaultHeaderRecord

    /// The number of vault keys this vault has had (1 until the first rotation).
    func vaultKeyEpoch() throws -> Int64

    /// The links of epochs after `epoch`, oldest first.
    func vaultKeyLinks(after epoch: Int64) throws -> [VaultKeyLink]

    // MARK: Instances and credentials

    func instance(named name: String) throws -> InstanceRecord?
    func instance(clientID: String) throws -> InstanceRecord?
    func instance(id: Int64) throws -> InstanceRecord?

    /// Calls `body` for each instance (of one customer, or all), ordered by
    /// customer then name, without holding them all in memory.
    func forEachInstance(customer: String?, _ body: (InstanceRecord) throws -> Void) throws

    func instanceCount() throws -> Int

    /// Every instance's id and sealed data key, for re-wrapping.
    func sealedDataKeys() throws -> [(instanceID: Int64, name: String, sealed: [UInt8])]

    /// The longest token lifetime of any instance, in seconds (0 with none).
    func maximumTokenTTL() throws -> Int

    /// The instance's credentials, newest first.
    func credentials(instanceID: Int64) throws -> [CredentialRecord]

    func credential(id: Int64) throws -> CredentialRecord?

    // MARK: Tokens

    func isTokenRevoked(jti: String) throws -> Bool

    /// Every revoked jti that has not expired yet.
    func revokedTokenIDs(at now: Timestamp) throws -> Set<String>

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord?

    // MARK: Failed authentications

    /// The failures recorded after row `id`, oldest first.
    func authenticationFailures(after id: Int64) throws -> [AuthenticationFailure]

    // MARK: Signing keys

    /// The newest key, the one not yet retired (it may be staged: not signing yet).
    func latestSigningKey() throws -> SigningKeyRecord?

    /// Every key published at `now` (the newest, and the retired ones not yet
    /// past `publishedUntil`), newest activation first.
    func publishedSigningKeys(at now: Timestamp) throws -> [SigningKeyRecord]

    func allSigningKeys() throws -> [SigningKeyRecord]

    // MARK: Audit log

    /// The number of audit events (the tree size): the next leaf index.
    func auditLogSize() throws -> Int64

    /// Calls `body` for each audit row that `filter` selects, in its order.
    /// Pruned rows (no body left) are selected only with `includePruned`.
    func forEachAuditEvent(_ filter: AuditFilter, includePruned: Bool, _ body: (AuditRecord) throws -> Void) throws

    /// Like `forEachAuditEvent`, but lends each row's cells instead of
    /// copying them (see `AuditRowCells`): for reading the whole log.
    func forEachAuditRow(_ filter: AuditFilter, includePruned: Bool, _ body: (AuditRowCells) throws -> Void) throws

    /// Calls `body` with (seq, leaf hash) for every event with
    /// `from <= seq < to`, in order; the hash's bytes are lent as in
    /// `AuditRowCells`.
    func forEachLeaf(from: Int64, to: Int64, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws

    func latestCheckpoint() throws -> CheckpointRecord?

    /// Every checkpoint, oldest first.
    func checkpoints() throws -> [CheckpointRecord]

    func auditSigningKey() throws -> (publicKey: [UInt8], sealedPrivateKey: [UInt8])?

    // MARK: Copying rows (`vault copy`)

    /// Calls `body` with each row of `table`, cells in `table.columns` order,
    /// in key order (audit events by seq), without holding them all in memory.
    func forEachRow(of table: CopiedTable, _ body: ([StoreValue]) throws -> Void) throws

    /// The number of rows in `table`.
    func rowCount(of table: CopiedTable) throws -> Int64
}

/// The handle of one write transaction, lent by `VaultStore.write`: the
/// snapshot's reads plus every method that changes data. What the
/// transaction started from, and where the audit log's head is, live here
/// and end with it.
public protocol StoreWriter: StoreReader {
    /// What the transaction started from, read once after it took the write
    /// lock (so nobody changes it meanwhile) and kept current by this
    /// transaction's own checkpoints (`insertCheckpoint`).
    var start: WriteStart { get throws }

    // MARK: Header

    /// Chooses the tenant's subdomain (`vault set-subdomain`).
    func setSubdomain(_ subdomain: String) throws

    /// Replaces how the vault key is unlocked (a passphrase or key-file change).
    func updateUnlock(
        method: VaultHeaderRecord.UnlockMethod, kdfOpslimit: Int64?, kdfMemlimit: Int64?, kdfSalt: [UInt8]?,
        sealedVaultKey: [UInt8]) throws

    /// Installs a new vault key: the header's sealed vault and verifier keys
    /// and its epoch, plus `link` (the new key sealed under the previous one,
    /// for processes that still hold that). Links made before `forgetLinksBefore`
    /// are deleted.
    func replaceVaultKey(
        sealedVaultKey: [UInt8], sealedVerifierKey: [UInt8], link: VaultKeyLink, forgetLinksBefore: Timestamp) throws

    // MARK: Instances and credentials

    /// Inserts `record` (creating its customer on first use) and returns its
    /// id. `sealDataKey` receives the new row id and returns the data key
    /// sealed and bound to it.
    func insertInstance(_ record: InstanceRecord, sealDataKey: (Int64) -> [UInt8]) throws -> Int64

    /// Writes the mutable fields of `record` (everything but identity,
    /// customer, client id, origin and data key).
    func updateInstance(_ record: InstanceRecord) throws

    /// Deletes the instance, its credentials, opaque tokens and sealed data key.
    func deleteInstance(id: Int64) throws

    func updateSealedDataKey(instanceID: Int64, sealed: [UInt8]) throws

    /// Inserts a credential; `sealSecret` receives the new row id and returns
    /// the secret sealed and bound to it.
    func insertCredential(
        instanceID: Int64, verifier: [UInt8], createdAt: String, sealSecret: (Int64) -> [UInt8]) throws -> Int64

    /// Sets when a credential stops working (the end of a rotation's grace period).
    func expireCredential(id: Int64, at time: Timestamp) throws

    /// Deletes the instance's credentials that expired before `time`.
    func deleteExpiredCredentials(instanceID: Int64, before time: Timestamp) throws

    // MARK: Tokens

    /// Records a single revoked token (kept until it would have expired anyway).
    func revokeToken(jti: String, instanceID: Int64?, at time: Timestamp, expiresAt: Timestamp) throws

    /// Forgets revocations and opaque tokens of tokens that have expired anyway.
    func purgeExpiredTokens(before time: Timestamp) throws

    func insertOpaqueToken(_ record: OpaqueTokenRecord) throws

    // MARK: Failed authentications

    /// Records failed client authentications (one row per limiter key), so
    /// that every server of the vault counts them.
    func recordAuthenticationFailures(_ keys: [String], at time: Timestamp) throws

    func forgetAuthenticationFailures(before time: Timestamp) throws

    // MARK: Signing keys

    /// Inserts a new newest signing key that signs from `activatesAt`;
    /// `sealPrivateKey` receives the row id.
    @discardableResult
    func insertSigningKey(
        kid: String, algorithm: SigningAlgorithm, publicKey: [UInt8], createdAt: Timestamp, activatesAt: Timestamp,
        sealPrivateKey: (Int64) -> [UInt8]) throws -> Int64

    /// Retires a key: it signs until `time` and stays published until
    /// `publishedUntil` (again, for a key whose staged successor was replaced).
    func retireSigningKey(id: Int64, at time: Timestamp, publishedUntil: Timestamp) throws

    /// Deletes a staged key that never signed (a rotation that replaced it).
    func deleteSigningKey(id: Int64) throws

    func updateSealedPrivateKey(signingKeyID: Int64, sealed: [UInt8]) throws

    // MARK: Audit log

    /// Appends `records` at consecutive leaf indexes, the first being the
    /// next one (`auditLogSize()`); anything else fails and changes nothing.
    /// Appended in the transaction of the change they record, so both land
    /// together.
    func appendAudit(_ records: [AuditRecord]) throws

    /// Deletes the bodies of events before `time`, keeping seq, time and leaf
    /// hash (so checkpoints and proofs still verify). Returns how many.
    func pruneAuditBodies(before time: Timestamp) throws -> Int

    func insertCheckpoint(_ record: CheckpointRecord) throws
    func insertAuditSigningKey(publicKey: [UInt8], sealedPrivateKey: [UInt8], createdAt: Timestamp) throws
    func updateSealedAuditKey(_ sealed: [UInt8]) throws

    // MARK: Copying rows (`vault copy`)

    /// Inserts `rows` (cells in `table.columns` order) with their keys as
    /// given. Afterwards the store goes on as if they had been added one by
    /// one: new ids follow the largest copied one, and audit events, which
    /// must be the next leaf indexes in order, move the log's head.
    func insertRows(into table: CopiedTable, _ rows: [[StoreValue]]) throws
}

extension StoreWriter {
    /// Appends one audit row at the next leaf index.
    public func appendAudit(_ record: AuditRecord) throws { try appendAudit([record]) }
}

extension StoreReader {
    /// Every instance, ordered by customer then name.
    public func forEachInstance(_ body: (InstanceRecord) throws -> Void) throws {
        try forEachInstance(customer: nil, body)
    }

    /// The audit rows that `filter` selects, pruned ones left out.
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditRecord) throws -> Void) throws {
        try forEachAuditEvent(filter, includePruned: false, body)
    }
}

/// Opens and creates vault stores by location. `sqlite` knows file paths;
/// PirvaultPostgres's `VaultStores.all` adds `postgres://` URLs. The CLI
/// and the server use `all`; code that must not build PostgreSQL (the
/// fuzzers) gets by with `sqlite`.
public struct VaultStores: Sendable {
    /// Opens the existing vault at `location` and brings its schema up to date.
    public let open: @Sendable (_ location: String, _ limits: StoreLimits) throws -> any VaultStore

    /// Creates a new vault at `location`: schema, header, and whatever
    /// `then` writes (the first keys and audit rows) through the handle it
    /// gets with the new session, all in one transaction.
    public let create:
        @Sendable (
            _ location: String, _ limits: StoreLimits, _ header: VaultHeaderRecord,
            _ then: (any VaultStore, any StoreWriter) throws -> Void
        ) throws -> any VaultStore

    public init(
        open: @escaping @Sendable (String, StoreLimits) throws -> any VaultStore,
        create: @escaping @Sendable (String, StoreLimits, VaultHeaderRecord, (any VaultStore, any StoreWriter) throws -> Void) throws
            -> any VaultStore
    ) {
        self.open = open
        self.create = create
    }

    /// SQLite files only; a `postgres://` URL is refused with a message that says so.
    public static let sqlite = VaultStores(
        open: { location, limits in
            try SQLiteStore.open(at: try fileOnly(location), limits: limits)
        },
        create: { location, limits, header, then in
            try SQLiteStore.create(at: try fileOnly(location), limits: limits, header: header, then: then)
        })

    /// The path of a file location; a PostgreSQL URL is not for this build.
    package static func fileOnly(_ location: String) throws -> String {
        switch try VaultLocation.parse(location) {
        case .file(let path): return path
        case .postgres(let database):
            throw StoreError.io(
                path: database.description, problem: "this program has no PostgreSQL backend; use the pirvault command")
        }
    }
}

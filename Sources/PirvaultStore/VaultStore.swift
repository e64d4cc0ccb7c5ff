import Foundation

/// The vault's storage, behind one interface with two implementations: the
/// embedded SQLite file (`SQLiteStore`, the default) and a PostgreSQL database
/// shared by several nodes (`PostgresStore`). Every SQL statement of pirvault
/// lives in those two types; the domain layer sees only records.
///
/// The interface is synchronous and one store is one database session: use it
/// from one thread at a time. Sealed columns arrive sealed and leave sealed —
/// a store never sees a key or a secret in the clear.
///
/// Every method throws `StoreError`. Methods that change data must run inside
/// `write`; reads outside a transaction each see their own snapshot.
public protocol VaultStore: AnyObject {
    /// Where the vault lives, for messages: a file path or a URL without password.
    var location: String { get }

    /// The backend's name as `vault info` prints it: `sqlite` or `postgresql`.
    var backend: String { get }

    /// Runs `body` in one write transaction: all of its changes land, or none.
    /// Nested calls join the outermost transaction. Writers are serialised.
    func write<T>(_ body: () throws -> T) throws -> T

    /// Runs `body` against one consistent snapshot.
    func read<T>(_ body: () throws -> T) throws -> T

    /// Bumped whenever instances, credentials, signing keys or revocations
    /// change (not by audit appends): what a server's cache depends on.
    func stateVersion() throws -> Int64

    /// What a write transaction starts from, in one round trip: call first
    /// inside `write` (after the lock, so nobody changes it meanwhile).
    func writeStart() throws -> WriteStart

    /// Makes the bytes of deleted rows unreadable from the database's own
    /// files (crypto-shredding's last step). Call outside a transaction.
    func scrubDeletedRows() throws

    /// The applied schema version.
    func schemaVersion() throws -> Int

    /// A new, independent session to the same vault (a server reads on one
    /// and writes on another).
    func openAnother() throws -> any VaultStore

    // MARK: Header

    func header() throws -> VaultHeaderRecord

    /// Replaces how the vault key is unlocked (a passphrase or key-file change).
    func updateUnlock(
        method: VaultHeaderRecord.UnlockMethod, kdfOpslimit: Int64?, kdfMemlimit: Int64?, kdfSalt: [UInt8]?,
        sealedVaultKey: [UInt8]) throws

    /// The number of vault keys this vault has had (1 until the first rotation).
    func vaultKeyEpoch() throws -> Int64

    /// Installs a new vault key: the header's sealed vault and verifier keys
    /// and its epoch, plus `link` (the new key sealed under the previous one,
    /// for processes that still hold that). Links made before `forgetLinksBefore`
    /// are deleted.
    func replaceVaultKey(
        sealedVaultKey: [UInt8], sealedVerifierKey: [UInt8], link: VaultKeyLink, forgetLinksBefore: Timestamp) throws

    /// The links of epochs after `epoch`, oldest first.
    func vaultKeyLinks(after epoch: Int64) throws -> [VaultKeyLink]

    // MARK: Instances and credentials

    /// Inserts `record` (creating its customer on first use) and returns its
    /// id. `sealDataKey` receives the new row id and returns the data key
    /// sealed and bound to it.
    func insertInstance(_ record: InstanceRecord, sealDataKey: (Int64) -> [UInt8]) throws -> Int64

    func instance(named name: String) throws -> InstanceRecord?
    func instance(clientID: String) throws -> InstanceRecord?
    func instance(id: Int64) throws -> InstanceRecord?

    /// Calls `body` for each instance (of one customer, or all), ordered by
    /// customer then name, without holding them all in memory.
    func forEachInstance(customer: String?, _ body: (InstanceRecord) throws -> Void) throws

    func instanceCount() throws -> Int

    /// Writes the mutable fields of `record` (everything but identity,
    /// customer, client id, origin and data key).
    func updateInstance(_ record: InstanceRecord) throws

    /// Deletes the instance, its credentials, opaque tokens and sealed data key.
    func deleteInstance(id: Int64) throws

    /// Every instance's id and sealed data key, for re-wrapping.
    func sealedDataKeys() throws -> [(instanceID: Int64, name: String, sealed: [UInt8])]

    func updateSealedDataKey(instanceID: Int64, sealed: [UInt8]) throws

    /// The longest token lifetime of any instance, in seconds (0 with none).
    func maximumTokenTTL() throws -> Int

    /// Inserts a credential; `sealSecret` receives the new row id and returns
    /// the secret sealed and bound to it.
    func insertCredential(
        instanceID: Int64, verifier: [UInt8], createdAt: String, sealSecret: (Int64) -> [UInt8]) throws -> Int64

    /// The instance's credentials, newest first.
    func credentials(instanceID: Int64) throws -> [CredentialRecord]

    func credential(id: Int64) throws -> CredentialRecord?

    /// Sets when a credential stops working (the end of a rotation's grace period).
    func expireCredential(id: Int64, at time: Timestamp) throws

    /// Deletes the instance's credentials that expired before `time`.
    func deleteExpiredCredentials(instanceID: Int64, before time: Timestamp) throws

    // MARK: Tokens

    /// Records a single revoked token (kept until it would have expired anyway).
    func revokeToken(jti: String, instanceID: Int64?, at time: Timestamp, expiresAt: Timestamp) throws

    func isTokenRevoked(jti: String) throws -> Bool

    /// Every revoked jti that has not expired yet.
    func revokedTokenIDs(at now: Timestamp) throws -> Set<String>

    /// Forgets revocations and opaque tokens of tokens that have expired anyway.
    func purgeExpiredTokens(before time: Timestamp) throws

    func insertOpaqueToken(_ record: OpaqueTokenRecord) throws
    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord?

    // MARK: Failed authentications

    /// Records failed client authentications (one row per limiter key), so
    /// that every server of the vault counts them.
    func recordAuthenticationFailures(_ keys: [String], at time: Timestamp) throws

    /// The failures recorded after row `id`, oldest first.
    func authenticationFailures(after id: Int64) throws -> [AuthenticationFailure]

    func forgetAuthenticationFailures(before time: Timestamp) throws

    // MARK: Signing keys

    /// Inserts a new active signing key; `sealPrivateKey` receives the row id.
    @discardableResult
    func insertSigningKey(
        kid: String, publicKey: [UInt8], createdAt: Timestamp, sealPrivateKey: (Int64) -> [UInt8]) throws -> Int64

    func activeSigningKey() throws -> SigningKeyRecord?

    /// The active key and every retired key still published at `now`, newest first.
    func publishedSigningKeys(at now: Timestamp) throws -> [SigningKeyRecord]

    func allSigningKeys() throws -> [SigningKeyRecord]

    /// Retires the active key, keeping it published until `publishedUntil`.
    func retireActiveSigningKey(at time: Timestamp, publishedUntil: Timestamp) throws

    func updateSealedPrivateKey(signingKeyID: Int64, sealed: [UInt8]) throws

    // MARK: Audit log

    /// The number of audit events (the tree size): the next leaf index.
    func auditLogSize() throws -> Int64

    /// Appends `records` at consecutive leaf indexes, the first being the
    /// next one (`auditLogSize()`); anything else fails and changes nothing.
    /// Call inside the transaction of the change they record, so both land
    /// together.
    func appendAudit(_ records: [AuditRecord]) throws

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

    /// Deletes the bodies of events before `time`, keeping seq, time and leaf
    /// hash (so checkpoints and proofs still verify). Returns how many.
    func pruneAuditBodies(before time: Timestamp) throws -> Int

    func insertCheckpoint(_ record: CheckpointRecord) throws
    func latestCheckpoint() throws -> CheckpointRecord?

    /// Every checkpoint, oldest first.
    func checkpoints() throws -> [CheckpointRecord]

    func auditSigningKey() throws -> (publicKey: [UInt8], sealedPrivateKey: [UInt8])?
    func insertAuditSigningKey(publicKey: [UInt8], sealedPrivateKey: [UInt8], createdAt: Timestamp) throws
    func updateSealedAuditKey(_ sealed: [UInt8]) throws

    // MARK: Copying rows (`vault copy`)

    /// Calls `body` with each row of `table`, cells in `table.columns` order,
    /// in key order (audit events by seq), without holding them all in memory.
    func forEachRow(of table: CopiedTable, _ body: ([StoreValue]) throws -> Void) throws

    /// Inserts `rows` (cells in `table.columns` order) with their keys as
    /// given; call inside `write`. Afterwards the store goes on as if they
    /// had been added one by one: new ids follow the largest copied one, and
    /// audit events, which must be the next leaf indexes in order, move the
    /// log's head.
    func insertRows(into table: CopiedTable, _ rows: [[StoreValue]]) throws

    /// The number of rows in `table`.
    func rowCount(of table: CopiedTable) throws -> Int64
}

extension VaultStore {
    /// Appends one audit row at the next leaf index.
    public func appendAudit(_ record: AuditRecord) throws { try appendAudit([record]) }

    /// Every instance, ordered by customer then name.
    public func forEachInstance(_ body: (InstanceRecord) throws -> Void) throws {
        try forEachInstance(customer: nil, body)
    }

    /// Reads whole records and lends their cells: for stores without a
    /// borrowing read of their own (PostgreSQL reads pages of records).
    public func forEachAuditRow(
        _ filter: AuditFilter, includePruned: Bool, _ body: (AuditRowCells) throws -> Void
    ) throws {
        try forEachAuditEvent(filter, includePruned: includePruned) { try $0.withCells(body) }
    }

    /// The audit rows that `filter` selects, pruned ones left out.
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditRecord) throws -> Void) throws {
        try forEachAuditEvent(filter, includePruned: false, body)
    }
}

/// Opens and creates vault stores by location: a file path (the SQLite
/// default) or a `postgres://` URL (see `VaultLocation`). The database
/// password comes from the environment as libpq reads it.
public enum VaultStores {
    /// Opens the existing vault at `location` and brings its schema up to date.
    public static func open(_ location: String) throws -> any VaultStore {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            return try SQLiteStore.open(at: path)
        case .postgres(let database):
            return try PostgresStore.open(at: database, password: try password(for: database))
        }
    }

    /// Creates a new vault at `location`: schema, header, and whatever `then`
    /// writes (the first keys and audit rows), all in one transaction.
    public static func create(
        _ location: String, header: VaultHeaderRecord, then: (any VaultStore) throws -> Void
    ) throws -> any VaultStore {
        switch try VaultLocation.parse(location) {
        case .file(let path):
            return try SQLiteStore.create(at: path, header: header, then: then)
        case .postgres(let database):
            return try PostgresStore.create(at: database, password: try password(for: database), header: header, then: then)
        }
    }

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

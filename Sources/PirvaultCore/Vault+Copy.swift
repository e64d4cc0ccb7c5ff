import PirvaultCrypto
import PirvaultStore

/// What `vault copy` wrote and then checked on the reopened target.
public struct CopyReport: Sendable {
    public var vaultID: String
    /// The target's path or URL, without password.
    public var target: String
    /// Rows per copied table, equal on both sides.
    public var rowCounts: [CopiedTable: Int64]
    /// The copy's audit tree size and root (the latest checkpoint's).
    public var auditEvents: Int64
    public var rootHash: [UInt8]

    public var instances: Int64 { rowCounts[.instances] ?? 0 }

    /// The root hash in standard base64.
    public var rootHashBase64: String { PublicBase64.encode(rootHash, .standard) }
}

extension Vault {
    /// Rows handed to the target per `insertRows` call.
    static let copyBatchSize = 1_000

    /// Copies this vault into the empty location `target` (a file path or a
    /// `postgres://` URL, either backend) and checks the result.
    ///
    /// First a `vault.copy` event and a checkpoint covering it are appended
    /// here, so both logs end alike. Then, from one snapshot of this vault,
    /// the header (same vault id, sealed vault key and unlock parameters) and
    /// every row of `CopiedTable` are written with their ids unchanged, in the
    /// single transaction of `VaultStores.create`: a non-empty target is
    /// refused and a failure leaves no vault behind (and a `vault.copy`
    /// error event here). Sealed values move as they are; their associated
    /// data names vault, table and row, all kept.
    ///
    /// The check reopens the target with this vault's unlock key and verifies
    /// its audit log, tree size, latest checkpoint, audit key, each table's
    /// row count and every sealed data key, secret and signing key.
    @available(*, noasync)
    public func copy(to target: String) throws -> CopyReport {
        let targetName = try storeOperation { try VaultLocation.parse(target).description }
        try followVaultKeyRotations()  // another node may have rotated the key since we unlocked
        try write { tx in
            _ = try noteSigner(in: tx)  // a vault older than the audit log gets its key now, so the copy has it
            try tx.audit(
                AuditEvent(time: clock.now(), event: .vaultCopy, outcome: .allowed, reason: "copy to \(targetName)"))
            try writeCheckpoint(in: tx)
        }
        let source: CopySnapshot
        do {
            source = try read { tx in
                let snapshot = try CopySnapshot(of: tx)
                _ = try stores.create(target, .commandLine, snapshot.header) { _, copy in
                    for table in CopiedTable.allCases { try copyRows(of: table, from: tx, to: copy) }
                }
                return snapshot
            }
            try verifyCopy(at: target, named: targetName, against: source)
        } catch {
            try? write { tx in
                try tx.audit(
                    AuditEvent(
                        time: clock.now(), event: .vaultCopy, outcome: .error, reason: "copy to \(targetName) failed")
                )
            }
            throw error
        }
        return CopyReport(
            vaultID: vaultID, target: targetName, rowCounts: source.rowCounts, auditEvents: source.treeSize,
            rootHash: source.checkpoint?.rootHash ?? [])
    }

    /// Streams `table` into `copy` in batches, in key order.
    private func copyRows(of table: CopiedTable, from source: any StoreReader, to copy: any StoreWriter) throws {
        var batch: [[StoreValue]] = []
        batch.reserveCapacity(Self.copyBatchSize)
        try source.forEachRow(of: table) { row in
            batch.append(row)
            if batch.count == Self.copyBatchSize {
                try copy.insertRows(into: table, batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try copy.insertRows(into: table, batch) }
    }

    /// Reopens the copy and compares it with what the snapshot held.
    private func verifyCopy(at target: String, named targetName: String, against source: CopySnapshot) throws {
        func mismatch(_ what: String) -> VaultError {
            .copyMismatch(
                "the copy at \(targetName) does not match its source: \(what); do not use it — delete it and copy again"
            )
        }
        let copy = try storeOperation {
            let store = try stores.open(target, .commandLine)
            return try Vault.unlocked(
                store, stores: stores, header: try store.read { try $0.header() }, unlockKey: unlockKey, clock: clock)
        }
        let copied = try copy.read { try CopySnapshot(of: $0) }
        if copied.header != source.header { throw mismatch("the header differs") }
        for table in CopiedTable.allCases where copied.rowCounts[table] != source.rowCounts[table] {
            throw mismatch(
                "table \(table.name) has \(copied.rowCounts[table] ?? 0) rows instead of \(source.rowCounts[table] ?? 0)"
            )
        }
        if copied.treeSize != source.treeSize || copied.checkpoint != source.checkpoint {
            throw mismatch("the audit log's size or latest checkpoint differs")
        }
        let audit = try copy.verifyAuditLog()
        if let problem = audit.problem { throw mismatch("its audit log does not verify (\(problem))") }
        if try copy.checkpointVerifierKey() != checkpointVerifierKey() {
            throw mismatch("the audit public key differs")
        }
        try copy.openEverySealedKey()
    }

    /// The audit public key, read without writing (the key exists in both
    /// vaults once `copy` has appended its event).
    private func checkpointVerifierKey() throws -> String {
        try read { tx in
            guard let stored = try tx.auditSigningKey() else {
                throw VaultError.tampered("the vault has no audit signing key; run 'pirvault audit verify'")
            }
            return try noteSigner(stored).verifier.verifierKey
        }
    }

    /// Opens every instance's data key and secrets and every signing key:
    /// each must open under this vault's keys with its row's associated data.
    private func openEverySealedKey() throws {
        try read { tx in
            try tx.forEachInstance { record in
                let dataKey = try openDataKey(of: record)
                for credential in try tx.credentials(instanceID: record.id) {
                    _ = try openSecret(credential, of: record, dataKey: dataKey)
                }
            }
            for record in try tx.allSigningKeys() { _ = try openSigningKey(record) }
        }
    }
}

/// What one snapshot of a vault holds, as the copy check compares it.
private struct CopySnapshot {
    let header: VaultHeaderRecord
    let rowCounts: [CopiedTable: Int64]
    let treeSize: Int64
    let checkpoint: CheckpointRecord?

    init(of store: any StoreReader) throws {
        header = try store.header()
        var counts: [CopiedTable: Int64] = [:]
        for table in CopiedTable.allCases { counts[table] = try store.rowCount(of: table) }
        rowCounts = counts
        treeSize = try store.auditLogSize()
        checkpoint = try store.latestCheckpoint()
    }
}

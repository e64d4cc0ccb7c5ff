extension SQLiteReader {
    /// Calls `body` with (seq, leaf hash) for every event with
    /// `from <= seq < to`, in order, the hash lent from SQLite's buffer.
    func forEachLeaf(from: Int64, to: Int64, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        try db.forEach(
            "SELECT seq, leaf_hash FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq",
            [.integer(from), .integer(to)]
        ) { try body($0.int(0), $0.bytes(1) ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    fileprivate static func checkpoint(from row: Row) -> CheckpointRecord {
        CheckpointRecord(
            treeSize: row.int(0), rootHash: row.blob(1) ?? [], frontier: row.blob(2) ?? [], note: row.string(3),
            createdAt: Timestamp(microseconds: row.int(4)))
    }

    func latestCheckpoint() throws -> CheckpointRecord? {
        try db.query(
            "SELECT tree_size, root_hash, frontier, note, created_at_us FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1",
            row: Self.checkpoint
        ).first
    }

    func checkpoints() throws -> [CheckpointRecord] {
        try db.query(
            "SELECT tree_size, root_hash, frontier, note, created_at_us FROM audit_checkpoints ORDER BY tree_size",
            row: Self.checkpoint)
    }

    func auditSigningKey() throws -> (publicKey: [UInt8], sealedPrivateKey: [UInt8])? {
        try db.query("SELECT public_key, sealed_private_key FROM audit_signing_key WHERE singleton = 1") {
            (publicKey: $0.blob(0) ?? [], sealedPrivateKey: $0.blob(1) ?? [])
        }.first
    }
}

extension SQLiteWriter {
    func insertCheckpoint(_ record: CheckpointRecord) throws {
        try db.run(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, note, created_at_us) VALUES (?, ?, ?, ?, ?)",
            [.integer(record.treeSize), .blob(record.rootHash), .blob(record.frontier), .text(record.note),
             .integer(record.createdAt.microseconds)])
        noteCheckpoint(record)
    }

    func insertAuditSigningKey(publicKey: [UInt8], sealedPrivateKey: [UInt8], createdAt: Timestamp) throws {
        try db.run(
            "INSERT INTO audit_signing_key (singleton, public_key, sealed_private_key, created_at_us) VALUES (1, ?, ?, ?)",
            [.blob(publicKey), .blob(sealedPrivateKey), .integer(createdAt.microseconds)])
    }

    func updateSealedAuditKey(_ sealed: [UInt8]) throws {
        try db.run("UPDATE audit_signing_key SET sealed_private_key = ? WHERE singleton = 1", [.blob(sealed)])
    }

    /// Deletes the bodies of events before `time`, keeping seq, time, leaf hash
    /// (so checkpoints and proofs still verify). Returns how many were pruned.
    func pruneAuditBodies(before time: Timestamp) throws -> Int {
        try db.run(
            """
            UPDATE audit_events SET reason = NULL, customer = NULL, instance = NULL, clientid = NULL, flow = NULL,
                method = NULL, status = NULL, remote_addr = NULL, request_id = NULL, latency_us = NULL, jti = NULL,
                canonical = NULL
            WHERE time_us < ? AND canonical IS NOT NULL
            """, [.integer(time.microseconds)])
        return db.changes
    }
}

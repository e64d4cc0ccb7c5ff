import PirvaultStore
import PostgresNIO

extension PostgresReader {
    /// Rows read per round trip when streaming the log: constant memory
    /// however long the log is.
    static let pageSize = 5_000

    fileprivate static let eventColumns = """
        seq, time_us, event, outcome, reason, customer, instance, clientid, flow, method, status,
        remote_addr, request_id, latency_us, jti, canonical, leaf_hash
        """

    func forEachAuditEvent(
        _ filter: AuditFilter, includePruned: Bool, _ body: (AuditRecord) throws -> Void
    ) throws {
        var remaining = filter.limit ?? Int.max
        var cursor: Int64?
        while remaining > 0 {
            var conditions = [includePruned ? "TRUE" : "canonical IS NOT NULL"]
            var binds = PostgresBindings()
            func condition(_ sql: String, _ value: some PostgresNonThrowingEncodable) {
                binds.append(value)
                conditions.append(sql.replacingOccurrences(of: "?", with: "$\(binds.count)"))
            }
            if let below = filter.belowSeq { condition("seq < ?", below) }
            if let since = filter.since { condition("time_us >= ?", since.microseconds) }
            if let until = filter.until { condition("time_us <= ?", until.microseconds) }
            if let customer = filter.customer { condition("customer = ?", customer) }
            if let clientID = filter.clientID { condition("clientid = ?", clientID) }
            if let flow = filter.flow { condition("flow = ?", flow) }
            if let event = filter.event { condition("event = ?", event.rawValue) }
            if let cursor { condition(filter.newestFirst ? "seq < ?" : "seq > ?", cursor) }
            let page = min(remaining, Self.pageSize)
            let sql = """
                SELECT \(Self.eventColumns) FROM audit_events WHERE \(conditions.joined(separator: " AND "))
                ORDER BY seq \(filter.newestFirst ? "DESC" : "ASC") LIMIT \(page)
                """
            let rows = try session.query(PostgresQuery(unsafeSQL: sql, binds: binds))
            for row in rows {
                let seq = try row.int(0)
                let record = AuditRecord(
                    seq: seq, time: Timestamp(microseconds: try row.int(1)),
                    event: try .stored(try row.string(2), column: "event type", seq: seq),
                    outcome: try .stored(try row.string(3), column: "outcome", seq: seq), reason: try row.text(4),
                    customer: try row.text(5),
                    instance: try row.text(6), clientID: try row.text(7), flow: try row.text(8),
                    method: try row.text(9), status: try row.optionalInt(10).map { Int($0) },
                    remoteAddress: try row.text(11), requestID: try row.text(12), latencyMicros: try row.optionalInt(13),
                    jti: try row.text(14), canonical: try row.blob(15), leafHash: try row.blob(16) ?? [])
                cursor = record.seq
                try body(record)
            }
            guard rows.count == page else { return }
            remaining -= page
        }
    }

    /// Pages of whole records, each lent as cells: PostgreSQL has no
    /// borrowing read like SQLite's stepped statement.
    func forEachAuditRow(_ filter: AuditFilter, includePruned: Bool, _ body: (AuditRowCells) throws -> Void) throws {
        try forEachAuditEvent(filter, includePruned: includePruned) { try $0.withCells(body) }
    }

    func forEachLeaf(from: Int64, to: Int64, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        var next = from
        while next < to {
            let rows = try session.query(
                """
                SELECT seq, leaf_hash FROM audit_events
                WHERE seq >= \(next) AND seq < \(to) ORDER BY seq LIMIT \(Int64(Self.pageSize))
                """)
            for row in rows {
                let seq = try row.int(0)
                try (try row.blob(1) ?? []).withUnsafeBytes { try body(seq, $0) }
                next = seq + 1
            }
            if rows.count < Self.pageSize { return }
        }
    }

    fileprivate static let checkpointSelect = "SELECT tree_size, root_hash, frontier, note, created_at_us FROM audit_checkpoints"

    fileprivate static func checkpoint(from row: PostgresRandomAccessRow) throws -> CheckpointRecord {
        CheckpointRecord(
            treeSize: try row.int(0), rootHash: try row.blob(1) ?? [], frontier: try row.blob(2) ?? [],
            note: try row.string(3), createdAt: Timestamp(microseconds: try row.int(4)))
    }

    func latestCheckpoint() throws -> CheckpointRecord? {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.checkpointSelect) ORDER BY tree_size DESC LIMIT 1"))
            .first.map(Self.checkpoint)
    }

    func checkpoints() throws -> [CheckpointRecord] {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.checkpointSelect) ORDER BY tree_size")).map(Self.checkpoint)
    }

    func auditSigningKey() throws -> (publicKey: [UInt8], sealedPrivateKey: [UInt8])? {
        try session.query("SELECT public_key, sealed_private_key FROM audit_signing_key WHERE singleton = 1").first.map {
            (publicKey: try $0.blob(0) ?? [], sealedPrivateKey: try $0.blob(1) ?? [])
        }
    }
}

extension PostgresWriter {
    /// One multi-row INSERT that also moves the head, and only from the
    /// first record's index, so a gap or a repeated index fails the
    /// transaction instead of landing (`insertRows`).
    func appendAudit(_ records: [AuditRecord]) throws {
        guard let last = records.last else { return }
        try insertRows(into: .auditEvents, records.map(\.storeValues))
        logSize = last.seq + 1
    }

    func pruneAuditBodies(before time: Timestamp) throws -> Int {
        try session.run(
            """
            UPDATE audit_events SET reason = NULL, customer = NULL, instance = NULL, clientid = NULL, flow = NULL,
                method = NULL, status = NULL, remote_addr = NULL, request_id = NULL, latency_us = NULL, jti = NULL,
                canonical = NULL
            WHERE time_us < \(time.microseconds) AND canonical IS NOT NULL
            """)
    }

    func insertCheckpoint(_ record: CheckpointRecord) throws {
        try session.run(
            """
            INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, note, created_at_us)
            VALUES (\(record.treeSize), \(ByteBuffer(bytes: record.rootHash)), \(ByteBuffer(bytes: record.frontier)),
                \(record.note), \(record.createdAt.microseconds))
            """)
        noteCheckpoint(record)
    }

    func insertAuditSigningKey(publicKey: [UInt8], sealedPrivateKey: [UInt8], createdAt: Timestamp) throws {
        try session.run(
            """
            INSERT INTO audit_signing_key (singleton, public_key, sealed_private_key, created_at_us)
            VALUES (1, \(ByteBuffer(bytes: publicKey)), \(ByteBuffer(bytes: sealedPrivateKey)), \(createdAt.microseconds))
            """)
    }

    func updateSealedAuditKey(_ sealed: [UInt8]) throws {
        try session.run("UPDATE audit_signing_key SET sealed_private_key = \(ByteBuffer(bytes: sealed)) WHERE singleton = 1")
    }
}

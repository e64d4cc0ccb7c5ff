extension SQLiteReader {
    fileprivate static let insertAuditEvent = """
        INSERT INTO audit_events (\(CopiedTable.auditEvents.columns.joined(separator: ", ")))
        VALUES (\(Array(repeating: "?", count: CopiedTable.auditEvents.columns.count).joined(separator: ", ")))
        """

    /// Calls `body` for each audit row that `filter` selects, in its order.
    /// Pruned rows (no body left) are selected only with `includePruned`.
    func forEachAuditEvent(
        _ filter: AuditFilter, includePruned: Bool, _ body: (AuditRecord) throws -> Void
    ) throws {
        try forEachAuditRow(filter, includePruned: includePruned) { try body(try AuditRecord($0)) }
    }

    /// `forEachAuditEvent` with the cells lent from SQLite's buffers: one
    /// prepared statement stepped through the rows, nothing copied.
    func forEachAuditRow(
        _ filter: AuditFilter, includePruned: Bool, _ body: (AuditRowCells) throws -> Void
    ) throws {
        var conditions = [includePruned ? "1" : "canonical IS NOT NULL"]
        var values: [SQLValue] = []
        if let below = filter.belowSeq {
            conditions.append("seq < ?")
            values.append(.integer(below))
        }
        if let since = filter.since {
            conditions.append("time_us >= ?")
            values.append(.integer(since.microseconds))
        }
        if let until = filter.until {
            conditions.append("time_us <= ?")
            values.append(.integer(until.microseconds))
        }
        for (column, value) in [
            ("customer", filter.customer), ("clientid", filter.clientID), ("flow", filter.flow),
            ("event", filter.event?.rawValue),
        ] {
            if let value {
                conditions.append("\(column) = ?")
                values.append(.text(value))
            }
        }
        var sql = """
            SELECT seq, time_us, event, outcome, reason, customer, instance, clientid, flow, method, status,
                   remote_addr, request_id, latency_us, jti, canonical, leaf_hash
            FROM audit_events
            """
        sql += " WHERE " + conditions.joined(separator: " AND ")
        sql += filter.newestFirst ? " ORDER BY seq DESC" : " ORDER BY seq"
        if let limit = filter.limit {
            sql += " LIMIT ?"
            values.append(.integer(Int64(limit)))
        }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        try db.forEach(sql, values) { row in
            try body(
                AuditRowCells(
                    seq: row.int(0), timeMicroseconds: row.int(1), event: row.bytes(2) ?? empty,
                    outcome: row.bytes(3) ?? empty, reason: row.bytes(4), customer: row.bytes(5), instance: row.bytes(6),
                    clientID: row.bytes(7), flow: row.bytes(8), method: row.bytes(9), status: row.optionalInt(10),
                    remoteAddress: row.bytes(11), requestID: row.bytes(12), latencyMicros: row.optionalInt(13),
                    jti: row.bytes(14), canonical: row.bytes(15), leafHash: row.bytes(16) ?? empty))
        }
    }
}

extension SQLiteWriter {
    /// A gap would pass the primary key and leave a log whose leaves no longer
    /// match their indexes, so the indexes are checked first (inside the write
    /// transaction, which holds the lock), as PostgreSQL's head row does.
    func appendAudit(_ records: [AuditRecord]) throws {
        guard let first = records.first else { return }
        guard try auditLogSize() == first.seq, records.enumerated().allSatisfy({ $0.element.seq == first.seq + Int64($0.offset) })
        else { throw StoreError.corrupt(what: "audit event \(first.seq) is not the next index of the log") }
        try db.run(Self.insertAuditEvent, eachOf: records.lazy.map(\.storeValues))
        advanceLog(to: first.seq + Int64(records.count))
    }
}

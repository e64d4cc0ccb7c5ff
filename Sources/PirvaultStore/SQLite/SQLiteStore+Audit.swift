extension SQLiteStore {
    private static let insertAuditEvent = """
        INSERT INTO audit_events (\(CopiedTable.auditEvents.columns.joined(separator: ", ")))
        VALUES (\(Array(repeating: "?", count: CopiedTable.auditEvents.columns.count).joined(separator: ", ")))
        """

    /// A gap would pass the primary key and leave a log whose leaves no longer
    /// match their indexes, so the indexes are checked first (inside the write
    /// transaction, which holds the lock), as PostgreSQL's head row does.
    public func appendAudit(_ records: [AuditRecord]) throws {
        guard let first = records.first else { return }
        guard try auditLogSize() == first.seq, records.enumerated().allSatisfy({ $0.element.seq == first.seq + Int64($0.offset) })
        else { throw StoreError.corrupt(what: "audit event \(first.seq) is not the next index of the log") }
        for record in records { try db.run(Self.insertAuditEvent, record.storeValues) }
    }

    /// Calls `body` for each audit row that `filter` selects, in its order.
    /// Pruned rows (no body left) are selected only with `includePruned`.
    public func forEachAuditEvent(
        _ filter: AuditFilter, includePruned: Bool, _ body: (AuditRecord) throws -> Void
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
            ("event", filter.event),
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
        try db.forEach(sql, values) { row in
            try body(
                AuditRecord(
                    seq: row.int(0), time: Timestamp(microseconds: row.int(1)), event: row.string(2),
                    outcome: row.string(3), reason: row.text(4), customer: row.text(5), instance: row.text(6),
                    clientID: row.text(7), flow: row.text(8), method: row.text(9),
                    status: row.optionalInt(10).map { Int($0) }, remoteAddress: row.text(11),
                    requestID: row.text(12), latencyMicros: row.optionalInt(13), jti: row.text(14),
                    canonical: row.blob(15), leafHash: row.blob(16) ?? []))
        }
    }
}

import PirvaultStore
import PostgresNIO

extension PostgresReader {
    /// Pages through the table by its key, `pageSize` rows per round trip;
    /// call inside `read` so every page comes from one snapshot.
    func forEachRow(of table: CopiedTable, _ body: ([StoreValue]) throws -> Void) throws {
        var after: StoreValue?
        while true {
            var binds = PostgresBindings()
            var sql = table.selectSQL
            if let after {
                binds.append(after)
                sql += " WHERE \(table.key) > $1"
            }
            sql += " ORDER BY \(table.key) LIMIT \(Self.pageSize)"
            let rows = try session.query(PostgresQuery(unsafeSQL: sql, binds: binds))
            for row in rows {
                let values = try (0..<table.columns.count).map { try row.storeValue($0) }
                after = values[0]
                try body(values)
            }
            if rows.count < Self.pageSize { return }
        }
    }

    /// The PostgreSQL types of `CopiedTable.auditEvents.columns`, in order.
    fileprivate static let auditEventTypes = [
        "bigint", "bigint", "text", "text", "text", "text", "text", "text", "text", "text", "bigint", "text", "text",
        "bigint", "text", "bytea", "bytea",
    ]

    func rowCount(of table: CopiedTable) throws -> Int64 {
        try session.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)")).first?.int(0) ?? 0
    }
}

extension PostgresWriter {
    /// Multi-row INSERTs (within the protocol's limit of 65,535 parameters).
    /// Identity sequences are moved past the largest copied id; audit events
    /// move the log's head, and only if they start at its current size with
    /// no gap (`appendAudit` writes its batches this way too).
    func insertRows(into table: CopiedTable, _ rows: [[StoreValue]]) throws {
        let perStatement = 60_000 / table.columns.count
        var start = rows.startIndex
        while start < rows.endIndex {
            let chunk = rows[start..<min(start + perStatement, rows.endIndex)]
            try insert(chunk, into: table)
            start = chunk.endIndex
        }
        if table.hasIdentity, !rows.isEmpty {
            try session.query(
                PostgresQuery(
                    unsafeSQL:
                        "SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), COALESCE(MAX(id), 1)) FROM \(table.name)"
                ))
        }
    }

    fileprivate func insert(_ rows: ArraySlice<[StoreValue]>, into table: CopiedTable) throws {
        var binds = PostgresBindings()
        var tuples: [String] = []
        // Audit rows are selected from a VALUES list (below), where a NULL
        // parameter has no column to take its type from: each gets its cast.
        let casts = table == .auditEvents ? Self.auditEventTypes.map { "::" + $0 } : Array(repeating: "", count: table.columns.count)
        for row in rows {
            var placeholders: [String] = []
            for (value, cast) in zip(row, casts) {
                binds.append(value)
                placeholders.append("$\(binds.count)\(cast)")
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let columns = table.columns.joined(separator: ", ")
        guard table == .auditEvents else {
            try session.run(PostgresQuery(unsafeSQL: "INSERT INTO \(table.name) (\(columns)) VALUES \(tuples.joined(separator: ", "))", binds: binds))
            return
        }
        guard case .integer(let first)? = rows.first?[0],
            rows.enumerated().allSatisfy({ $0.element[0] == .integer(first + Int64($0.offset)) })
        else { throw StoreError.corrupt(what: "audit events to append are not consecutive") }
        // One statement: the head moves, and the rows go in only if it moved,
        // so a gap or a repeated index inserts nothing and changes nothing.
        let inserted = try session.run(
            PostgresQuery(
                unsafeSQL: """
                    WITH moved AS (
                        UPDATE audit_log_head SET size = size + \(rows.count) WHERE singleton = 1 AND size = \(first) RETURNING size
                    )
                    INSERT INTO audit_events (\(columns))
                    SELECT * FROM (VALUES \(tuples.joined(separator: ", "))) AS appended WHERE EXISTS (SELECT 1 FROM moved)
                    """, binds: binds))
        guard inserted == rows.count else {
            throw StoreError.corrupt(what: "audit event \(first) is not the next index of the log")
        }
    }
}

extension PostgresRandomAccessRow {
    /// Column `index` by its data type: the integers, text and bytea of the schema.
    fileprivate func storeValue(_ index: Int) throws -> StoreValue {
        let cell = self[index]
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try int(index))
        case .text, .varchar: return .text(try string(index))
        case .bytea: return .blob(try blob(index) ?? [])
        default: throw StoreError.corrupt(what: "column \(index) has the unexpected type \(cell.dataType)")
        }
    }
}

extension PostgresBindings {
    /// Appends one cell: bigint, text, bytea, or an untyped NULL that takes its column's type.
    fileprivate mutating func append(_ value: StoreValue) {
        switch value {
        case .integer(let number): append(number)
        case .text(let text): append(text)
        case .blob(let bytes): append(bytes: bytes)
        case .null: appendNull()
        }
    }
}

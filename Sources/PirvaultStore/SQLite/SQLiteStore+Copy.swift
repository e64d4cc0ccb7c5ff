extension SQLiteReader {
    /// One statement steps through the table in key order: constant memory.
    func forEachRow(of table: CopiedTable, _ body: ([StoreValue]) throws -> Void) throws {
        let count = Int32(table.columns.count)
        try db.forEach("\(table.selectSQL) ORDER BY \(table.key)") { row in
            try body((0..<count).map(row.value))
        }
    }

    func rowCount(of table: CopiedTable) throws -> Int64 {
        try db.query("SELECT count(*) FROM \(table.name)") { $0.int(0) }.first ?? 0
    }
}

extension SQLiteWriter {
    /// One prepared INSERT per row. AUTOINCREMENT continues after the largest
    /// explicit id, and the log's size is `MAX(seq) + 1`, so nothing else moves.
    func insertRows(into table: CopiedTable, _ rows: [[StoreValue]]) throws {
        let placeholders = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))"
        for row in rows { try db.run(sql, row) }
    }
}

import PirvaultStore

extension Vault {
    /// Calls `body` for each audit event that `filter` selects.
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (StoredAuditEvent) throws -> Void) throws {
        try storeOperation {
            try store.read {
                try store.forEachAuditEvent(filter) { record in
                    try body(StoredAuditEvent(seq: record.seq, event: AuditEvent(record: record)))
                }
            }
        }
    }
}

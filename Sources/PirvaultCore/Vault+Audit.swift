import PirvaultStore

extension Vault {
    /// Calls `body` for each audit event that `filter` selects (each with its `seq`).
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditEvent) throws -> Void) throws {
        try storeOperation {
            try store.read { try store.forEachAuditEvent(filter) { try body(AuditEvent(record: $0)) } }
        }
    }
}

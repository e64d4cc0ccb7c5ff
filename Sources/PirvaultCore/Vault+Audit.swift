import PirvaultStore

extension Vault {
    /// Appends `events` in one transaction (one commit for all: the server's
    /// group commit). Each gets the next leaf index; `seq` is ignored.
    public func appendAuditEvents(_ events: [AuditEvent]) throws {
        try write { for event in events { try audit(event) } }
    }

    /// Calls `body` for each audit event that `filter` selects (each with its `seq`).
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditEvent) throws -> Void) throws {
        try storeOperation {
            try store.read { try store.forEachAuditEvent(filter) { try body(AuditEvent(record: $0)) } }
        }
    }
}

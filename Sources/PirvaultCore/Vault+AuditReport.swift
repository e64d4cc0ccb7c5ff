import PirvaultCrypto
import PirvaultStore

extension Vault {
    /// `audit report`: checks the whole log with `verifyAuditLog()`, then
    /// gathers the figures of the events `filter` selects in one ascending
    /// pass (`limit` is ignored). When the log verifies, the report is audited
    /// (`audit.report`), a checkpoint covering the whole log is signed, and
    /// exactly the events it covers are read. When it does not, nothing is
    /// written to the vault: the report names the latest stored checkpoint and
    /// counts the events as they are, and says the log failed verification.
    @available(*, noasync)
    public func auditReport(_ filter: AuditFilter) throws -> AuditReport {
        let verification = try verifyAuditLog()
        let checkpoint: CheckpointRecord?
        if verification.isValid {
            checkpoint = try write { tx in
                try tx.audit(AuditEvent(time: clock.now(), event: .auditReport, outcome: .allowed, reason: "html\(filter.auditNote)"))
                return try writeCheckpoint(in: tx)
            }
        } else {
            checkpoint = try read { try $0.latestCheckpoint() }
        }
        var selection = filter
        selection.newestFirst = false
        selection.limit = nil
        selection.belowSeq = verification.isValid ? checkpoint?.treeSize : nil
        var report = AuditReport(
            filter: selection, generatedAt: clock.now(), verification: verification,
            checkpoint: checkpoint.map {
                AuditReport.CheckpointSummary(
                    treeSize: $0.treeSize, rootHash: PublicBase64.encode($0.rootHash, .standard), createdAt: $0.createdAt)
            })
        try forEachAuditEvent(selection) { report.add($0) }
        return report
    }
}

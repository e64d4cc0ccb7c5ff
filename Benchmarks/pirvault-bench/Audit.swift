import Foundation
import PirvaultCore

/// `audit` section: append rate in one process, then `audit export`,
/// `audit verify` (stored log and export file) and `audit report` as
/// processes on a log of `eventCount` events.
func auditBenchmarks(eventCount: Int) throws {
    let path = work + "/audit.db"
    let keyPath = work + "/audit.key"
    let vault = try Vault.create(at: path, unlock: .keyFile(KeyFile.generate(at: keyPath)), stores: .sqlite)
    let single = 300
    let singleTime = try seconds { for i in 0..<single { try vault.appendAuditEvents([PendingAudit(benchmarkEvent(i))]) } }
    row("append, one commit per event (synchronous=FULL)", perSecond(Double(single) / singleTime))
    let batchTime = try seconds { try appendBenchmarkEvents(to: vault, from: single, to: eventCount) }
    let appendRate = Double(eventCount - single) / batchTime
    row(
        "append, \(benchmarkBatch) per commit (group commit)",
        perSecond(appendRate) + "  goal ≥100,000/s: " + (appendRate >= 100_000 ? "met" : "NOT met"))

    let exportFile = work + "/export.jsonl"
    let export = try timeProcess(["audit", "export", "--format", "jsonl", "--output", exportFile], vault: path, key: keyPath, count: 1)
    let exportSize = (try FileManager.default.attributesOfItem(atPath: exportFile)[.size] as? Int) ?? 0
    row("pirvault audit export --format jsonl, \(eventCount) events", String(format: "%.2f s (%d MiB)  goal ≤5 s: %@", export.median, exportSize >> 20, export.median <= 5 ? "met" : "NOT met"))
    let verify = try timeProcess(["audit", "verify"], vault: path, key: keyPath, count: 1)
    row("pirvault audit verify (stored log), \(eventCount) events", String(format: "%.2f s  goal ≤5 s: %@", verify.median, verify.median <= 5 ? "met" : "NOT met"))
    let publicKey = work + "/audit.pub"
    try (try vault.auditVerifierKey()).write(toFile: publicKey, atomically: true, encoding: .utf8)
    let offline = try timeProcess(["audit", "verify", "--export", exportFile, "--public-key", publicKey], vault: path, key: keyPath, count: 1)
    row("pirvault audit verify --export (offline), \(eventCount) events", String(format: "%.2f s", offline.median))
    let csv = try timeProcess(["audit", "export", "--format", "csv", "--output", work + "/export.csv"], vault: path, key: keyPath, count: 1)
    row("pirvault audit export --format csv, \(eventCount) events", String(format: "%.2f s", csv.median))
    let report = try timeProcess(["audit", "report", "--output", work + "/report.html"], vault: path, key: keyPath, count: 1)
    row("pirvault audit report (verify, then one pass), \(eventCount) events", String(format: "%.2f s", report.median))
}

/// An event shaped like a gateway call (~330 canonical bytes); every tenth is denied.
func benchmarkEvent(_ i: Int) -> AuditEvent {
    AuditEvent(
        time: .now(), event: .gatewayCall, outcome: i % 10 == 0 ? .denied : .allowed,
        reason: i % 10 == 0 ? "flow /http/orders/\(i) is not among the flows allowed for instance 'acme-\(i % 50)'" : "allowed",
        customer: "customer-\(i % 20)", instance: "acme-\(i % 50)",
        clientID: "sb-7fb44aa7-56a4-4b56-9ddc-70107e1fce14!b882941|it-rt-acme-\(i % 50)!b143",
        flow: "/http/orders/\(i)", method: "POST", status: i % 10 == 0 ? 403 : 200, remoteAddress: "127.0.0.1",
        requestID: "req-\(i)", latencyMicros: Int64(200 + i % 700), jti: "MIbIhYYq1MWaTdhdd-yK2Q")
}

let benchmarkBatch = 10_000

/// Appends benchmark events `from..<to` in group commits of `benchmarkBatch`.
func appendBenchmarkEvents(to vault: Vault, from: Int, to end: Int) throws {
    var appended = from
    while appended < end {
        let n = min(benchmarkBatch, end - appended)
        try vault.appendAuditEvents((appended..<(appended + n)).map { PendingAudit(benchmarkEvent($0)) })
        appended += n
    }
}

/// `make-audit-log --events N --dir D`: a vault `D/vault.db` (key file
/// `D/vault.key`) holding N benchmark events and nothing else, for
/// `Benchmarks/audit-bench.sh`.
func makeAuditLog(eventCount: Int, directory: String) throws {
    let vault = try Vault.create(
        at: directory + "/vault.db", unlock: .keyFile(KeyFile.generate(at: directory + "/vault.key")), stores: .sqlite)
    let elapsed = try seconds { try appendBenchmarkEvents(to: vault, from: 0, to: eventCount) }
    row("append \(eventCount) events, \(benchmarkBatch) per commit", String(format: "%.1f s", elapsed))
}

import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultTestSupport
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

/// A vault with a few customers' events and checkpoints every 4 events.
func auditFixture(instances: Int = 6, backend: Backend = .sqlite) throws -> Fixture {
    let fixture = try Fixture(backend: backend)
    fixture.vault.checkpointPolicy = CheckpointPolicy(everyEvents: 4, everySeconds: 3600)
    for i in 0..<instances {
        _ = try fixture.vault.createInstance(InstanceSpec(name: "i\(i)", customer: "customer-\(i % 3)"))
    }
    return fixture
}

func export(_ fixture: Fixture, _ filter: AuditFilter = AuditFilter(), format: AuditExportFormat = .jsonl) throws -> [UInt8] {
    var out: [UInt8] = []
    _ = try fixture.vault.exportAudit(filter, format: format, write: { out += $0 })
    return out
}

func verifyExport(_ bytes: [UInt8], key: String) throws -> ExportVerificationReport {
    try ExportVerifier(verifierKey: key).verify(lines: bytes.split(separator: 0x0A, omittingEmptySubsequences: false))
}

/// The stored canonical bytes of the event at `seq`.
func canonicalBytes(_ fixture: Fixture, seq: Int64) throws -> [UInt8] {
    var canonical: [UInt8] = []
    try fixture.vault.store.read { try $0.forEachAuditEvent(AuditFilter(limit: 1, belowSeq: seq + 1)) { canonical = $0.canonical ?? [] } }
    return canonical
}

struct AuditLogTests {
    @Test func aFreshLogVerifies() throws {
        let fixture = try auditFixture()
        let report = try fixture.vault.verifyAuditLog()
        #expect(report.isValid, "\(report.problem ?? "")")
        #expect(report.events == 7)
        #expect(report.checkpoints >= 1)
    }

    @Test func theHandWrittenEventEncodingIsCanonical() {
        let event = AuditEvent(
            seq: 3, time: Timestamp(seconds: 1), event: .gatewayCall, outcome: .denied, reason: "quote \" and \n and é",
            customer: "Ü\u{7}", instance: "i", clientID: "sb-1!b2|it-rt-x!b3", flow: "/http/a", method: "POST", status: 403,
            remoteAddress: "127.0.0.1", requestID: "r-1", latencyMicros: 812, jti: "j")
        #expect(event.canonicalBytes == event.jsonObject.canonicalBytes())
        #expect(AuditEvent(time: Timestamp(seconds: 0), event: .vaultInit, outcome: .allowed).canonicalBytes == Array(#"{"event":"vault.init","outcome":"allowed","time":"1970-01-01T00:00:00.000000Z"}"#.utf8))
    }

    /// Each way the stored log can be altered; verify names what is wrong.
    enum Tamper: CaseIterable {
        case editedContent, editedColumn, deletedRow, deletedLastRows, reorderedRows, forgedCheckpoint, swappedCheckpointRoot
    }

    @Test(arguments: Backend.allCases, Tamper.allCases)
    func detectsEveryTamperCase(_ backend: Backend, _ tamper: Tamper) throws {
        let fixture = try auditFixture(backend: backend)
        let checkpointSize = try #require(Int64(try fixture.query("SELECT MIN(tree_size) FROM audit_checkpoints WHERE tree_size > 1")[0]))
        let expected: String
        switch tamper {
        case .editedContent:
            let canonical = try canonicalBytes(fixture, seq: 3)
            let edited = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: "customer-", with: "customer+").utf8)
            #expect(edited != canonical)
            try fixture.execute("UPDATE audit_events SET canonical = \(backend.literal(edited)) WHERE seq = 3")
            expected = "index 3 was altered"
        case .editedColumn:
            try fixture.execute("UPDATE audit_events SET customer = 'someone-else' WHERE seq = 2")
            expected = "index 2 was altered"
        case .deletedRow:
            try fixture.execute("DELETE FROM audit_events WHERE seq = 4")
            expected = "index 4 is missing"
        case .deletedLastRows:
            // Only events a checkpoint covers are protected against truncation
            // on SQLite; PostgreSQL's head row remembers the size, so the
            // first missing event is named.
            try fixture.execute("DELETE FROM audit_events WHERE seq >= 3")
            expected = backend == .sqlite ? "from index 3 on are missing" : "the event at index 3 is missing"
        case .reorderedRows:
            try fixture.execute("UPDATE audit_events SET seq = -1 WHERE seq = 1; UPDATE audit_events SET seq = 1 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = -1")
            expected = "index 1 was altered or moved"
        case .forgedCheckpoint:
            let other = NoteSigner(name: fixture.vault.logOrigin, key: .generate())
            let fakeRoot = SHA256.hash([9])
            let note = other.sign(Checkpoint(origin: fixture.vault.logOrigin, size: Int(checkpointSize), rootHash: fakeRoot))
            let quotedNote = "'" + note.replacingOccurrences(of: "'", with: "''") + "'"
            try fixture.execute(
                "UPDATE audit_checkpoints SET note = \(quotedNote), root_hash = \(backend.literal(fakeRoot)) WHERE tree_size = \(checkpointSize)")
            expected = "checkpoint at tree size \(checkpointSize) does not carry a valid signature"
        case .swappedCheckpointRoot:
            try fixture.execute(
                "UPDATE audit_checkpoints SET root_hash = \(backend.literal([UInt8](repeating: 0, count: 32))) WHERE tree_size = \(checkpointSize)")
            expected = "checkpoint at tree size \(checkpointSize) does not carry a valid signature"
        }
        let report = try fixture.reopen().verifyAuditLog()
        #expect(report.problem?.contains(expected) == true, "\(tamper): \(report.problem ?? "no problem found")")
    }

    @Test func pruningKeepsCheckpointsAndProofsValid() throws {
        let clock = TestClock()
        let fixture = try Fixture(clock: clock.clock)
        fixture.vault.checkpointPolicy = CheckpointPolicy(everyEvents: 2, everySeconds: 3600)
        for i in 0..<4 { _ = try fixture.vault.createInstance(InstanceSpec(name: "old\(i)", customer: "A")) }
        let key = try fixture.vault.auditVerifierKey()
        let before = try export(fixture)
        clock.advance(seconds: 86_400)
        for i in 0..<3 { _ = try fixture.vault.createInstance(InstanceSpec(name: "new\(i)", customer: "A")) }
        #expect(try fixture.vault.pruneAudit(before: clock.now.adding(seconds: -3600)) == 6)  // init, 4 creates, 1 export
        var listed: [AuditEventType] = []
        try fixture.vault.forEachAuditEvent(AuditFilter()) { listed.append($0.event) }
        #expect(listed == [.auditPrune, .instanceCreate, .instanceCreate, .instanceCreate])
        let report = try fixture.vault.verifyAuditLog()
        #expect(report.isValid, "\(report.problem ?? "")")
        #expect(report.pruned == 6)
        #expect(try verifyExport(before, key: key).isValid)
        let after = try export(fixture)
        let verified = try verifyExport(after, key: key)
        #expect(verified.isValid, "\(verified.problem ?? "")")
        #expect(!String(decoding: after, as: UTF8.self).contains("old0"))
    }
}

struct AuditExportTests {
    @Test func aCustomersExportProvesItsEventsAndNothingElse() throws {
        let fixture = try auditFixture()
        let key = try fixture.vault.auditVerifierKey()
        let bytes = try export(fixture, AuditFilter(customer: "customer-1"))
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2 + 1)  // i1 and i4 created, then the checkpoint
        #expect(!text.contains("customer-0") && !text.contains("customer-2"))
        let report = try verifyExport(bytes, key: key)
        #expect(report.isValid, "\(report.problem ?? "")")
        #expect(report.events == 2)
        #expect(report.treeSize == 8)
        #expect(lines.last!.hasPrefix("{\"checkpoint\":\"\(fixture.vault.logOrigin)\\n8\\n"))
    }

    @Test func anEmptySelectionStillExportsASignedCheckpoint() throws {
        let fixture = try auditFixture()
        let bytes = try export(fixture, AuditFilter(customer: "nobody"))
        #expect(bytes.split(separator: 0x0A).count == 1)
        let report = try verifyExport(bytes, key: try fixture.vault.auditVerifierKey())
        #expect(report.isValid)
        #expect(report.events == 0)
    }

    /// Each way an export file can be doctored; verification names the line.
    @Test(arguments: ["changed field", "wrong index", "swapped proofs", "reordered lines", "dropped proof hash",
                      "non-canonical event", "forged checkpoint", "other vault's key", "truncated", "extra space"])
    func detectsDoctoredExports(_ tamper: String) throws {
        let fixture = try auditFixture()
        var key = try fixture.vault.auditVerifierKey()
        var lines = String(decoding: try export(fixture), as: UTF8.self).split(separator: "\n").map(String.init)
        switch tamper {
        case "changed field": lines[2] = lines[2].replacingOccurrences(of: "\"outcome\":\"allowed\"", with: "\"outcome\":\"denied\"")
        case "wrong index": lines[2] = lines[2].replacingOccurrences(of: "{\"index\":2,", with: "{\"index\":3,")
        case "swapped proofs":
            let proof = { (line: String) in String(line[line.range(of: ",\"proof\":")!.lowerBound...]) }
            lines[2] = lines[2].replacingOccurrences(of: proof(lines[2]), with: proof(lines[3]))
        case "reordered lines": lines.swapAt(1, 2)
        case "dropped proof hash": lines[1] = lines[1].replacingOccurrences(of: "\"proof\":[\"", with: "\"proof\":[\"AAAA").replacingOccurrences(of: "AAAA", with: "", options: [], range: nil) + ""
            lines[1] = String(lines[1][..<lines[1].range(of: ",\"proof\":[")!.upperBound]) + String(lines[1][lines[1].index(lines[1].range(of: ",\"proof\":[")!.upperBound, offsetBy: 47)...])
        case "non-canonical event": lines[1] = lines[1].replacingOccurrences(of: "{\"clientid\"", with: "{ \"clientid\"")
        case "forged checkpoint": lines[lines.count - 1] = lines[lines.count - 1].replacingOccurrences(of: "\\n8\\n", with: "\\n9\\n")
        case "other vault's key": key = try auditFixture(instances: 1).vault.auditVerifierKey()
        case "truncated": lines.removeLast()
        case "extra space": lines[0] = lines[0].replacingOccurrences(of: "{\"index\":0,", with: "{\"index\": 0,")
        default: Issue.record("unknown case")
        }
        let report = try verifyExport(Array(lines.joined(separator: "\n").utf8), key: key)
        #expect(!report.isValid, "\(tamper) was not detected")
    }

    @Test func csvIsForPeopleAndSafeInSpreadsheets() throws {
        let fixture = try Fixture()
        _ = try fixture.vault.createInstance(InstanceSpec(name: "x", customer: "=HYPERLINK(\"evil\"), Inc"))
        let csv = String(decoding: try export(fixture, format: .csv), as: UTF8.self)
        let rows = csv.split(separator: "\r\n")
        #expect(rows[0] == "seq,time,event,outcome,reason,customer,instance,clientid,flow,method,status,remote_addr,request_id,latency_us,jti")
        #expect(rows.count == 4)
        #expect(csv.contains(#""'=HYPERLINK(""evil""), Inc""#))
    }
}

import Foundation
import PirvaultCrypto
import PirvaultTestSupport
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

/// `audit verify` checks leaf hashes on all cores at once; the first bad
/// index must be named exactly, whichever worker finds its bad row first.
struct ParallelVerificationTests {
    @Test func theFirstBadIndexWinsWhenALaterChunkFindsOneFirst() {
        // Chunk 0 is slow and finds 499 at its very end; chunk 1 finds 500 at once.
        let first = Parallel.firstIndex(in: 1000, chunks: 2) { i in
            if i < 500 { usleep(20) }
            return i == 499 || i == 500 || i == 999
        }
        #expect(first == 499)
        for chunks in 1...5 {
            #expect(Parallel.firstIndex(in: 1000, chunks: chunks) { $0 >= 700 } == 700)
            #expect(Parallel.firstIndex(in: 1000, chunks: chunks) { _ in false } == nil)
        }
        #expect(Parallel.firstIndex(in: 0) { _ in true } == nil)
    }

    @Test(arguments: [[10, 40], [40], [10], [31, 32], [0, 63], [63], []])
    func aBatchNamesItsFirstAlteredRowWithOneInEachChunk(_ tampered: [Int]) {
        var batch = LeafBatch()
        batch.reset(startSeq: 100, prunedAtStart: 0)
        for i in 0..<64 {
            let row = Array("event \(i)".utf8)
            var hash = Merkle.leafHash(row)
            if tampered.contains(i) { hash[7] ^= 1 }
            row.withUnsafeBytes { r in hash.withUnsafeBytes { h in batch.append(seq: 100 + Int64(i), content: r, leafHash: h) } }
        }
        // Two chunks: rows 0..<32 and 32..<64.
        batch.check(chunks: 2)
        #expect(batch.firstMismatch == tampered.min())
    }

    @Test func backgroundWorkHandsTheWorkedValueBack() {
        let works = (0..<8).map { n in Parallel.BackgroundWork(on: [Int](0..<1000)) { $0 = $0.map { $0 * n } } }
        for (n, work) in works.enumerated() {
            #expect(work.wait() == (0..<1000).map { $0 * n })
        }
    }

    /// Alters the content of instance `name`'s creation event and its column
    /// alike, so that only its leaf hash (checked by the workers) tells.
    func alterContentOnly(_ fixture: Fixture, instance name: String) throws -> Int64 {
        let seq = try #require(Int64(try fixture.query("SELECT seq FROM audit_events WHERE instance = '\(name)'")[0]))
        let canonical = try canonicalBytes(fixture, seq: seq)
        let edited = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: "\"\(name)\"", with: "\"x\(name)\"").utf8)
        #expect(edited != canonical)
        try fixture.execute(
            "UPDATE audit_events SET canonical = \(fixture.backend.literal(edited)), instance = 'x\(name)' WHERE seq = \(seq)")
        return seq
    }

    @Test(arguments: [1, 2, 3, 5, 4096])
    func verifyNamesTheFirstAlteredEventWhateverTheBatches(_ rowsPerBatch: Int) throws {
        let fixture = try auditFixture(instances: 12)
        let first = try alterContentOnly(fixture, instance: "i3")
        let later = try alterContentOnly(fixture, instance: "i8")
        #expect(first < later)
        let report = try fixture.reopen().verifyAuditLog(rowsPerBatch: rowsPerBatch)
        #expect(report.problem == "the event at index \(first) was altered: its content does not match its leaf hash")
        #expect(report.events == first)
    }

    /// The reader stops at a later edited column while the workers still
    /// hash the rows before it: the earlier altered content is named.
    @Test(arguments: [1, 2, 3, 4096])
    func anAlteredLeafBeforeAnEditedColumnIsNamedFirst(_ rowsPerBatch: Int) throws {
        let fixture = try auditFixture(instances: 12)
        let altered = try alterContentOnly(fixture, instance: "i2")
        try fixture.execute("UPDATE audit_events SET customer = 'someone-else' WHERE instance = 'i9'")
        let report = try fixture.reopen().verifyAuditLog(rowsPerBatch: rowsPerBatch)
        #expect(report.problem == "the event at index \(altered) was altered: its content does not match its leaf hash")
        let edited = try fixture.query("SELECT seq FROM audit_events WHERE instance = 'i1'")[0]
        try fixture.execute("UPDATE audit_events SET customer = 'someone-else' WHERE instance = 'i1'")
        let earlierColumn = try fixture.reopen().verifyAuditLog(rowsPerBatch: rowsPerBatch)
        #expect(earlierColumn.problem == "the event at index \(edited) was altered or moved: its columns differ from its signed content")
    }
}

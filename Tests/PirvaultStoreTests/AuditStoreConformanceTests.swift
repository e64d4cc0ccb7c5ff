import Foundation
import PirvaultTestSupport
import Testing

import PirvaultPostgres
@testable import PirvaultStore

/// The audit log's storage contract, run against SQLite and PostgreSQL alike.
struct AuditStoreConformanceTests {
    func seqs(_ store: any VaultStore, _ filter: AuditFilter, includePruned: Bool = false) throws -> [Int64] {
        var seqs: [Int64] = []
        try store.read { try $0.forEachAuditEvent(filter, includePruned: includePruned) { seqs.append($0.seq) } }
        return seqs
    }

    @Test(arguments: Backend.allCases)
    func appendsOnlyAtTheNextIndex(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        #expect(try store.read { try $0.auditLogSize() } == 0)
        try store.write { tx in for seq in 0..<3 { try tx.appendAudit(record(Int64(seq))) } }
        #expect(try store.read { try $0.auditLogSize() } == 3)
        for refused in [Int64(5), 2, 0, -1] {
            #expect(throws: StoreError.corrupt(what: "audit event \(refused) is not the next index of the log")) {
                try store.write { tx in
                    try tx.appendAudit(record(3))
                    try tx.appendAudit(record(refused))
                }
            }
            #expect(try store.read { try $0.auditLogSize() } == 3, "after refusing \(refused)")
        }
        // A refused append inside a transaction that goes on changes nothing.
        try store.write { tx in
            #expect(throws: StoreError.self) { try tx.appendAudit(record(7)) }
            try tx.appendAudit(record(3))
        }
        #expect(try seqs(store, AuditFilter(newestFirst: false)) == [0, 1, 2, 3])
        var stored: [AuditRecord] = []
        try store.read { try $0.forEachAuditEvent(AuditFilter(newestFirst: false)) { stored.append($0) } }
        #expect(stored == (0..<4).map { record(Int64($0)) })
    }

    @Test(arguments: Backend.allCases)
    func filtersSelectAndOrder(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        try store.write { tx in
            for seq in Int64(0)..<10 {
                try tx.appendAudit(
                    record(
                        seq, time: 1000 + seq, event: seq % 3 == 0 ? .tokenIssue : .gatewayCall,
                        customer: seq % 2 == 0 ? "even" : "odd", clientID: "c\(seq % 4)", flow: seq < 5 ? "/a" : "/b"))
            }
        }
        #expect(try seqs(store, AuditFilter()) == Array((0..<10).reversed()))
        #expect(try seqs(store, AuditFilter(newestFirst: false)) == Array(0..<10))
        #expect(try seqs(store, AuditFilter(since: Timestamp(seconds: 1003), newestFirst: false)) == Array(3..<10))
        #expect(try seqs(store, AuditFilter(until: Timestamp(seconds: 1003), newestFirst: false)) == [0, 1, 2, 3])
        #expect(try seqs(store, AuditFilter(customer: "odd", newestFirst: false)) == [1, 3, 5, 7, 9])
        #expect(try seqs(store, AuditFilter(clientID: "c1", newestFirst: false)) == [1, 5, 9])
        #expect(try seqs(store, AuditFilter(flow: "/b", newestFirst: false)) == [5, 6, 7, 8, 9])
        #expect(try seqs(store, AuditFilter(event: .tokenIssue, newestFirst: false)) == [0, 3, 6, 9])
        #expect(try seqs(store, AuditFilter(limit: 3)) == [9, 8, 7])
        #expect(try seqs(store, AuditFilter(limit: 0)) == [])
        #expect(try seqs(store, AuditFilter(belowSeq: 4)) == [3, 2, 1, 0])
        #expect(
            try seqs(
                store,
                AuditFilter(
                    since: Timestamp(seconds: 1001), until: Timestamp(seconds: 1008), customer: "even", flow: "/b",
                    limit: 1, belowSeq: 8)) == [6])
        #expect(try seqs(store, AuditFilter(customer: "nobody")) == [])
    }

    @Test(arguments: Backend.allCases)
    func pruningKeepsLeavesAndHidesBodies(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        try store.write { tx in for seq in Int64(0)..<6 { try tx.appendAudit(record(seq, customer: "c")) } }
        #expect(try store.write { tx in try tx.pruneAuditBodies(before: Timestamp(seconds: 3)) } == 3)
        #expect(try store.write { tx in try tx.pruneAuditBodies(before: Timestamp(seconds: 3)) } == 0)
        #expect(try seqs(store, AuditFilter(newestFirst: false)) == [3, 4, 5])
        #expect(try seqs(store, AuditFilter(customer: "c", newestFirst: false)) == [3, 4, 5])
        #expect(try seqs(store, AuditFilter(newestFirst: false), includePruned: true) == Array(0..<6))
        var pruned: [AuditRecord] = []
        try store.read { try $0.forEachAuditEvent(AuditFilter(limit: 1, newestFirst: false), includePruned: true) {
            pruned.append($0)
        } }
        #expect(
            pruned == [
                AuditRecord(
                    seq: 0, time: Timestamp(seconds: 0), event: .gatewayCall, outcome: .allowed, canonical: nil,
                    leafHash: [0, 0xAA])
            ])
        var leaves: [(Int64, [UInt8])] = []
        try store.read { try $0.forEachLeaf(from: 2, to: 5) { leaves.append(($0, Array($1))) } }
        #expect(leaves.map(\.0) == [2, 3, 4])
        #expect(leaves.map(\.1) == [[2, 0xAA], [3, 0xAA], [4, 0xAA]])
        var rows: [AuditRecord] = []
        try store.read { try $0.forEachAuditRow(AuditFilter(newestFirst: false), includePruned: true) { rows.append(try AuditRecord($0)) } }
        var records: [AuditRecord] = []
        try store.read { try $0.forEachAuditEvent(AuditFilter(newestFirst: false), includePruned: true) { records.append($0) } }
        #expect(rows == records && rows.map(\.canonical)[2...4] == [nil, Array("event-3".utf8), Array("event-4".utf8)])
        leaves = []
        try store.read { try $0.forEachLeaf(from: 4, to: 4) { leaves.append(($0, Array($1))) } }
        try store.read { try $0.forEachLeaf(from: 6, to: 100) { leaves.append(($0, Array($1))) } }
        #expect(leaves.isEmpty)
        #expect(try store.read { try $0.auditLogSize() } == 6)
    }

    /// PostgreSQL reads the log 5,000 rows at a time; SQLite in one go. Both
    /// must give every row once, in order, and stop at a limit mid-page.
    @Test(arguments: Backend.allCases)
    func readsLongLogsAcrossPages(_ backend: Backend) throws {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        let count: Int64 = 6_250
        // Thousands of appends one by one take seconds on PostgreSQL: seed the rows in one statement.
        try backend.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < \(count - 1))
            INSERT INTO audit_events (seq, time_us, event, outcome, canonical, leaf_hash)
            SELECT i, CAST(i AS BIGINT) * 1000000, 'gateway.call', 'allowed', \(backend.literal([1])), \(backend.literal([0xAA])) FROM n
            """, at: subject.location)
        if backend == .postgresql {
            try backend.execute("UPDATE audit_log_head SET size = \(count)", at: subject.location)
        }
        #expect(try store.read { try $0.auditLogSize() } == count)
        #expect(try seqs(store, AuditFilter(newestFirst: false)) == Array(0..<count))
        #expect(try seqs(store, AuditFilter()) == Array((0..<count).reversed()))
        #expect(try seqs(store, AuditFilter(limit: 5_001, newestFirst: false)) == Array(0..<5_001))
        #expect(try seqs(store, AuditFilter(limit: 5_600)) == Array((count - 5_600..<count).reversed()))
        #expect(try seqs(store, AuditFilter(newestFirst: false, belowSeq: 6_000)).count == 6_000)
        var leaves: [Int64] = []
        try store.read { try $0.forEachLeaf(from: 10, to: count - 10) { seq, _ in leaves.append(seq) } }
        #expect(leaves == Array(10..<count - 10))
    }

    @Test(arguments: Backend.allCases)
    func checkpointsAndTheAuditSigningKey(_ backend: Backend) throws {
        let store = try StoreUnderTest(backend).store
        #expect(try store.read { try $0.latestCheckpoint() } == nil)
        #expect(try store.read { try $0.checkpoints() }.isEmpty)
        let checkpoints = [5, 1, 3].map {
            CheckpointRecord(
                treeSize: Int64($0), rootHash: [UInt8($0)], frontier: [UInt8($0), 1], note: "note \($0)\n",
                createdAt: Timestamp(seconds: Int64($0)))
        }
        try store.write { tx in for checkpoint in checkpoints { try tx.insertCheckpoint(checkpoint) } }
        #expect(try store.read { try $0.latestCheckpoint() } == checkpoints[0])
        #expect(try store.read { try $0.checkpoints() } == [checkpoints[1], checkpoints[2], checkpoints[0]])
        #expect(throws: StoreError.self) { try store.write { tx in try tx.insertCheckpoint(checkpoints[0]) } }

        #expect(try store.read { try $0.auditSigningKey() } == nil)
        try store.write { tx in try tx.insertAuditSigningKey(publicKey: [1], sealedPrivateKey: [2], createdAt: .now()) }
        #expect(throws: StoreError.self) {
            try store.write { tx in
                try tx.insertAuditSigningKey(publicKey: [3], sealedPrivateKey: [4], createdAt: .now())
            }
        }
        try store.write { tx in try tx.updateSealedAuditKey([5, 6]) }
        let key = try #require(try store.read { try $0.auditSigningKey() })
        #expect(key.publicKey == [1] && key.sealedPrivateKey == [5, 6])
    }
}

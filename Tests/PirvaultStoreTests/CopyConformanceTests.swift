import Foundation
import PirvaultTestSupport
import Testing

import PirvaultPostgres
@testable import PirvaultStore

/// `vault copy` moves rows between any two backends: what one store yields,
/// the other takes, and both then read back the same vault.
struct CopyConformanceTests {
    /// A store with a row in every copied table.
    func populated(_ backend: Backend) throws -> StoreUnderTest {
        let subject = try StoreUnderTest(backend)
        let store = subject.store
        let acme = try subject.insert(subject.instance("acme", customer: "ACME"))
        try subject.insert(subject.instance("Äpfel", customer: "Obst"))
        try store.write { tx in
            let credential = try tx.insertCredential(instanceID: acme, verifier: [1, 2], createdAt: "t") {
                [UInt8($0)]
            }
            try tx.expireCredential(id: credential, at: Timestamp(seconds: 50))
            try tx.insertOpaqueToken(
                OpaqueTokenRecord(
                    tokenHash: [7, 7], jti: "o", instanceID: acme, credentialID: credential, credentialGeneration: 1,
                    scope: ["s"], issuedAt: Timestamp(seconds: 1), expiresAt: Timestamp(seconds: 99)))
            try tx.revokeToken(
                jti: "r", instanceID: acme, at: Timestamp(seconds: 2), expiresAt: Timestamp(seconds: 98))
            let k1 = try tx.insertSigningKey(
                kid: "k1", algorithm: .edDSA, publicKey: [1], createdAt: Timestamp(seconds: 1),
                activatesAt: Timestamp(seconds: 1)) { [UInt8($0)] }
            try tx.retireSigningKey(id: k1, at: Timestamp(seconds: 3), publishedUntil: Timestamp(seconds: 9))
            try tx.insertSigningKey(
                kid: "k2", algorithm: .rs256, publicKey: [2], createdAt: Timestamp(seconds: 2),
                activatesAt: Timestamp(seconds: 3)) { [UInt8($0)] }
            try tx.insertAuditSigningKey(publicKey: [3], sealedPrivateKey: [4], createdAt: Timestamp(seconds: 1))
            for seq in Int64(0)..<3 { try tx.appendAudit(record(seq, customer: "ACME")) }
            _ = try tx.pruneAuditBodies(before: Timestamp(seconds: 1))
            try tx.insertCheckpoint(
                CheckpointRecord(
                    treeSize: 3, rootHash: [5], frontier: [6], note: "n\n", createdAt: Timestamp(seconds: 4)))
            try tx.replaceVaultKey(
                sealedVaultKey: [8], sealedVerifierKey: [9],
                link: VaultKeyLink(epoch: 2, sealedKey: [10], createdAt: .now()),
                forgetLinksBefore: Timestamp(seconds: 0))
        }
        return subject
    }

    func rows(_ store: any VaultStore, _ table: CopiedTable) throws -> [[StoreValue]] {
        var rows: [[StoreValue]] = []
        try store.read { try $0.forEachRow(of: table) { rows.append($0) } }
        return rows
    }

    @Test(arguments: Backend.allCases, Backend.allCases)
    func rowsCopyBetweenBackendsAndTheCopyGoesOn(_ from: Backend, _ to: Backend) throws {
        let source = try populated(from).store
        let target = try StoreUnderTest(to)
        try target.store.write { tx in
            for table in CopiedTable.allCases { try tx.insertRows(into: table, try rows(source, table)) }
        }
        let copied = target.store
        for table in CopiedTable.allCases {
            #expect(try rows(copied, table) == rows(source, table), "\(table)")
            #expect(try copied.read { try $0.rowCount(of: table) } == source.read { try $0.rowCount(of: table) }, "\(table)")
            #expect(try copied.read { try $0.rowCount(of: table) } > 0, "\(table)")
        }
        #expect(try target.names() == ["acme", "Äpfel"])
        #expect(try copied.read { try $0.instance(named: "acme") } == source.read { try $0.instance(named: "acme") })
        #expect(
            try copied.read { try $0.publishedSigningKeys(at: Timestamp(seconds: 5)) }
                == source.read { try $0.publishedSigningKeys(at: Timestamp(seconds: 5)) })
        #expect(try copied.read { try $0.isTokenRevoked(jti: "r") })

        // New rows follow the copied ones, as if those had been added one by one.
        let copiedIDs = try source.read { try $0.sealedDataKeys() }.map(\.instanceID)
        let next = try target.insert(target.instance("after", customer: "ACME"))
        #expect(next > copiedIDs.max() ?? 0)
        #expect(try copied.read { try $0.auditLogSize() } == 3)
        try copied.write { try $0.appendAudit(record(3)) }
        #expect(try copied.read { try $0.auditLogSize() } == 4)
    }
}

import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// When a checkpoint is added: after `everyEvents` new events, or when
/// `everySeconds` have passed since the last one and there are new events.
public struct CheckpointPolicy: Sendable {
    public var everyEvents: Int64
    public var everySeconds: Int64

    public init(everyEvents: Int64 = 1000, everySeconds: Int64 = 300) {
        self.everyEvents = everyEvents
        self.everySeconds = everySeconds
    }
}

extension Vault {
    /// The log's origin line and note key name.
    public var logOrigin: String { "pirvault/\(vaultID)" }

    // MARK: Audit signing key

    func insertAuditKey(_ key: Ed25519SigningKey, at now: Timestamp, in tx: any StoreWriter) throws {
        try tx.insertAuditSigningKey(
            publicKey: key.publicKey.rawRepresentation,
            sealedPrivateKey: vaultKey.seal(key.seed, associatedData: AD.auditKey(vaultID)), createdAt: now)
    }

    /// The checkpoint signer; created on first use in vaults older than the audit log.
    func noteSigner(in tx: any StoreWriter) throws -> NoteSigner {
        guard let stored = try tx.auditSigningKey() else {
            let key = Ed25519SigningKey.generate()
            try insertAuditKey(key, at: clock.now(), in: tx)
            return NoteSigner(name: logOrigin, key: key)
        }
        return try noteSigner(stored)
    }

    /// The checkpoint signer from its stored key; a key that does not open is tampering.
    func noteSigner(_ stored: (publicKey: [UInt8], sealedPrivateKey: [UInt8])) throws -> NoteSigner {
        guard let seed = try? vaultKey.open(stored.sealedPrivateKey, associatedData: AD.auditKey(vaultID)),
            let key = try? Ed25519SigningKey(seed: seed), key.publicKey.rawRepresentation == stored.publicKey
        else {
            throw VaultError.tampered("the audit signing key did not decrypt: the vault file was altered; restore it from a backup")
        }
        return NoteSigner(name: logOrigin, key: key)
    }

    /// `audit public-key`: the signed-note verifier key of the checkpoints.
    @available(*, noasync)
    public func auditVerifierKey() throws -> String {
        try write { try noteSigner(in: $0).verifier.verifierKey }
    }

    // MARK: Checkpoints

    /// Signs a checkpoint of the whole log as it is now (reusing one of that
    /// size). Extends the previous checkpoint's frontier with the leaf hashes
    /// after it.
    @discardableResult
    func writeCheckpoint(in tx: any StoreWriter) throws -> CheckpointRecord {
        let size = try tx.auditLogSize()
        let last = try tx.latestCheckpoint()
        if let last, last.treeSize == size { return last }
        var frontier = MerkleFrontier()
        if let last {
            guard let stored = MerkleFrontier(serialized: last.frontier), Int64(stored.size) == last.treeSize else {
                throw VaultError.tampered("the latest audit checkpoint is damaged; run 'pirvault audit verify'")
            }
            frontier = stored
        }
        var expected = Int64(frontier.size)
        try tx.forEachLeaf(from: expected, to: size) { seq, leaf in
            guard seq == expected else {
                throw VaultError.tampered("the audit log has no event at index \(expected); run 'pirvault audit verify'")
            }
            guard leaf.count == SHA256.length else {
                throw VaultError.tampered("the leaf hash of the event at index \(seq) is damaged; run 'pirvault audit verify'")
            }
            frontier.append(leaf)
            expected += 1
        }
        let checkpoint = Checkpoint(origin: logOrigin, size: frontier.size, rootHash: frontier.root)
        let record = CheckpointRecord(
            treeSize: size, rootHash: checkpoint.rootHash, frontier: frontier.serialized,
            note: try noteSigner(in: tx).sign(checkpoint), createdAt: clock.now())
        try tx.insertCheckpoint(record)
        return record
    }

    /// Adds a checkpoint when `checkpointPolicy` says one is due. The latest
    /// checkpoint is known from the transaction's start (and kept current by
    /// its own checkpoints), so this asks nothing more.
    func checkpointIfDue(in tx: any StoreWriter) throws {
        let size = try tx.auditLogSize()
        let start = try tx.start
        let covered = start.latestCheckpointSize
        guard size > covered else { return }
        let age = clock.now().seconds - start.latestCheckpointTime.seconds
        if size - covered >= checkpointPolicy.everyEvents || age >= checkpointPolicy.everySeconds {
            try writeCheckpoint(in: tx)
        }
    }

    // MARK: Retention

    /// Deletes the bodies of events before `time`; their leaf hashes stay, so
    /// every checkpoint and proof still verifies. The pruning is itself audited.
    @available(*, noasync)
    public func pruneAudit(before time: Timestamp) throws -> Int {
        try write { tx in
            try writeCheckpoint(in: tx)
            let pruned = try tx.pruneAuditBodies(before: time)
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .auditPrune, outcome: .allowed,
                    reason: "\(pruned) event bodies before \(time.rfc3339) deleted; leaf hashes kept"))
            return pruned
        }
    }
}

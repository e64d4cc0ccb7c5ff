import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

public enum AuditExportFormat: String, CaseIterable, Sendable {
    /// One `{"index", "event", "proof"}` line per event, then `{"checkpoint"}`.
    case jsonl
    /// For people and spreadsheets: a header row and one row per event.
    case csv
}

extension AuditFilter {
    /// The customer and client id a selection names, for the reason of the
    /// `audit.export` / `audit.report` event that records it.
    var auditNote: String {
        "\(customer.map { "; customer \($0)" } ?? "")\(clientID.map { "; client \($0)" } ?? "")"
    }
}

public struct AuditExportResult: Sendable {
    public let events: Int
    public let treeSize: Int64
}

extension Vault {
    /// Exports the events `filter` selects, oldest first. A new checkpoint
    /// covering the whole log is signed first; in JSONL each event carries its
    /// leaf index and an RFC 9162 inclusion proof against that checkpoint, the
    /// last line being the checkpoint. Rows stream through `write` in chunks;
    /// only the tree's hashes are held in memory.
    @available(*, noasync)
    public func exportAudit(
        _ filter: AuditFilter, format: AuditExportFormat, write: ([UInt8]) throws -> Void,
        progress: ((_ done: Int64, _ total: Int64) -> Void)? = nil
    ) throws -> AuditExportResult {
        let checkpoint = try self.write { tx -> CheckpointRecord in
            // The filter goes into the reason only, so the export event is not
            // itself part of a filtered selection.
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .auditExport, outcome: .allowed,
                    reason: "format \(format.rawValue)\(filter.auditNote)"))
            return try writeCheckpoint(in: tx)
        }
        var selection = filter
        selection.newestFirst = false
        selection.belowSeq = checkpoint.treeSize
        return try read { tx in
            switch format {
            case .csv:
                return try exportCSV(selection, checkpoint: checkpoint, write: write, progress: progress, in: tx)
            case .jsonl:
                return try exportJSONL(selection, checkpoint: checkpoint, write: write, progress: progress, in: tx)
            }
        }
    }

    private func exportJSONL(
        _ filter: AuditFilter, checkpoint: CheckpointRecord, write: ([UInt8]) throws -> Void,
        progress: ((Int64, Int64) -> Void)?, in tx: any StoreReader
    ) throws -> AuditExportResult {
        var leaves: [UInt8] = []
        leaves.reserveCapacity(Int(checkpoint.treeSize) * SHA256.length)
        var wellFormed = true
        try tx.forEachLeaf(from: 0, to: checkpoint.treeSize) { _, leaf in
            wellFormed = wellFormed && leaf.count == SHA256.length
            leaves.append(contentsOf: leaf)
        }
        let tree = wellFormed ? MerkleLevels(leafHashes: leaves) : nil
        leaves = []
        guard let tree, tree.size == checkpoint.treeSize, tree.root == checkpoint.rootHash else {
            throw VaultError.tampered("the stored audit log does not match its latest checkpoint; run 'pirvault audit verify'")
        }
        var proofs = InclusionProofText(tree: tree)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        var count = 0
        try tx.forEachAuditRow(filter, includePruned: false) { row in
            guard let canonical = row.canonical else { return }
            buffer += "{\"index\":".utf8
            buffer += String(row.seq).utf8
            buffer += ",\"event\":".utf8
            buffer.append(contentsOf: canonical)
            buffer += ",\"proof\":[".utf8
            proofs.append(index: Int(row.seq), to: &buffer)
            buffer += "]}\n".utf8
            count += 1
            try Self.flushIfFull(&buffer, write: write) { progress?(row.seq + 1, checkpoint.treeSize) }
        }
        buffer += JSONValue.object([("checkpoint", .string(checkpoint.note))]).compactString().utf8
        buffer.append(0x0A)
        try write(buffer)
        progress?(checkpoint.treeSize, checkpoint.treeSize)
        return AuditExportResult(events: count, treeSize: checkpoint.treeSize)
    }

    /// Hands the buffer to `write` once it holds 1 MiB (exports stream in
    /// such pieces, whatever their size) and then reports progress.
    private static func flushIfFull(_ buffer: inout [UInt8], write: ([UInt8]) throws -> Void, flushed: () -> Void) throws {
        guard buffer.count >= 1 << 20 else { return }
        try write(buffer)
        buffer.removeAll(keepingCapacity: true)
        flushed()
    }

    static let csvColumns = [
        "seq", "time", "event", "outcome", "reason", "customer", "instance", "clientid", "flow", "method", "status",
        "remote_addr", "request_id", "latency_us", "jti",
    ]

    private func exportCSV(
        _ filter: AuditFilter, checkpoint: CheckpointRecord, write: ([UInt8]) throws -> Void,
        progress: ((Int64, Int64) -> Void)?, in tx: any StoreReader
    ) throws -> AuditExportResult {
        var buffer = Array((Self.csvColumns.joined(separator: ",") + "\r\n").utf8)
        var count = 0
        try tx.forEachAuditEvent(filter) { record in
            let e = AuditEvent(record: record)
            let cells: [String?] = [
                String(record.seq), e.time.rfc3339, e.event.rawValue, e.outcome.rawValue, e.reason, e.customer, e.instance,
                e.clientID, e.flow, e.method, e.status.map(String.init), e.remoteAddress, e.requestID,
                e.latencyMicros.map(String.init), e.jti,
            ]
            buffer += cells.map { Self.csvCell($0 ?? "") }.joined(separator: ",").utf8
            buffer += "\r\n".utf8
            count += 1
            try Self.flushIfFull(&buffer, write: write) { progress?(record.seq + 1, checkpoint.treeSize) }
        }
        try write(buffer)
        return AuditExportResult(events: count, treeSize: checkpoint.treeSize)
    }

    /// RFC 4180 quoting; a cell that a spreadsheet would run as a formula
    /// (starting with = + - @ or a control character) gets a leading '.
    static func csvCell(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The JSON text of inclusion proofs from one tree, for leaves in increasing
/// order: each level's sibling is Base64-encoded once and reused for as long
/// as it stays the sibling (level k's changes every 2^k leaves), so a million
/// proofs of twenty hashes encode about two million hashes, not twenty million.
struct InclusionProofText {
    private let tree: MerkleLevels
    /// Per level: the index of the sibling encoded, and `"<base64>"`.
    private var encoded: [(index: Int, text: [UInt8])]

    init(tree: MerkleLevels) {
        self.tree = tree
        encoded = Array(repeating: (-1, []), count: max(tree.height - 1, 0))
    }

    /// Appends the proof of leaf `index` as JSON strings separated by commas.
    mutating func append(index: Int, to out: inout [UInt8]) {
        let tree = self.tree
        var i = index
        var first = true
        for level in encoded.indices {
            let sibling = i ^ 1
            i >>= 1
            guard sibling < tree.count(level: level) else { continue }
            if encoded[level].index != sibling {
                encoded[level].index = sibling
                encoded[level].text.removeAll(keepingCapacity: true)
                encoded[level].text.append(UInt8(ascii: "\""))
                tree.withNode(level: level, index: sibling) { PublicBase64.append($0, .standard, to: &encoded[level].text) }
                encoded[level].text.append(UInt8(ascii: "\""))
            }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: encoded[level].text)
        }
    }
}

import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// What `audit verify` found. `problem` names the first bad index or checkpoint.
public struct AuditVerificationReport: Sendable {
    public var events: Int64 = 0
    public var pruned: Int64 = 0
    public var checkpoints: Int = 0
    public var problem: String?

    public var isValid: Bool { problem == nil }
}

extension Vault {
    /// Recomputes the tree from the stored events and checks every stored
    /// checkpoint against it: each signature, each root, and so that each
    /// checkpoint extends the previous one. Each event is checked against its
    /// leaf hash and its columns against its signed content.
    @available(*, noasync)
    public func verifyAuditLog() throws -> AuditVerificationReport {
        try verifyAuditLog(rowsPerBatch: StoredLogCheck.rowsPerBatch)
    }

    /// `verifyAuditLog()` with the leaf checks in batches of `rowsPerBatch` rows.
    @available(*, noasync)
    func verifyAuditLog(rowsPerBatch: Int) throws -> AuditVerificationReport {
        try read { try verifyStoredLog(rowsPerBatch: rowsPerBatch, in: $0) }
    }

    private func verifyStoredLog(rowsPerBatch: Int, in tx: any StoreReader) throws -> AuditVerificationReport {
        var report = AuditVerificationReport()
        let size = try tx.auditLogSize()
        let checkpoints = try tx.checkpoints()
        report.checkpoints = checkpoints.count
        var signed: [(size: Int64, root: [UInt8])] = []
        if !checkpoints.isEmpty {
            guard let key = try tx.auditSigningKey(), let publicKey = try? Ed25519PublicKey(rawRepresentation: key.publicKey) else {
                report.problem = "checkpoints exist but the audit signing key is missing"
                return report
            }
            let verifier = NoteVerifier(name: logOrigin, publicKey: publicKey)
            for record in checkpoints {
                guard let checkpoint = verifier.verify(note: record.note), checkpoint.origin == logOrigin,
                    Int64(checkpoint.size) == record.treeSize, checkpoint.rootHash == record.rootHash
                else {
                    report.problem = "checkpoint at tree size \(record.treeSize) does not carry a valid signature of this vault (forged or altered)"
                    return report
                }
                signed.append((record.treeSize, checkpoint.rootHash))
            }
        }
        if let last = signed.last, last.size > size {
            report.problem = "events from index \(size) on are missing: a signed checkpoint covers \(last.size) events but the log holds \(size)"
            return report
        }
        var check = StoredLogCheck(signed: signed, rowsPerBatch: rowsPerBatch)
        do {
            try tx.forEachAuditRow(AuditFilter(newestFirst: false), includePruned: true) { try check.read($0) }
        } catch is StoredLogCheck.Stop {}
        let found = check.finish()
        report.events = found.events
        report.pruned = found.pruned
        report.problem = found.problem
        if report.problem == nil, found.events != size { report.problem = "the event at index \(found.events) is missing (deleted)" }
        if report.problem == nil, let unmatched = found.unmatchedCheckpoint {
            report.problem = "checkpoint at tree size \(unmatched) has no matching prefix of the log"
        }
        return report
    }
}

/// `audit verify`'s pass over the stored rows, in order. The reading thread
/// checks the indexes, each row's columns against its signed content and the
/// checkpoints' roots; the leaf hashes of the rows it has read are checked in
/// batches, on all cores, while it reads on. The problem reported is the
/// first by index (and for one index, in the order the checks are listed in
/// `Problem`), whichever thread found it first.
struct StoredLogCheck {
    static let rowsPerBatch = 4096

    /// Thrown by `read` to end the reading at the first problem it sees.
    struct Stop: Error {}

    enum Problem: Comparable {
        // Case order is the order of the checks on one index.
        case missing(Int64)
        case altered(Int64)
        case columns(Int64)
        case checkpoint(size: Int64)

        private var key: (index: Int64, rank: Int) {
            switch self {
            case .missing(let index): (index, 0)
            case .altered(let index): (index, 1)
            case .columns(let index): (index, 2)
            case .checkpoint(let size): (size - 1, 3)
            }
        }

        static func < (a: Problem, b: Problem) -> Bool { a.key < b.key }

        var message: String {
            switch self {
            case .missing(let index): "the event at index \(index) is missing (deleted)"
            case .altered(let index): "the event at index \(index) was altered: its content does not match its leaf hash"
            case .columns(let index):
                "the event at index \(index) was altered or moved: its columns differ from its signed content"
            case .checkpoint(let size):
                "checkpoint at tree size \(size) does not match the stored events: events before index \(size) were replaced or reordered"
            }
        }
    }

    /// What was found: the problem, if any, and the events and pruned events
    /// before it (all of them when there is none).
    struct Found {
        var problem: String?
        var events: Int64
        var pruned: Int64
        /// The size of a signed checkpoint the log never reached.
        var unmatchedCheckpoint: Int64?
    }

    private let signed: [(size: Int64, root: [UInt8])]
    private let rowsPerBatch: Int
    private var frontier = MerkleFrontier()
    private var nextCheckpoint = 0
    private var expected: Int64 = 0
    private var pruned: Int64 = 0
    private var readProblem: (problem: Problem, events: Int64, pruned: Int64)?
    private var filling = LeafBatch()
    /// The batch the cores are hashing while `filling` is read into.
    private var checking: Parallel.BackgroundWork<LeafBatch>?
    /// A checked batch with a mismatch, which ended the reading.
    private var mismatched: LeafBatch?
    private var canonical: [UInt8] = []

    init(signed: [(size: Int64, root: [UInt8])], rowsPerBatch: Int) {
        self.signed = signed
        self.rowsPerBatch = rowsPerBatch
    }

    mutating func read(_ row: AuditRowCells) throws {
        guard row.seq == expected else { throw stop(.missing(expected)) }
        guard row.leafHash.count == SHA256.length else { throw stop(.altered(row.seq)) }
        if let content = row.canonical {
            filling.append(seq: row.seq, content: content, leafHash: row.leafHash)
            canonical.removeAll(keepingCapacity: true)
            AuditEvent.writeCanonical(of: row, into: &canonical)
            guard canonical.elementsEqual(content) else { throw stop(.columns(row.seq)) }
        } else {
            pruned += 1
        }
        frontier.append(row.leafHash)
        expected += 1
        while nextCheckpoint < signed.count, signed[nextCheckpoint].size == Int64(frontier.size) {
            guard frontier.root == signed[nextCheckpoint].root else { throw stop(.checkpoint(size: expected)) }
            nextCheckpoint += 1
        }
        if filling.count == rowsPerBatch { try handOver() }
    }

    private mutating func stop(_ problem: Problem) -> Stop {
        readProblem = (problem, expected, pruned)
        return Stop()
    }

    /// Waits for the batch being checked, then hands over the full one and
    /// reads on into the other (the checked one, emptied, so that its
    /// buffers are reused).
    private mutating func handOver() throws {
        var next = LeafBatch()
        if let checked = checking.take()?.wait() {
            if checked.firstMismatch != nil {
                mismatched = checked
                throw Stop()
            }
            next = checked
        }
        next.reset(startSeq: expected, prunedAtStart: pruned)
        swap(&next, &filling)
        checking = Parallel.BackgroundWork(on: next) { $0.check() }
    }

    /// Checks what was read but not yet checked and gives the first problem.
    mutating func finish() -> Found {
        var problems: [(problem: Problem, events: Int64, pruned: Int64)] = readProblem.map { [$0] } ?? []
        // A mismatch in the batch checked last comes before anything read since.
        var batch = mismatched ?? checking.take()?.wait() ?? LeafBatch()
        if batch.firstMismatch == nil {
            filling.check()
            batch = filling
        }
        if let position = batch.firstMismatch {
            let seq = batch.seqs[position]
            problems.append((.altered(seq), seq, batch.prunedAtStart + (seq - batch.startSeq) - Int64(position)))
        }
        guard let first = problems.min(by: { $0.problem < $1.problem }) else {
            return Found(
                events: expected, pruned: pruned,
                unmatchedCheckpoint: nextCheckpoint < signed.count ? signed[nextCheckpoint].size : nil)
        }
        return Found(problem: first.problem.message, events: first.events, pruned: first.pruned)
    }
}

/// Rows whose leaf hashes are still to be checked: their canonical bytes back
/// to back and their stored 32-byte leaf hashes. The reader fills one batch
/// while the cores check another (`Parallel.BackgroundWork` moves it across).
struct LeafBatch: Sendable {
    private(set) var startSeq: Int64 = 0
    /// Pruned events before `startSeq`.
    private(set) var prunedAtStart: Int64 = 0
    private(set) var seqs: [Int64] = []
    private var content: [UInt8] = []
    private var ends: [Int] = []
    private var leafHashes: [UInt8] = []
    /// After `check()`: the position of the first row whose content does not
    /// hash to its leaf hash.
    private(set) var firstMismatch: Int?

    var count: Int { seqs.count }

    mutating func reset(startSeq: Int64, prunedAtStart: Int64) {
        self.startSeq = startSeq
        self.prunedAtStart = prunedAtStart
        seqs.removeAll(keepingCapacity: true)
        content.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        leafHashes.removeAll(keepingCapacity: true)
        firstMismatch = nil
    }

    /// Adds a row; `leafHash` is 32 bytes.
    mutating func append(seq: Int64, content row: UnsafeRawBufferPointer, leafHash: UnsafeRawBufferPointer) {
        seqs.append(seq)
        content.append(contentsOf: row)
        ends.append(content.count)
        leafHashes.append(contentsOf: leafHash)
    }

    /// Finds the first row whose content does not hash to its leaf hash,
    /// hashing `chunks` parts of the batch at once.
    mutating func check(chunks: Int = Parallel.cores) {
        firstMismatch = content.withUnsafeBytes { content in
            leafHashes.withUnsafeBytes { hashes in
                ends.withUnsafeBufferPointer { ends in
                    Parallel.firstIndex(in: ends.count, chunks: chunks) { i in
                        let row = UnsafeRawBufferPointer(rebasing: content[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
                        return withUnsafeTemporaryAllocation(byteCount: SHA256.length, alignment: 8) { digest in
                            Merkle.leafHash(row, into: digest.baseAddress!)
                            return memcmp(digest.baseAddress!, hashes.baseAddress! + i * SHA256.length, SHA256.length) != 0
                        }
                    }
                }
            }
        }
    }
}

/// What `audit verify --export` found.
public struct ExportVerificationReport: Sendable {
    public var events = 0
    public var treeSize = 0
    public var problem: String?

    init(problem: String? = nil) { self.problem = problem }

    public var isValid: Bool { problem == nil }
}

/// Verifies an exported JSONL file offline, with nothing but the log's
/// verifier key: the checkpoint's signature, that every event's JSON is
/// canonical, and every inclusion proof against the checkpoint.
public struct ExportVerifier {
    let verifier: NoteVerifier

    private static let emptyExport = "the export is empty: its last line must be the checkpoint"

    public init(verifierKey: String) throws {
        guard let verifier = NoteVerifier(verifierKey: verifierKey) else {
            throw VaultError.invalidInput("the public key is not a signed-note verifier key (name+hash+base64); get it with 'pirvault audit public-key'")
        }
        self.verifier = verifier
    }

    /// Verifies the export in `lines` (without line terminators); the last
    /// non-empty line is the checkpoint.
    public func verify(lines: [ArraySlice<UInt8>]) -> ExportVerificationReport {
        var body = lines
        while let last = body.last, last.isEmpty { body.removeLast() }
        guard let checkpointLine = body.popLast() else { return ExportVerificationReport(problem: Self.emptyExport) }
        return verify(checkpointLine: checkpointLine) { each in
            for line in body { guard each(line) else { return } }
        }
    }

    /// Verifies an export file, streaming it in chunks: memory stays constant
    /// however large the export is.
    public func verify(path: String) throws -> ExportVerificationReport {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw VaultError.invalidInput("cannot read export file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw VaultError.invalidInput("cannot read export file \(path)") }
        // The checkpoint is the last line: read it from the end first.
        let tailLength = min(Int(info.st_size), 1 << 16)
        var tail = [UInt8](repeating: 0, count: tailLength)
        guard pread(fd, &tail, tailLength, off_t(Int(info.st_size) - tailLength)) == tailLength else {
            throw VaultError.invalidInput("cannot read export file \(path)")
        }
        while tail.last == 0x0A { tail.removeLast() }
        if tail.isEmpty, tailLength == Int(info.st_size) { return ExportVerificationReport(problem: Self.emptyExport) }
        let checkpointStart = (tail.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        guard checkpointStart > 0 || tailLength == Int(info.st_size) else {
            return ExportVerificationReport(problem: "the last line is not {\"checkpoint\": \"…\"}")
        }
        let bodyLength = Int(info.st_size) - tailLength + checkpointStart
        return verify(checkpointLine: tail[checkpointStart...]) { each in
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var consumed = 0
            while consumed < bodyLength {
                let n = read(fd, &chunk, min(chunk.count, bodyLength - consumed))
                guard n > 0 else { return }
                consumed += n
                buffer += chunk[0..<n]
                var lineStart = 0
                while let newline = buffer[lineStart...].firstIndex(of: 0x0A) {
                    guard each(buffer[lineStart..<newline]) else { return }
                    lineStart = newline + 1
                }
                buffer.removeFirst(lineStart)
            }
            if !buffer.isEmpty { _ = each(buffer[...]) }
        }
    }

    /// Checks the checkpoint, then each event line that `lines` feeds to its
    /// callback (which returns false to stop at the first problem).
    private func verify(
        checkpointLine: ArraySlice<UInt8>, lines: ((ArraySlice<UInt8>) -> Bool) -> Void
    ) -> ExportVerificationReport {
        var report = ExportVerificationReport()
        guard let parsed = try? JSONValue.parse(Array(checkpointLine)), let note = parsed["checkpoint"]?.stringValue,
            case .object(let members) = parsed, members.count == 1
        else {
            report.problem = "the last line is not {\"checkpoint\": \"…\"}"
            return report
        }
        guard let checkpoint = verifier.verify(note: note) else {
            report.problem = "the checkpoint's signature does not verify with this public key (forged, altered, or another vault's)"
            return report
        }
        report.treeSize = checkpoint.size
        var proofs = ProofChecker(size: checkpoint.size, root: checkpoint.rootHash)
        var previousIndex = -1
        var lineNumber = 0
        lines { line in
            lineNumber += 1
            guard let entry = ExportLine(line) else {
                report.problem = "line \(lineNumber) is not {\"index\":n,\"event\":{…},\"proof\":[…]} in canonical form"
                return false
            }
            guard entry.index > previousIndex, entry.index < checkpoint.size else {
                report.problem = "line \(lineNumber): index \(entry.index) is out of order or outside the checkpoint's \(checkpoint.size) events"
                return false
            }
            previousIndex = entry.index
            guard CanonicalJSON.isCanonical(entry.event) else {
                report.problem = "line \(lineNumber) (index \(entry.index)): the event is not canonical JSON (RFC 8785)"
                return false
            }
            guard CanonicalJSON.integerMember("seq", in: entry.event) == Int64(entry.index) else {
                report.problem = "line \(lineNumber) (index \(entry.index)): the event's seq does not match its index"
                return false
            }
            guard proofs.verify(leaf: Merkle.leafHash(Array(entry.event)), index: entry.index, proof: entry.proof) else {
                report.problem = "line \(lineNumber) (index \(entry.index)): the inclusion proof does not lead to the checkpoint's root (altered event or proof)"
                return false
            }
            report.events += 1
            return true
        }
        return report
    }
}

/// One JSONL line split without building a JSON tree: exactly
/// `{"index":N,"event":{…},"proof":["…",…]}` with no spaces.
struct ExportLine {
    let index: Int
    let event: ArraySlice<UInt8>
    let proof: [ArraySlice<UInt8>]

    init?(_ line: ArraySlice<UInt8>) {
        var i = line.startIndex
        func expect(_ literal: String) -> Bool {
            for byte in literal.utf8 {
                guard i < line.endIndex, line[i] == byte else { return false }
                i += 1
            }
            return true
        }
        guard expect("{\"index\":") else { return nil }
        let digitsStart = i
        while i < line.endIndex, line[i] >= 0x30, line[i] <= 0x39 { i += 1 }
        guard i > digitsStart, i - digitsStart <= 18, line[digitsStart] != 0x30 || i - digitsStart == 1 else { return nil }
        let index = line[digitsStart..<i].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard expect(",\"event\":"), i < line.endIndex, line[i] == UInt8(ascii: "{") else { return nil }
        // Find the end of the event object: count braces outside strings.
        let eventStart = i
        var depth = 0
        var inString = false
        while i < line.endIndex {
            let byte = line[i]
            if inString {
                if byte == UInt8(ascii: "\\") { i += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { break }
            }
            i += 1
        }
        guard i < line.endIndex else { return nil }
        i += 1
        let event = line[eventStart..<i]
        guard expect(",\"proof\":[") else { return nil }
        var proof: [ArraySlice<UInt8>] = []
        while i < line.endIndex, line[i] == UInt8(ascii: "\"") {
            i += 1
            let start = i
            while i < line.endIndex, line[i] != UInt8(ascii: "\"") { i += 1 }
            guard i < line.endIndex else { return nil }
            proof.append(line[start..<i])
            i += 1
            if i < line.endIndex, line[i] == UInt8(ascii: ",") {
                i += 1
                guard i < line.endIndex, line[i] == UInt8(ascii: "\"") else { return nil }
            }
        }
        guard expect("]}"), i == line.endIndex else { return nil }
        self.index = index
        self.event = event
        self.proof = proof
    }
}

/// RFC 9162 inclusion checks for many leaves of one tree, in the tree's
/// level layout. Consecutive proofs share their upper path: once a node
/// equals the previous (verified) proof's node at the same position and the
/// rest of the proof text is the same, the rest is already verified.
struct ProofChecker {
    let counts: [Int]
    let root: Merkle.Hash
    private var previousNodes: [(index: Int, hash: Merkle.Hash)] = []
    private var previousProof: [ArraySlice<UInt8>] = []

    init(size: Int, root: Merkle.Hash) {
        var counts = [size]
        while let last = counts.last, last > 1 { counts.append((last + 1) / 2) }
        self.counts = counts
        self.root = root
    }

    mutating func verify(leaf: Merkle.Hash, index: Int, proof: [ArraySlice<UInt8>]) -> Bool {
        guard index >= 0, index < counts[0] else { return false }
        var nodes: [(index: Int, hash: Merkle.Hash)] = []
        var r = leaf
        var i = index
        var used = 0
        for level in 0..<(counts.count - 1) {
            nodes.append((i, r))
            if level < previousNodes.count, previousNodes[level].index == i, previousNodes[level].hash == r {
                let remaining = proof.count - used
                if remaining == siblingsAbove(level: level, index: i), remaining <= previousProof.count,
                    proof[used...].elementsEqual(previousProof.suffix(remaining))
                {
                    previousNodes = nodes + previousNodes[(level + 1)...]
                    previousProof = proof
                    return true
                }
            }
            if i ^ 1 < counts[level] {
                guard used < proof.count, let sibling = PublicBase64.decode(proof[used], .standard), sibling.count == 32 else {
                    return false
                }
                used += 1
                r = i & 1 == 1 ? Merkle.nodeHash(sibling, r) : Merkle.nodeHash(r, sibling)
            }
            i >>= 1
        }
        guard used == proof.count, r == root else { return false }
        previousNodes = nodes
        previousProof = proof
        return true
    }

    /// How many proof hashes a path has from (`level`, `index`) up to the root.
    private func siblingsAbove(level: Int, index: Int) -> Int {
        var count = 0
        var i = index
        for l in level..<(counts.count - 1) {
            if i ^ 1 < counts[l] { count += 1 }
            i >>= 1
        }
        return count
    }
}

import PirvaultCrypto

/// RFC 9162 §2.1 Merkle tree hashing with SHA-256:
/// leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right).
public enum Merkle {
    public typealias Hash = [UInt8]

    public static let emptyRoot: Hash = SHA256.hash([])

    public static func leafHash(_ data: [UInt8]) -> Hash {
        hash { out in data.withUnsafeBytes { leafHash($0, into: out) } }
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        hash { out in
            left.withUnsafeBytes { l in right.withUnsafeBytes { r in nodeHash(l, r, into: out) } }
        }
    }

    /// Writes the leaf hash of `data` to `out` (32 bytes); allocates nothing.
    public static func leafHash(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0x00)) { hasher.update($0) }
        hasher.update(data)
        hasher.finalize(into: out)
    }

    /// Writes the node hash of `left` and `right` to `out` (32 bytes, which
    /// may be where `left` is); allocates nothing.
    public static func nodeHash(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0x01)) { hasher.update($0) }
        hasher.update(left)
        hasher.update(right)
        hasher.finalize(into: out)
    }

    private static func hash(_ body: (UnsafeMutableRawPointer) -> Void) -> Hash {
        [UInt8](unsafeUninitializedCapacity: SHA256.length) { out, initialized in
            body(UnsafeMutableRawPointer(out.baseAddress!))
            initialized = SHA256.length
        }
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2) of the leaf at `index`
    /// in a tree of `size` leaves with root `root`.
    public static func verifyInclusion(leaf: Hash, index: Int, size: Int, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && constantTimeEquals(r, root)
    }
}

/// The right edge of a tree: the roots of its perfect subtrees, largest
/// first (one per set bit of the size). Appending is O(log n), the root is
/// O(log n), and it is all a checkpoint needs to carry forward.
public struct MerkleFrontier: Sendable, Equatable {
    public private(set) var size: Int = 0
    /// The node hashes from left to right, 32 bytes each, back to back; the
    /// heights follow from the size (one node per set bit, largest first).
    private var hashes: [UInt8] = []

    public init() {}

    public mutating func append(_ leaf: Merkle.Hash) {
        leaf.withUnsafeBytes { append($0) }
    }

    /// Appends a leaf hash (32 bytes); allocates nothing once the frontier
    /// has held its largest number of nodes.
    public mutating func append(_ leaf: UnsafeRawBufferPointer) {
        precondition(leaf.count == SHA256.length, "a leaf hash is 32 bytes")
        hashes.append(contentsOf: leaf)
        // Each trailing 1 bit of the old size is a node of the new leaf's
        // height and below: merge them pairwise from the right.
        var merges = (~size).trailingZeroBitCount
        size += 1
        hashes.withUnsafeMutableBytes { all in
            var end = all.count
            while merges > 0 {
                let left = UnsafeMutableRawBufferPointer(rebasing: all[(end - 64)..<(end - 32)])
                let right = UnsafeRawBufferPointer(rebasing: all[(end - 32)..<end])
                Merkle.nodeHash(UnsafeRawBufferPointer(left), right, into: left.baseAddress!)
                end -= 32
                merges -= 1
            }
        }
        hashes.removeLast(hashes.count - 32 * size.nonzeroBitCount)
    }

    public var root: Merkle.Hash {
        guard hashes.count >= 32 else { return Merkle.emptyRoot }
        var accumulator = Array(hashes.suffix(32))
        var end = hashes.count - 32
        while end > 0 {
            accumulator = Merkle.nodeHash(Array(hashes[(end - 32)..<end]), accumulator)
            end -= 32
        }
        return accumulator
    }

    /// size (8 bytes, big-endian) ‖ the node hashes; heights follow from the size.
    public var serialized: [UInt8] {
        withUnsafeBytes(of: UInt64(size).bigEndian, Array.init) + hashes
    }

    public init?(serialized bytes: [UInt8]) {
        guard bytes.count >= 8, (bytes.count - 8) % 32 == 0 else { return nil }
        let size = Int(bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        guard size.nonzeroBitCount == (bytes.count - 8) / 32 else { return nil }
        self.size = size
        hashes = Array(bytes[8...])
    }
}

/// A whole tree held level by level, for producing many inclusion proofs.
/// Level 0 is the leaves; each level pairs neighbours and carries an odd last
/// node up unchanged, which gives exactly RFC 9162's tree (its left subtree
/// is always the largest power of two). Each level is one array of 32-byte
/// hashes back to back (a million leaves take 64 MB in all), and a level's
/// pairs are hashed on all cores.
public struct MerkleLevels: Sendable {
    private let levels: [[UInt8]]

    public init(leaves: [Merkle.Hash]) {
        self.init(leafHashes: leaves.flatMap { $0 })
    }

    /// `leafHashes`: the leaf hashes, 32 bytes each, back to back.
    public init(leafHashes: [UInt8]) {
        precondition(leafHashes.count % 32 == 0, "leaf hashes are 32 bytes each")
        var levels = [leafHashes]
        while let last = levels.last, last.count > 32 { levels.append(Self.parents(of: last)) }
        self.levels = levels
    }

    private static func parents(of level: [UInt8]) -> [UInt8] {
        let count = level.count / 32
        let pairs = count / 2
        let parentCount = (count + 1) / 2
        return [UInt8](unsafeUninitializedCapacity: parentCount * 32) { out, initialized in
            let parents = UnsafeMutableRawBufferPointer(out)
            level.withUnsafeBytes { children in
                Parallel.forEachChunk(of: pairs, minimumChunk: 1 << 12) { chunk in
                    for p in chunk {
                        Merkle.nodeHash(
                            UnsafeRawBufferPointer(rebasing: children[(p * 64)..<(p * 64 + 32)]),
                            UnsafeRawBufferPointer(rebasing: children[(p * 64 + 32)..<(p * 64 + 64)]),
                            into: parents.baseAddress! + p * 32)
                    }
                }
                if count % 2 == 1 {
                    parents.baseAddress!.advanced(by: pairs * 32)
                        .copyMemory(from: children.baseAddress! + (count - 1) * 32, byteCount: 32)
                }
            }
            initialized = parentCount * 32
        }
    }

    public var size: Int { levels[0].count / 32 }
    public var root: Merkle.Hash { size == 0 ? Merkle.emptyRoot : levels.last! }

    /// The number of nodes on `level` (0: the leaves).
    func count(level: Int) -> Int { levels[level].count / 32 }

    /// The number of levels, the root's included.
    var height: Int { levels.count }

    /// Calls `body` with the hash of node `index` on `level`.
    func withNode<T>(level: Int, index: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        levels[level].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[(index * 32)..<(index * 32 + 32)])) }
    }

    /// The RFC 9162 audit path of leaf `index`, bottom up.
    public func inclusionProof(index: Int) -> [Merkle.Hash] {
        var proof: [Merkle.Hash] = []
        var i = index
        for level in 0..<(height - 1) {
            let sibling = i ^ 1
            if sibling < count(level: level) { proof.append(withNode(level: level, index: sibling, Array.init)) }
            i >>= 1
        }
        return proof
    }
}

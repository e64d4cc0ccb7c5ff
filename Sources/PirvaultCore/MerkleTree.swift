import PirvaultCrypto

/// RFC 9162 §2.1 Merkle tree hashing with SHA-256:
/// leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right).
public enum Merkle {
    public typealias Hash = [UInt8]

    public static let emptyRoot: Hash = SHA256.hash([])

    public static func leafHash(_ data: [UInt8]) -> Hash {
        var hasher = SHA256()
        hasher.update([0x00])
        hasher.update(data)
        return hasher.finalize()
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update([0x01])
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize()
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
    /// (height, hash) from left to right.
    private var nodes: [(height: Int, hash: Merkle.Hash)] = []

    public init() {}

    public static func == (a: MerkleFrontier, b: MerkleFrontier) -> Bool {
        a.size == b.size && a.nodes.map(\.hash) == b.nodes.map(\.hash)
    }

    public mutating func append(_ leaf: Merkle.Hash) {
        var node = (height: 0, hash: leaf)
        while let last = nodes.last, last.height == node.height {
            nodes.removeLast()
            node = (node.height + 1, Merkle.nodeHash(last.hash, node.hash))
        }
        nodes.append(node)
        size += 1
    }

    public var root: Merkle.Hash {
        guard var accumulator = nodes.last?.hash else { return Merkle.emptyRoot }
        for node in nodes.dropLast().reversed() { accumulator = Merkle.nodeHash(node.hash, accumulator) }
        return accumulator
    }

    /// size (8 bytes, big-endian) ‖ the node hashes; heights follow from the size.
    public var serialized: [UInt8] {
        withUnsafeBytes(of: UInt64(size).bigEndian, Array.init) + nodes.flatMap(\.hash)
    }

    public init?(serialized bytes: [UInt8]) {
        guard bytes.count >= 8, (bytes.count - 8) % 32 == 0 else { return nil }
        let size = Int(bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let heights = (0..<64).reversed().filter { size >> $0 & 1 == 1 }
        guard heights.count == (bytes.count - 8) / 32 else { return nil }
        self.size = size
        nodes = heights.enumerated().map { i, height in (height, Array(bytes[(8 + i * 32)..<(8 + i * 32 + 32)])) }
    }
}

/// A whole tree held level by level, for producing many inclusion proofs.
/// Level 0 is the leaves; each level pairs neighbours and carries an odd last
/// node up unchanged, which gives exactly RFC 9162's tree (its left subtree
/// is always the largest power of two).
public struct MerkleLevels: Sendable {
    public let levels: [[Merkle.Hash]]

    public init(leaves: [Merkle.Hash]) {
        var levels = [leaves]
        while let last = levels.last, last.count > 1 {
            var next: [Merkle.Hash] = []
            next.reserveCapacity((last.count + 1) / 2)
            var i = 0
            while i + 1 < last.count {
                next.append(Merkle.nodeHash(last[i], last[i + 1]))
                i += 2
            }
            if i < last.count { next.append(last[i]) }
            levels.append(next)
        }
        self.levels = levels
    }

    public var size: Int { levels[0].count }
    public var root: Merkle.Hash { size == 0 ? Merkle.emptyRoot : levels.last![0] }

    /// The RFC 9162 audit path of leaf `index`, bottom up.
    public func inclusionProof(index: Int) -> [Merkle.Hash] {
        var proof: [Merkle.Hash] = []
        var i = index
        for level in levels.dropLast() {
            let sibling = i ^ 1
            if sibling < level.count { proof.append(level[sibling]) }
            i >>= 1
        }
        return proof
    }

    /// Positions (level, index) of the audit path, for callers that cache encodings.
    public func inclusionPath(index: Int) -> [(level: Int, index: Int)] {
        var path: [(Int, Int)] = []
        var i = index
        for (depth, level) in levels.dropLast().enumerated() {
            let sibling = i ^ 1
            if sibling < level.count { path.append((depth, sibling)) }
            i >>= 1
        }
        return path
    }
}

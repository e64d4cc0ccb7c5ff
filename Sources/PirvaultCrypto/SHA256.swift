internal import CSodium

/// SHA-256 (libsodium `crypto_hash_sha256`).
public struct SHA256: Sendable {
    public static let length = Int(crypto_hash_sha256_BYTES)
    private var state = crypto_hash_sha256_state()

    public init() {
        ensureSodium()
        crypto_hash_sha256_init(&state)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        crypto_hash_sha256_update(&state, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.length) { out, initialized in
            finalize(into: UnsafeMutableRawPointer(out.baseAddress!))
            initialized = Self.length
        }
    }

    /// Writes the 32-byte digest to `out`, allocating nothing (for hashing
    /// many small inputs, such as a Merkle tree's leaves and nodes).
    public mutating func finalize(into out: UnsafeMutableRawPointer) {
        crypto_hash_sha256_final(&state, out.assumingMemoryBound(to: UInt8.self))
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

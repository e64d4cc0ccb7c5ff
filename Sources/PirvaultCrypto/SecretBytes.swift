internal import CSodium

/// Key material or a plaintext secret, held in memory that is wiped with
/// `sodium_memzero` when the last reference goes away.
///
/// The buffer is written only while the value is being built, so sharing it
/// across threads is safe.
public final class SecretBytes: @unchecked Sendable {
    private let buffer: UnsafeMutableRawBufferPointer

    /// Allocates `count` bytes and lets `initializer` fill them.
    public init(count: Int, initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        ensureSodium()
        buffer = .allocate(byteCount: max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
        // If this throws, every stored property is set, so deinit still runs
        // and wipes and frees the buffer.
        try initializer(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// Copies `bytes` into wiped-on-free memory. The caller should wipe its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { target in
            _ = target.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// `count` bytes from libsodium's CSPRNG.
    public static func random(count: Int) -> SecretBytes {
        SecretBytes(count: count) { target in
            if let base = target.baseAddress { randombytes_buf(base, target.count) }
        }
    }

    public let count: Int

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// Constant-time comparison (`sodium_memcmp`); different lengths compare unequal.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { mine in
            other.withUnsafeBytes { theirs in
                sodium_memcmp(mine.baseAddress, theirs.baseAddress, count) == 0
            }
        }
    }

    /// A copy as a plain array, for the few places that must hand a secret on
    /// (printing a service key). Prefer keeping it in `SecretBytes`.
    public func copyBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    deinit {
        sodium_memzero(buffer.baseAddress, buffer.count)
        buffer.deallocate()
    }
}

/// Constant-time equality of two byte strings of public length.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    ensureSodium()
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return sodium_memcmp(a, b, a.count) == 0
}

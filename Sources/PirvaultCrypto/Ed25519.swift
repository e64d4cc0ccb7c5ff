internal import CSodium

/// An Ed25519 signing key (libsodium `crypto_sign`). Stored as its 32-byte seed.
public struct Ed25519SigningKey: Sendable {
    public static let seedLength = Int(crypto_sign_SEEDBYTES)
    public static let signatureLength = Int(crypto_sign_BYTES)

    /// libsodium's 64-byte secret key (seed ‖ public key).
    private let secretKey: SecretBytes
    public let publicKey: Ed25519PublicKey

    public init(seed: SecretBytes) throws {
        ensureSodium()
        guard seed.count == Self.seedLength else {
            throw CryptoError.invalidLength(what: "Ed25519 seed", expected: Self.seedLength, actual: seed.count)
        }
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        secretKey = SecretBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { sk in
            seed.withUnsafeBytes { s in
                _ = crypto_sign_seed_keypair(
                    &pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        publicKey = Ed25519PublicKey(unchecked: pk)
    }

    public static func generate() -> Ed25519SigningKey {
        try! Ed25519SigningKey(seed: .random(count: seedLength))
    }

    /// The 32-byte seed, for sealing into the vault.
    public var seed: SecretBytes {
        secretKey.withUnsafeBytes { SecretBytes(copying: $0[0..<Self.seedLength]) }
    }

    public func signature(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Self.signatureLength)
        secretKey.withUnsafeBytes { sk in
            _ = crypto_sign_detached(
                &signature, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return signature
    }

    public func signature(for message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { signature(for: $0) }
    }
}

/// An Ed25519 public key.
public struct Ed25519PublicKey: Sendable, Hashable {
    public static let length = Int(crypto_sign_PUBLICKEYBYTES)
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == Self.length else {
            throw CryptoError.invalidLength(what: "Ed25519 public key", expected: Self.length, actual: rawRepresentation.count)
        }
        self.rawRepresentation = rawRepresentation
    }

    init(unchecked raw: [UInt8]) { rawRepresentation = raw }

    /// Verifies a detached signature. Wrong-length signatures are simply invalid.
    public func isValidSignature(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
        ensureSodium()
        guard signature.count == Ed25519SigningKey.signatureLength else { return false }
        return crypto_sign_verify_detached(
            signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
            rawRepresentation) == 0
    }

    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, for: $0) }
    }
}

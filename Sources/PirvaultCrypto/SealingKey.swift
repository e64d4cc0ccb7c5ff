internal import CSodium

/// A 32-byte XChaCha20-Poly1305 key that seals values with associated data.
///
/// Sealed format: `nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
/// Nonces are random: XChaCha20's 192-bit nonce makes a collision negligible
/// even for billions of messages under one key, so no counter has to be kept
/// (and none can be rolled back by restoring an old vault file).
public struct SealingKey: Sendable {
    public static let keyLength = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    static let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    static let tagLength = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)

    /// The raw key, for wrapping this key under another one.
    public let keyBytes: SecretBytes

    public init(_ keyBytes: SecretBytes) throws {
        guard keyBytes.count == Self.keyLength else {
            throw CryptoError.invalidLength(what: "sealing key", expected: Self.keyLength, actual: keyBytes.count)
        }
        self.keyBytes = keyBytes
    }

    /// A fresh random key.
    public static func generate() -> SealingKey {
        try! SealingKey(.random(count: keyLength))
    }

    /// Encrypts `plaintext` and binds it to `associatedData` (for example the
    /// table, row and column it is stored in), so a ciphertext moved elsewhere
    /// fails to open.
    public func seal(_ plaintext: UnsafeRawBufferPointer, associatedData: String) -> [UInt8] {
        seal(plaintext, associatedBytes: Array(associatedData.utf8), nonce: SecureRandom.bytes(Self.nonceLength))
    }

    func seal(_ plaintext: UnsafeRawBufferPointer, associatedBytes ad: [UInt8], nonce: [UInt8]) -> [UInt8] {
        ensureSodium()
        precondition(nonce.count == Self.nonceLength)
        var sealed = [UInt8](repeating: 0, count: Self.nonceLength + plaintext.count + Self.tagLength)
        sealed.withUnsafeMutableBufferPointer { out in
            for i in 0..<Self.nonceLength { out[i] = nonce[i] }
            var written: UInt64 = 0
            let rc = keyBytes.withUnsafeBytes { key in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    out.baseAddress! + Self.nonceLength, &written,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    ad, UInt64(ad.count), nil, nonce,
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            precondition(rc == 0 && Int(written) == plaintext.count + Self.tagLength)
        }
        return sealed
    }

    public func seal(_ plaintext: SecretBytes, associatedData: String) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, associatedData: associatedData) }
    }

    public func seal(_ plaintext: [UInt8], associatedData: String) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, associatedData: associatedData) }
    }

    /// Opens a value sealed by `seal`. Any change to the bytes, the key or the
    /// associated data throws `CryptoError.authenticationFailed`.
    public func open(_ sealed: [UInt8], associatedData: String) throws -> SecretBytes {
        try open(sealed, associatedBytes: Array(associatedData.utf8))
    }

    func open(_ sealed: [UInt8], associatedBytes ad: [UInt8]) throws -> SecretBytes {
        ensureSodium()
        guard sealed.count >= Self.nonceLength + Self.tagLength else {
            throw CryptoError.authenticationFailed
        }
        let plaintextLength = sealed.count - Self.nonceLength - Self.tagLength
        return try SecretBytes(count: plaintextLength) { out in
            let rc = sealed.withUnsafeBufferPointer { input in
                keyBytes.withUnsafeBytes { key in
                    crypto_aead_xchacha20poly1305_ietf_decrypt(
                        out.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
                        input.baseAddress! + Self.nonceLength, UInt64(input.count - Self.nonceLength),
                        ad, UInt64(ad.count), input.baseAddress!,
                        key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            guard rc == 0 else { throw CryptoError.authenticationFailed }
        }
    }
}

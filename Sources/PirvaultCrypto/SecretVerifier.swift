internal import CSodium

/// Keyed BLAKE2b-256 over a presented secret. The vault stores only this tag
/// (besides the sealed secret), and checks a presented secret by recomputing
/// the tag and comparing in constant time: one hash per request, fast enough
/// for thousands of token requests a second, and useless to whoever steals the
/// vault file without the key (unlike a plain hash, it cannot be brute-forced
/// offline).
public struct SecretVerifier: Sendable {
    public static let keyLength = Int(crypto_generichash_KEYBYTES)
    public static let tagLength = 32

    let key: SecretBytes

    public init(key: SecretBytes) throws {
        guard key.count == Self.keyLength else {
            throw CryptoError.invalidLength(what: "verifier key", expected: Self.keyLength, actual: key.count)
        }
        self.key = key
    }

    /// The tag of `secret` in `context` (for example the client id), so the same
    /// secret under two identities gives two unrelated tags.
    public func tag(for secret: String, context: String) -> [UInt8] {
        ensureSodium()
        // Length-prefix the context so (context, secret) pairs cannot collide.
        // Concrete String (not a generic StringProtocol) keeps this hot path specialised.
        var message = [UInt8]()
        message.reserveCapacity(8 + context.utf8.count + secret.utf8.count)
        withUnsafeBytes(of: UInt64(context.utf8.count).littleEndian) { message.append(contentsOf: $0) }
        message.append(contentsOf: context.utf8)
        message.append(contentsOf: secret.utf8)
        defer { sodium_memzero(&message, message.count) }
        var out = [UInt8](repeating: 0, count: Self.tagLength)
        key.withUnsafeBytes { k in
            _ = crypto_generichash(
                &out, Self.tagLength, message, UInt64(message.count),
                k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
        }
        return out
    }

    /// Whether `secret` matches `expectedTag`, compared in constant time.
    public func matches(_ secret: String, context: String, expectedTag: [UInt8]) -> Bool {
        constantTimeEquals(tag(for: secret, context: context), expectedTag)
    }
}

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import Crypto
internal import _CryptoExtras

/// The public half of a token signing key, of any `SigningAlgorithm`: what
/// the vault stores in `signing_keys.public_key`, publishes in `/token_keys`
/// and verifies tokens with.
///
/// RSA and P-256 keys are held as swift-crypto (BoringSSL) keys, Ed25519 as
/// libsodium's; no BoringSSL type appears in this type's interface. Two keys
/// are equal when their algorithm and stored form are.
public struct TokenVerificationKey: Sendable, Hashable {
    /// The algorithm this key verifies, and the only one: a token whose
    /// header names another is refused before this key is used.
    public let algorithm: SigningAlgorithm
    /// The form kept in the vault: the raw 32 bytes for Ed25519 (what vaults
    /// made before RS256 hold), SubjectPublicKeyInfo DER for RSA and P-256.
    public let storedRepresentation: [UInt8]
    private let backing: Backing

    private enum Backing: Sendable {
        /// The modulus and exponent are kept for the JWK: unsigned big-endian
        /// without leading zero bytes, as RFC 7518 §6.3.1 wants them.
        case rsa(_RSA.Signing.PublicKey, modulus: [UInt8], exponent: [UInt8])
        case p256(P256.Signing.PublicKey)
        case ed25519(Ed25519PublicKey)
    }

    /// Reads a key in its stored form (see `storedRepresentation`).
    ///
    /// Only the canonical encoding is accepted (the one this type writes:
    /// an uncompressed P-256 point; an RSA key without PSS parameters), so
    /// that each key has exactly one stored form, one `thumbprint` and one kid.
    ///
    /// - Throws: `CryptoError.invalidLength` for an Ed25519 key that is not
    ///   32 bytes, `CryptoError.invalidKey` for bytes that are not such a key,
    ///   `CryptoError.unsupportedRSAKeySize` for an RSA key that is not 2048,
    ///   3072 or 4096 bits.
    public init(algorithm: SigningAlgorithm, storedRepresentation bytes: [UInt8]) throws {
        switch algorithm {
        case .edDSA:
            self.init(ed25519: try Ed25519PublicKey(rawRepresentation: bytes))
        case .es256:
            let invalid = CryptoError.invalidKey(what: "the ES256 public key (P-256 SubjectPublicKeyInfo DER)")
            guard let key = try? P256.Signing.PublicKey(derRepresentation: bytes) else { throw invalid }
            guard Array(key.derRepresentation) == bytes else { throw invalid }
            self.init(p256: key)
        case .rs256:
            let invalid = CryptoError.invalidKey(what: "the RS256 public key (RSA SubjectPublicKeyInfo DER)")
            let key: _RSA.Signing.PublicKey
            do {
                // The `unsafe` reader takes 1024 bits and up, so that a short
                // key gets pirvault's own message from `checkRSAKeySize`.
                key = try _RSA.Signing.PublicKey(unsafeDERRepresentation: bytes)
            } catch CryptoKitError.incorrectParameterSize {
                throw CryptoError.unsupportedRSAKeySize(bits: nil)
            } catch {
                throw invalid
            }
            try TokenSigningKey.checkRSAKeySize(key.keySizeInBits)
            // PKCS#1 RSAPublicKey bytes, or an SPKI with PSS parameters, are read
            // by swift-crypto too, but re-encode differently: not the stored form.
            guard Array(key.derRepresentation) == bytes else { throw invalid }
            try self.init(rsa: key)
        }
    }

    init(ed25519 key: Ed25519PublicKey) {
        algorithm = .edDSA
        storedRepresentation = key.rawRepresentation
        backing = .ed25519(key)
    }

    init(p256 key: P256.Signing.PublicKey) {
        algorithm = .es256
        storedRepresentation = Array(key.derRepresentation)
        backing = .p256(key)
    }

    init(rsa key: _RSA.Signing.PublicKey) throws {
        let primitives: _RSA.Signing.PublicKey.Primitives
        do {
            primitives = try key.getKeyPrimitives()
        } catch {
            throw CryptoError.invalidKey(what: "the RS256 public key")
        }
        algorithm = .rs256
        storedRepresentation = Array(key.derRepresentation)
        backing = .rsa(key, modulus: Array(primitives.modulus), exponent: Array(primitives.publicExponent))
    }

    /// The Ed25519 key, for callers that still need libsodium's type.
    public var ed25519PublicKey: Ed25519PublicKey? {
        if case .ed25519(let key) = backing { return key }
        return nil
    }

    // MARK: Encodings

    /// The AlgorithmIdentifier and BIT STRING header of an Ed25519
    /// SubjectPublicKeyInfo (RFC 8410 §4): the same 12 bytes before every
    /// 32-byte key, so a fixed prefix is the whole encoding.
    private static let ed25519SPKIPrefix: [UInt8] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ]

    /// The key as X.509 SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7), for
    /// every algorithm: RFC 8017 `rsaEncryption`, RFC 5480 `id-ecPublicKey`
    /// with `prime256v1`, RFC 8410 `id-Ed25519`.
    public var spkiDER: [UInt8] {
        switch backing {
        case .ed25519(let key): return Self.ed25519SPKIPrefix + key.rawRepresentation
        case .rsa, .p256: return storedRepresentation
        }
    }

    /// `spkiDER` as an RFC 7468 `PUBLIC KEY` PEM document: standard Base64
    /// in lines of 64 characters, every line (the last too) ending in a
    /// newline. This is XSUAA's `value` in `/token_keys`, and what
    /// `openssl pkey -pubin` and SAP's libraries read.
    public var pem: String {
        // RFC 7468 §2: generators wrap the Base64 text at exactly 64 characters.
        let body = Array(Base64.encode(spkiDER, .standard).utf8)
        var text = Array("-----BEGIN PUBLIC KEY-----\n".utf8)
        var start = 0
        while start < body.count {
            let end = min(start + 64, body.count)
            text += body[start..<end]
            text.append(UInt8(ascii: "\n"))
            start = end
        }
        text += "-----END PUBLIC KEY-----\n".utf8
        return String(decoding: text, as: UTF8.self)
    }

    /// The public JWK's key members, in order, values base64url without
    /// padding: `kty` `RSA`, `n`, `e` (RFC 7518 §6.3.1); `kty` `EC`, `crv`
    /// `P-256`, `x`, `y` (§6.2.1, each coordinate its full 32 bytes);
    /// `kty` `OKP`, `crv` `Ed25519`, `x` (RFC 8037 §2).
    ///
    /// These are exactly the members RFC 7638 requires for a thumbprint;
    /// `kid`, `use` and `alg` are the caller's to add.
    public var jwkMembers: [(String, String)] {
        func b64url(_ bytes: [UInt8]) -> String { Base64.encode(bytes, .urlSafeNoPadding) }
        switch backing {
        case .rsa(_, let modulus, let exponent):
            return [("kty", "RSA"), ("n", b64url(modulus)), ("e", b64url(exponent))]
        case .p256(let key):
            // rawRepresentation is x ‖ y, each zero-padded to 32 bytes.
            let point = Array(key.rawRepresentation)
            return [
                ("kty", "EC"), ("crv", "P-256"), ("x", b64url(Array(point[..<32]))), ("y", b64url(Array(point[32...]))),
            ]
        case .ed25519(let key):
            return [("kty", "OKP"), ("crv", "Ed25519"), ("x", b64url(key.rawRepresentation))]
        }
    }

    /// The RFC 7638 JWK thumbprint, base64url: SHA-256 of the required
    /// members in lexicographic order, without whitespace. pirvault uses it
    /// as the key's `kid`; for Ed25519 it is the kid vaults have always had.
    public var thumbprint: String {
        // Every value is base64url or a fixed name, so nothing needs escaping.
        let members = jwkMembers.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\"\($0.1)\"" }
        let json = "{" + members.joined(separator: ",") + "}"
        return Base64.encode(SHA256.hash(Array(json.utf8)), .urlSafeNoPadding)
    }

    /// A short name for messages and listings: "RSA 2048", "EC P-256", "Ed25519".
    public var keyDescription: String {
        switch backing {
        case .rsa(let key, _, _): return "RSA \(key.keySizeInBits)"
        case .p256: return "EC P-256"
        case .ed25519: return "Ed25519"
        }
    }

    // MARK: Verifying

    /// Verifies a JWS signature (see `TokenSigningKey.signature(for:)` for
    /// the forms) over `message`. A signature of the wrong length or form is
    /// simply invalid; this never throws or traps on input.
    public func isValidSignature(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
        switch backing {
        case .ed25519(let key):
            return key.isValidSignature(signature, for: message)
        case .p256(let key):
            // RFC 7518 §3.4: exactly r ‖ s, 32 bytes each; a DER signature is not a JWS signature.
            guard signature.count == 64,
                let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: Self.sha256(message))
        case .rsa(let key, let modulus, _):
            // RFC 8017 §8.2.2 step 1: the signature is exactly as long as the modulus.
            guard signature.count == modulus.count else { return false }
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: Self.sha256(message),
                padding: .insecurePKCS1v1_5)
        }
    }

    /// swift-crypto's SHA-256 of `message`, read in place (no copy into `Data`).
    static func sha256(_ message: UnsafeRawBufferPointer) -> SHA256Digest {
        var hasher = Crypto.SHA256()
        hasher.update(bufferPointer: message)
        return hasher.finalize()
    }

    /// `isValidSignature(_:for:)` over the bytes of an array.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, for: $0) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.algorithm == rhs.algorithm && lhs.storedRepresentation == rhs.storedRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(algorithm)
        hasher.combine(storedRepresentation)
    }
}

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import Crypto
internal import _CryptoExtras

/// A private key that signs access tokens, of any `SigningAlgorithm`.
///
/// Ed25519 signs through libsodium (`Ed25519SigningKey`), RSA and P-256
/// through swift-crypto (BoringSSL), which libsodium does not have.
///
/// Key material leaves this type only as `privateKey`, in `SecretBytes`, to
/// be sealed into the vault. swift-crypto hands its serialisations out as
/// `Data`, which is freed without being wiped; pirvault copies them into
/// `SecretBytes` at once, and only when sealing (creation, rotation).
public struct TokenSigningKey: Sendable {
    /// The RSA sizes pirvault makes and accepts. 2048 is the floor: it is
    /// what XSUAA signs with, NIST SP 800-57 rates it at 112-bit strength,
    /// and swift-crypto refuses shorter keys for signing. 3072 and 4096 are
    /// the larger sizes every verifier takes; nothing in between or above,
    /// so that a stored key can never make each verification arbitrarily slow.
    public static let rsaKeySizes = [2048, 3072, 4096]

    /// The public half: what the JWKS publishes and tokens are verified with.
    public let publicKey: TokenVerificationKey
    private let backing: Backing

    private enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case ed25519(Ed25519SigningKey)
    }

    /// RSA 2048: what XSUAA signs with, and what SAP's libraries are tested against.
    public static let defaultRSABits = 2048

    /// The algorithm this key signs with: the header `alg` of its tokens.
    public var algorithm: SigningAlgorithm { publicKey.algorithm }

    /// Makes a new key from the system's CSPRNG (libsodium's for Ed25519,
    /// BoringSSL's for RSA and P-256).
    ///
    /// - Parameter rsaBits: the modulus size for RS256, one of `rsaKeySizes`;
    ///   ignored for the other algorithms.
    /// - Throws: `CryptoError.unsupportedRSAKeySize` for any other size,
    ///   before any work is done.
    public static func generate(_ algorithm: SigningAlgorithm, rsaBits: Int = defaultRSABits) throws -> TokenSigningKey {
        switch algorithm {
        case .edDSA:
            return TokenSigningKey(Ed25519SigningKey.generate())
        case .es256:
            return TokenSigningKey(p256: P256.Signing.PrivateKey())
        case .rs256:
            try checkRSAKeySize(rsaBits)
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: rsaBits))
            } catch {
                throw CryptoError.invalidKey(what: "the new RSA \(rsaBits) key")
            }
            return try TokenSigningKey(rsa: key)
        }
    }

    /// Reads a key in the form `privateKey` gives (the form sealed into the vault):
    /// - EdDSA: the 32-byte Ed25519 seed (RFC 8032 §5.1.5), as vaults made
    ///   before RS256 hold it;
    /// - ES256: the raw 32-byte big-endian P-256 scalar (SEC 1 §2.3.7);
    /// - RS256: a PKCS#1 `RSAPrivateKey` DER (RFC 8017 Appendix A.1.2), which
    ///   swift-crypto 3 and 4 both write (`derRepresentation`); a PKCS#8
    ///   `PrivateKeyInfo` holding an RSA key is read as well.
    ///
    /// - Throws: `CryptoError.invalidLength` or `.invalidKey` for bytes that
    ///   are not such a key, `CryptoError.unsupportedRSAKeySize` for an RSA
    ///   key that is not 2048, 3072 or 4096 bits.
    public init(algorithm: SigningAlgorithm, privateKey: SecretBytes) throws {
        switch algorithm {
        case .edDSA:
            self.init(try Ed25519SigningKey(seed: privateKey))
        case .es256:
            guard privateKey.count == 32 else {
                throw CryptoError.invalidLength(what: "P-256 private key", expected: 32, actual: privateKey.count)
            }
            // BoringSSL refuses a scalar of zero or not below the group order.
            guard let key = privateKey.withUnsafeBytes({ try? P256.Signing.PrivateKey(rawRepresentation: $0) }) else {
                throw CryptoError.invalidKey(what: "the ES256 private key (raw P-256 scalar)")
            }
            self.init(p256: key)
        case .rs256:
            let key: _RSA.Signing.PrivateKey
            do {
                // The `unsafe` reader takes 1024 bits and up, so that a short
                // key gets pirvault's own message from `checkRSAKeySize`.
                // BoringSSL checks the key's consistency (RSA_check_key) as it parses.
                key = try privateKey.withUnsafeBytes { try _RSA.Signing.PrivateKey(unsafeDERRepresentation: $0) }
            } catch CryptoKitError.incorrectParameterSize {
                throw CryptoError.unsupportedRSAKeySize(bits: nil)
            } catch {
                throw CryptoError.invalidKey(what: "the RS256 private key (PKCS#1 DER)")
            }
            try Self.checkRSAKeySize(key.keySizeInBits)
            try self.init(rsa: key)
        }
    }

    /// Wraps an existing libsodium Ed25519 key.
    public init(_ key: Ed25519SigningKey) {
        backing = .ed25519(key)
        publicKey = TokenVerificationKey(ed25519: key.publicKey)
    }

    private init(p256 key: P256.Signing.PrivateKey) {
        backing = .p256(key)
        publicKey = TokenVerificationKey(p256: key.publicKey)
    }

    private init(rsa key: _RSA.Signing.PrivateKey) throws {
        backing = .rsa(key)
        publicKey = try TokenVerificationKey(rsa: key.publicKey)
    }

    /// Refuses an RSA size outside `rsaKeySizes`, with a message that says
    /// which sizes to use.
    static func checkRSAKeySize(_ bits: Int) throws {
        guard rsaKeySizes.contains(bits) else { throw CryptoError.unsupportedRSAKeySize(bits: bits) }
    }

    /// The key in the form `init(algorithm:privateKey:)` reads, for sealing
    /// into the vault. Wipe-on-free memory; see the type's note on `Data`.
    public var privateKey: SecretBytes {
        switch backing {
        case .ed25519(let key): return key.seed
        case .p256(let key): return SecretBytes(copying: key.rawRepresentation)
        case .rsa(let key): return SecretBytes(copying: key.derRepresentation)
        }
    }

    /// The JWS signature (RFC 7515 §5.1) of `message`, the signing input:
    /// - RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), as long as
    ///   the modulus; deterministic;
    /// - ES256: ECDSA P-256 with SHA-256 as the 64-byte r ‖ s of RFC 7518
    ///   §3.4 (not DER); randomised, so each call gives another signature;
    /// - EdDSA: the 64-byte Ed25519 signature (RFC 8037 §3.1); deterministic.
    ///
    /// RSA and P-256 hash `message` in place with swift-crypto's SHA-256 and
    /// sign the digest, so the input is never copied.
    public func signature(for message: UnsafeRawBufferPointer) -> [UInt8] {
        switch backing {
        case .ed25519(let key):
            return key.signature(for: message)
        case .p256(let key):
            let digest = TokenVerificationKey.sha256(message)
            do {
                return Array(try key.signature(for: digest).rawRepresentation)
            } catch {
                // With a valid key and a 32-byte digest BoringSSL fails only when out of memory.
                preconditionFailure("P-256 signing failed: \(error)")
            }
        case .rsa(let key):
            let digest = TokenVerificationKey.sha256(message)
            do {
                // swift-crypto calls PKCS#1 v1.5 "insecure" for new designs; RS256 is defined as exactly it.
                return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            } catch {
                preconditionFailure("RSA signing failed: \(error)")
            }
        }
    }

    /// `signature(for:)` over the bytes of an array.
    public func signature(for message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { signature(for: $0) }
    }
}

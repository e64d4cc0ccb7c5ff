import Testing

@testable import PirvaultCrypto

/// One signature known-answer case: a public key in its stored form, a
/// signing input, a signature, and whether the signature must verify. When
/// `privateKey` is given the signing key must have exactly this public key,
/// and when `deterministic`, must sign `message` to exactly `signature`.
struct SignatureVector: Sendable, CustomTestStringConvertible {
    var name: String
    let algorithm: SigningAlgorithm
    var publicKey: [UInt8]
    var privateKey: [UInt8]? = nil
    var message: [UInt8]
    var signature: [UInt8]
    var valid = true
    var deterministic = false

    var testDescription: String { name }

    /// The same case, altered so that it must fail.
    func failing(_ what: String, _ change: (inout SignatureVector) -> Void) -> SignatureVector {
        var copy = self
        copy.name = "\(name): \(what)"
        copy.valid = false
        copy.privateKey = nil
        change(&copy)
        return copy
    }
}

/// The RFC vectors, and for each the expected failures: another key, one
/// flipped bit in the signature and in the message, a truncated signature,
/// one of the wrong length, an empty one (and for ES256 the same signature
/// in DER form, which JWS does not use).
enum Vectors {
    /// RFC 7515 Appendix A.2: RS256, deterministic, so the exact signature.
    /// The RFC gives the key as JWK numbers (n, e, d, p, q); this is the same
    /// key as PKCS#1 DER, the form pirvault seals (written from those numbers
    /// with Python's `cryptography`; the test checks that `n` and `e` come back).
    static let rfc7515A2PrivateKey = base64(
        "MIIEowIBAAKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQABAoIBABKucaRpzQorw35SbEUAVx8dYXUdZOlJcHtiWQ+dC6V8ljxAHj/PLyzTveyI5QO/xkObCyjIL303l2cfUhPu2MFaJdjVzqACXuOrLot/eSFvxjvqVidTtAZExqFRJ9mylUVAoLvhowVWmC1On95fZCXxTUtxNEG1Xcc7m0rtzJKs45J+N/V9DP1edYH6USyPSWGp6wuA+KgHRnKKVf9GRx80JQY7nVNkL17eHoTWEwga+lwi0FEoW9Y7lDtWXYmKBWhUE+U8PGxlJf8f40493HDw1WRQ/aSLoS4QTp3rn7gYgeHEvfJdkkf0UMhlknlo53M09EFPdadQ4TlUbjqKc50CgYEA4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH/5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw/Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn+nXqhJTBgIPgtldC+KDV5z+y2XDwGUcCgYEAuQPEfgmVtjL0Uyyx88GZFF1fOunH3+7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD/YwD66t62wDmpe/HlB+TnBA+njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdcCgYAHAp9XcCSrn8wVkMVkKdb7DOX4IKjzdahm+ctDAJN4O/y7OW5FKebvUjdAIt2GuoTZ71iTG+7F0F+lP88jtjP4U4qe7VHoewl4MKOfXZKTe+YCS1XbNvfgwJ3Ltyl1OH9hWvu2yza7q+d5PCsDzqtm27kxuvULVeya+TEdAB1ijQKBgQCH/3r6YrVH/uCWGy6bzV1nGNOdjKc9tmkfOJmN54dxdixdpozCQ6U4OxZrsj3FcOhHBsqAHvX2uuYjagqvo3cOj1TRqNocX40omfCCMx3bD1yPPf/6TI2XECva/ggqEY2mYzmIiA5LVVmc5nrybr+lssFKneeyxN2Wq93S0iJMdQKBgCGHewxzoa1r8ZMD0LETNrToK423K377UCYqXfg5XMclbrjPbEC3YI1ZNqMtuhdBJqUnBi6tjKMF+34Xf0CUN8ncuXGO2CAYvO8PdyCixHX52ybaDjy1FtCE6yUXjoKNXKvUm7MWGsAYH6f4IegOetN5NvmUMFStCSkh7ixZLkN1"
    )
    /// The RFC's key as JWK members.
    static let rfc7515A2N =
        "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    /// The same key's SubjectPublicKeyInfo DER (its stored public form).
    static let rfc7515A2PublicKey = base64(
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd/wWJcyQoTbji9k0l8W26mPddxHmfHQp+Vaw+4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL+yRT+SFd2lZS+pCgNMsD1W/YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb/7OMg0LOL+bSf63kpaSHSXndS5z5rexMdbBYUsLA9e+KXBdQOS+UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6/I5IhlJH7aGhyxXFvUK+DWNmoudF8NAco9/h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQIDAQAB"
    )
    static let rfc7515A2 = SignatureVector(
        name: "RFC 7515 A.2 RS256", algorithm: .rs256, publicKey: rfc7515A2PublicKey, privateKey: rfc7515A2PrivateKey,
        message: Array("eyJhbGciOiJSUzI1NiJ9.\(rfc7515Payload)".utf8),
        signature: base64url(
            "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
        ),
        deterministic: true)

    static let rfc7515Payload =
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

    /// RFC 7515 Appendix A.3: ES256. ECDSA is randomised, so only the
    /// RFC's signature verifying is checked (and the key pair).
    static let rfc7515A3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let rfc7515A3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let rfc7515A3 = SignatureVector(
        name: "RFC 7515 A.3 ES256", algorithm: .es256,
        publicKey: p256SPKI(x: base64url(rfc7515A3X), y: base64url(rfc7515A3Y)),
        privateKey: base64url("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"),
        message: Array("eyJhbGciOiJFUzI1NiJ9.\(rfc7515Payload)".utf8),
        signature: base64url("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"))

    /// RFC 8037 Appendix A.4: EdDSA (Ed25519), deterministic.
    static let rfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    static let rfc8037A4 = SignatureVector(
        name: "RFC 8037 A.4 EdDSA", algorithm: .edDSA, publicKey: base64url(rfc8037X),
        privateKey: base64url("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"),
        message: Array("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc".utf8),
        signature: base64url("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"),
        deterministic: true)

    /// Every vector and its expected failures.
    static var all: [SignatureVector] {
        [rfc7515A2, rfc7515A3, rfc8037A4].flatMap { vector -> [SignatureVector] in
            var cases = [
                vector,
                vector.failing("another key of the same algorithm") {
                    $0.publicKey = try! TokenSigningKey.generate($0.algorithm).publicKey.storedRepresentation
                },
                vector.failing("one flipped bit in the signature") { $0.signature[5] ^= 0x01 },
                vector.failing("one flipped bit in the last signature byte") { $0.signature[$0.signature.count - 1] ^= 0x80 },
                vector.failing("one flipped bit in the message") { $0.message[3] ^= 0x01 },
                vector.failing("the message one byte longer") { $0.message.append(0x2e) },
                vector.failing("a truncated signature") { $0.signature.removeLast() },
                vector.failing("a signature one byte longer") { $0.signature.append(0) },
                vector.failing("a signature of half the length") { $0.signature.removeLast($0.signature.count / 2) },
                vector.failing("an empty signature") { $0.signature = [] },
                vector.failing("a signature of zeros") { $0.signature = [UInt8](repeating: 0, count: $0.signature.count) },
            ]
            if vector.algorithm == .es256 {
                cases.append(vector.failing("the same signature in DER form, not r ‖ s") { $0.signature = derECDSASignature($0.signature) })
            }
            return cases
        }
    }
}

struct SignatureKnownAnswerTests {
    /// The one runner for every vector and every expected failure.
    @Test(arguments: Vectors.all)
    func knownAnswer(_ vector: SignatureVector) throws {
        let key = try TokenVerificationKey(algorithm: vector.algorithm, storedRepresentation: vector.publicKey)
        #expect(key.algorithm == vector.algorithm)
        #expect(key.isValidSignature(vector.signature, for: vector.message) == vector.valid)
        guard let privateKey = vector.privateKey else { return }
        let signingKey = try TokenSigningKey(algorithm: vector.algorithm, privateKey: SecretBytes(copying: privateKey))
        #expect(signingKey.publicKey == key)
        let signature = signingKey.signature(for: vector.message)
        if vector.deterministic { #expect(signature == vector.signature) }
        #expect(key.isValidSignature(signature, for: vector.message))
    }

    @Test func theVectorsKeysHaveTheRFCsJWKMembers() throws {
        let rsa = try TokenVerificationKey(algorithm: .rs256, storedRepresentation: Vectors.rfc7515A2.publicKey)
        #expect(rsa.jwkMembers.map(\.0) == ["kty", "n", "e"])
        #expect(rsa.jwkMembers.map(\.1) == ["RSA", Vectors.rfc7515A2N, "AQAB"])
        let ec = try TokenVerificationKey(algorithm: .es256, storedRepresentation: Vectors.rfc7515A3.publicKey)
        #expect(ec.jwkMembers.map(\.0) == ["kty", "crv", "x", "y"])
        #expect(ec.jwkMembers.map(\.1) == ["EC", "P-256", Vectors.rfc7515A3X, Vectors.rfc7515A3Y])
        let okp = try TokenVerificationKey(algorithm: .edDSA, storedRepresentation: Vectors.rfc8037A4.publicKey)
        #expect(okp.jwkMembers.map(\.0) == ["kty", "crv", "x"])
        #expect(okp.jwkMembers.map(\.1) == ["OKP", "Ed25519", Vectors.rfc8037X])
    }
}

struct TokenSigningKeyRoundTripTests {
    @Test(arguments: SigningAlgorithm.allCases)
    func aGeneratedKeySignsVerifiesAndComesBackFromItsSealedForm(_ algorithm: SigningAlgorithm) throws {
        let key = try TokenSigningKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        let message = Array("header.payload".utf8)
        let signature = key.signature(for: message)
        #expect(signature.count == (algorithm == .rs256 ? 256 : 64))
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))

        let again = try TokenSigningKey(algorithm: algorithm, privateKey: key.privateKey)
        #expect(again.publicKey == key.publicKey)
        #expect(again.privateKey.constantTimeEquals(key.privateKey))
        #expect(key.publicKey.isValidSignature(again.signature(for: message), for: message))
        let stored = try TokenVerificationKey(algorithm: algorithm, storedRepresentation: key.publicKey.storedRepresentation)
        #expect(stored == key.publicKey)
        #expect(stored.hashValue == key.publicKey.hashValue)
        #expect(stored.thumbprint == key.publicKey.thumbprint)
        #expect(try TokenSigningKey.generate(algorithm).publicKey != key.publicKey)
    }

    @Test func sealedFormsHaveTheDocumentedShapes() throws {
        #expect(try TokenSigningKey.generate(.edDSA).privateKey.count == 32)
        #expect(try TokenSigningKey.generate(.es256).privateKey.count == 32)
        // PKCS#1 RSAPrivateKey: SEQUENCE { INTEGER 0 (version), INTEGER n, ... }
        let rsa = try TokenSigningKey.generate(.rs256).privateKey.copyBytes()
        #expect(Array(rsa.prefix(7)) == [0x30, 0x82, UInt8((rsa.count - 4) >> 8), UInt8((rsa.count - 4) & 0xff), 0x02, 0x01, 0x00])
        #expect(try TokenSigningKey.generate(.es256).publicKey.storedRepresentation.count == 91)
        #expect(try TokenSigningKey.generate(.edDSA).publicKey.storedRepresentation.count == 32)
    }

    @Test func anExistingEd25519KeyKeepsItsSeedPublicKeyAndSignatures() throws {
        let old = Ed25519SigningKey.generate()
        let key = try TokenSigningKey(algorithm: .edDSA, privateKey: old.seed)
        #expect(key.publicKey.storedRepresentation == old.publicKey.rawRepresentation)
        #expect(key.privateKey.constantTimeEquals(old.seed))
        #expect(key.signature(for: [1, 2, 3]) == old.signature(for: [1, 2, 3]))
        #expect(TokenSigningKey(old).publicKey == key.publicKey)
        #expect(key.publicKey.ed25519PublicKey == old.publicKey)
    }

    @Test func rsa3072IsAccepted() throws {
        let key = try TokenSigningKey.generate(.rs256, rsaBits: 3072)
        #expect(key.publicKey.keyDescription == "RSA 3072")
        let signature = key.signature(for: [0x61])
        #expect(signature.count == 384)
        #expect(key.publicKey.isValidSignature(signature, for: [0x61]))
        #expect(try TokenSigningKey(algorithm: .rs256, privateKey: key.privateKey).publicKey == key.publicKey)
    }
}

struct TokenKeyRefusalTests {
    /// A 1024-bit RSA key, made for this test only.
    static let rsa1024PrivateKey = base64(
        "MIICWgIBAAKBgQDXeyfzqe7LRBgxtRdXR07Xh1m6mfZ48w+VtBYK+9yn1lqle9l/7pPkAmeg33/uVrhMo3a0d6YEbn1IaLybojqmq6BL++asbS2FxfRhuAOAkM/REHD7vEepSN02suUUJCdz8g5Usp9vrIWBphpykvFMep+B8Fty1us9va01hkC7uwIDAQABAoGAXNQAdRcK+WQ/bAKQqJfenjj/7cRwCtDjMOHg8SBpgaB1cn71Rwi3i22BySsfiMSxJsrw03QMADK9JBmCzyVHUEVw0hQZwuGYGT6T/66VgSRtKCxchj1r/P8bvR7mj8ehYWRlhsIfSs1MHq83eURtR37a16JVR3qrC/C+X6pUDDkCQQD0P8h2PhKZWnPPDLtMBn1UgbCLImCEptuaoq1nJY0uEesHlWHPo8OQA4CeB2WzsLagRRawwcG3SnYQgcfwoTnFAkEA4dkPZ9ivfHp3CF3SvO5s+J+VSTqrs8uLG1kjAC7sUvN1lhLkzJFpfzK6VsmADBFIC1myu/g693kKhfNFGej3fwJAD4D8+IR4KcPUFhB40xqWWgbhbfOArOrqhaZN235Gt+XrRU/2JXf/seSHBYDys7VD4miASDgEU94mIGYciumxAQI/dxkABsM9x2bNXpwbhYY18OY202cdJLMxqDpZOr+D4DqCx6EvBrGn8GvP1/RqkfKLC3FBz94XOmmaIwkmZ4NzAkBs0u09LbCI+GZoltCnc5X+dLSwQgozPg8hJQt923dK33/QArunBrrleEIcQRK/i8g3rfGMewrT+UcddrT7XVP8"
    )
    static let rsa1024PublicKey = base64(
        "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDXeyfzqe7LRBgxtRdXR07Xh1m6mfZ48w+VtBYK+9yn1lqle9l/7pPkAmeg33/uVrhMo3a0d6YEbn1IaLybojqmq6BL++asbS2FxfRhuAOAkM/REHD7vEepSN02suUUJCdz8g5Usp9vrIWBphpykvFMep+B8Fty1us9va01hkC7uwIDAQAB"
    )

    @Test func rsaShorterThan2048IsRefusedWithWhatToDo() throws {
        #expect(throws: CryptoError.unsupportedRSAKeySize(bits: 1024)) { try TokenSigningKey.generate(.rs256, rsaBits: 1024) }
        #expect(throws: CryptoError.unsupportedRSAKeySize(bits: 1024)) {
            try TokenSigningKey(algorithm: .rs256, privateKey: SecretBytes(copying: Self.rsa1024PrivateKey))
        }
        #expect(throws: CryptoError.unsupportedRSAKeySize(bits: 1024)) {
            try TokenVerificationKey(algorithm: .rs256, storedRepresentation: Self.rsa1024PublicKey)
        }
        #expect(throws: CryptoError.unsupportedRSAKeySize(bits: 5000)) { try TokenSigningKey.generate(.rs256, rsaBits: 5000) }
        #expect(throws: CryptoError.unsupportedRSAKeySize(bits: 2047)) { try TokenSigningKey.generate(.rs256, rsaBits: 2047) }
        #expect(CryptoError.unsupportedRSAKeySize(bits: 1024).description == "RSA 1024 is too short to sign tokens; use 2048, 3072 or 4096 bits")
        #expect(CryptoError.unsupportedRSAKeySize(bits: 5000).description == "RSA 5000 is not a supported key size; use 2048, 3072 or 4096 bits")
        #expect(CryptoError.unsupportedRSAKeySize(bits: nil).description == "the RSA key is too short to sign tokens; use 2048, 3072 or 4096 bits")
    }

    /// Bytes that are not a key of the named kind, and forms of a real key
    /// that are not the stored form: refused with a fixed message that names
    /// the expected form and holds none of the bytes.
    @Test func badKeyBytesAreRefusedWithoutShowingThem() throws {
        let garbage: [UInt8] = Array("not a key at all, just text".utf8)
        let rsaSPKI = Vectors.rfc7515A2.publicKey
        let p256SPKI = Vectors.rfc7515A3.publicKey
        let publicCases: [(SigningAlgorithm, [UInt8], CryptoError)] = [
            (.rs256, garbage, .invalidKey(what: "the RS256 public key (RSA SubjectPublicKeyInfo DER)")),
            // PKCS#1 RSAPublicKey: swift-crypto reads it, but it is not the stored form.
            (.rs256, Array(rsaSPKI.dropFirst(24)), .invalidKey(what: "the RS256 public key (RSA SubjectPublicKeyInfo DER)")),
            (.rs256, rsaSPKI + [0], .invalidKey(what: "the RS256 public key (RSA SubjectPublicKeyInfo DER)")),
            (.rs256, p256SPKI, .invalidKey(what: "the RS256 public key (RSA SubjectPublicKeyInfo DER)")),
            (.es256, garbage, .invalidKey(what: "the ES256 public key (P-256 SubjectPublicKeyInfo DER)")),
            (.es256, rsaSPKI, .invalidKey(what: "the ES256 public key (P-256 SubjectPublicKeyInfo DER)")),
            (.es256, Array(p256SPKI.dropLast()), .invalidKey(what: "the ES256 public key (P-256 SubjectPublicKeyInfo DER)")),
            (.edDSA, Array(repeating: 7, count: 31), .invalidLength(what: "Ed25519 public key", expected: 32, actual: 31)),
            (.edDSA, rsaSPKI, .invalidLength(what: "Ed25519 public key", expected: 32, actual: rsaSPKI.count)),
        ]
        for (algorithm, bytes, expected) in publicCases {
            #expect(throws: expected) { try TokenVerificationKey(algorithm: algorithm, storedRepresentation: bytes) }
        }
        let privateCases: [(SigningAlgorithm, [UInt8], CryptoError)] = [
            (.rs256, garbage, .invalidKey(what: "the RS256 private key (PKCS#1 DER)")),
            (.rs256, Array(Vectors.rfc7515A2PrivateKey.dropLast(9)), .invalidKey(what: "the RS256 private key (PKCS#1 DER)")),
            (.es256, Array(repeating: 0, count: 32), .invalidKey(what: "the ES256 private key (raw P-256 scalar)")),
            (.es256, Array(repeating: 0xff, count: 32), .invalidKey(what: "the ES256 private key (raw P-256 scalar)")),
            (.es256, Array(repeating: 1, count: 31), .invalidLength(what: "P-256 private key", expected: 32, actual: 31)),
            (.edDSA, Array(repeating: 1, count: 33), .invalidLength(what: "Ed25519 seed", expected: 32, actual: 33)),
        ]
        for (algorithm, bytes, expected) in privateCases {
            #expect(throws: expected) { try TokenSigningKey(algorithm: algorithm, privateKey: SecretBytes(copying: bytes)) }
        }
        for error in publicCases.map(\.2) + privateCases.map(\.2) {
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("not a key at all"))
        }
    }

    @Test func aKeyOfOneAlgorithmNeverVerifiesAnothersSignature() throws {
        let message = Array("header.payload".utf8)
        let keys = try SigningAlgorithm.allCases.map { try TokenSigningKey.generate($0) }
        for signer in keys {
            let signature = signer.signature(for: message)
            for verifier in keys where verifier.algorithm != signer.algorithm {
                #expect(!verifier.publicKey.isValidSignature(signature, for: message))
            }
        }
    }
}

func base64(_ text: String) -> [UInt8] { Base64.decode(text, .standard)! }
func base64url(_ text: String) -> [UInt8] { Base64.decode(text, .urlSafeNoPadding)! }

/// An uncompressed P-256 point as SubjectPublicKeyInfo (RFC 5480): the fixed
/// `id-ecPublicKey`/`prime256v1` header, 0x04, x, y. Test-only, to state the
/// RFC's x and y in the stored form.
func p256SPKI(x: [UInt8], y: [UInt8]) -> [UInt8] {
    hex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + [0x04] + x + y
}

/// The DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) of an r ‖ s signature: what
/// openssl and X.509 use, and what a JWS must not carry.
func derECDSASignature(_ raw: [UInt8]) -> [UInt8] {
    func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var value = Array(bytes.drop(while: { $0 == 0 }))
        if value.isEmpty || value[0] & 0x80 != 0 { value.insert(0, at: 0) }
        return [0x02, UInt8(value.count)] + value
    }
    let half = raw.count / 2
    let body = integer(raw[..<half]) + integer(raw[half...])
    return [0x30, UInt8(body.count)] + body
}

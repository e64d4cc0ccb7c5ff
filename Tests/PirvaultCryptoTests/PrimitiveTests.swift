import Testing

@testable import PirvaultCrypto

struct Argon2idTests {
    let salt = [UInt8](repeating: 7, count: PassphraseKDF.saltLength)
    let cheap = Argon2idParameters(opslimit: 1, memlimit: 8192)

    @Test func isDeterministicForTheSameInputs() throws {
        let a = try PassphraseKDF.deriveKey(passphrase: "correct horse", salt: salt, parameters: cheap)
        let b = try PassphraseKDF.deriveKey(passphrase: "correct horse", salt: salt, parameters: cheap)
        #expect(a.constantTimeEquals(b))
        #expect(a.count == 32)
    }

    @Test func differsWithPassphraseSaltOrCost() throws {
        let base = try PassphraseKDF.deriveKey(passphrase: "correct horse", salt: salt, parameters: cheap)
        let otherPassphrase = try PassphraseKDF.deriveKey(passphrase: "correct horsE", salt: salt, parameters: cheap)
        var otherSaltBytes = salt
        otherSaltBytes[0] ^= 1
        let otherSalt = try PassphraseKDF.deriveKey(passphrase: "correct horse", salt: otherSaltBytes, parameters: cheap)
        let otherCost = try PassphraseKDF.deriveKey(
            passphrase: "correct horse", salt: salt, parameters: .init(opslimit: 2, memlimit: 8192))
        #expect(!base.constantTimeEquals(otherPassphrase))
        #expect(!base.constantTimeEquals(otherSalt))
        #expect(!base.constantTimeEquals(otherCost))
    }

    /// Argon2id v1.3, t=1, m=8 KiB, p=1, 32-byte output, against an independent implementation.
    @Test func matchesAKnownAnswer() throws {
        let key = try PassphraseKDF.deriveKey(
            passphrase: "password", salt: Array("somesaltsomesalt".utf8), parameters: cheap)
        #expect(key.copyBytes().hexString == argon2idKnownAnswer)
    }

    @Test func refusesDoctoredParameters() {
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PassphraseKDF.deriveKey(
                passphrase: "x", salt: salt, parameters: .init(opslimit: 1, memlimit: 1 << 40))
        }
        #expect(throws: CryptoError.keyDerivationFailed) {
            try PassphraseKDF.deriveKey(passphrase: "x", salt: salt, parameters: .init(opslimit: 0, memlimit: 8192))
        }
    }

    @Test func rejectsAShortSalt() {
        #expect(throws: CryptoError.invalidLength(what: "Argon2id salt", expected: 16, actual: 3)) {
            try PassphraseKDF.deriveKey(passphrase: "x", salt: [1, 2, 3], parameters: cheap)
        }
    }

    @Test func releaseDefaultsAreLibsodiumModerate() {
        #expect(Argon2idParameters.moderate.opslimit == 3)
        #expect(Argon2idParameters.moderate.memlimit == 256 << 20)
    }
}

struct SecretVerifierTests {
    let verifier = try! SecretVerifier(key: .random(count: 32))

    @Test func matchesOnlyTheSameSecretInTheSameContext() {
        let tag = verifier.tag(for: "s3cret", context: "client-a")
        #expect(tag.count == 32)
        #expect(verifier.matches("s3cret", context: "client-a", expectedTag: tag))
        #expect(!verifier.matches("s3creT", context: "client-a", expectedTag: tag))
        #expect(!verifier.matches("s3cret", context: "client-b", expectedTag: tag))
        #expect(!verifier.matches("s3cret", context: "client-a", expectedTag: Array(tag.dropLast())))
    }

    @Test func contextAndSecretCannotBeShiftedIntoEachOther() {
        #expect(verifier.tag(for: "bc", context: "a") != verifier.tag(for: "c", context: "ab"))
    }

    @Test func aDifferentKeyGivesAnUnrelatedTag() throws {
        let other = try SecretVerifier(key: .random(count: 32))
        #expect(verifier.tag(for: "s", context: "c") != other.tag(for: "s", context: "c"))
    }

    /// Keyed BLAKE2b-256 against an independent implementation (see `blake2bKnownAnswer`).
    @Test func isKeyedBlake2b() throws {
        let key = try SecretVerifier(key: SecretBytes(copying: (0..<32).map { UInt8($0) }))
        // context "" (8 zero length bytes) and secret "abc": blake2b(key, 00*8 || "abc", 32)
        #expect(key.tag(for: "abc", context: "").hexString == blake2bKnownAnswer)
    }
}

struct Ed25519Tests {
    /// RFC 8032 §7.1, TEST 2.
    @Test func signsTheRFC8032Vector() throws {
        let key = try Ed25519SigningKey(
            seed: SecretBytes(copying: hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")))
        #expect(key.publicKey.rawRepresentation.hexString == "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
        let signature = key.signature(for: [0x72])
        #expect(
            signature.hexString
                == "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        )
        #expect(key.publicKey.isValidSignature(signature, for: [0x72]))
    }

    @Test func rejectsAlteredMessagesSignaturesAndKeys() {
        let key = Ed25519SigningKey.generate()
        let message = Array("header.payload".utf8)
        var signature = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
        #expect(!Ed25519SigningKey.generate().publicKey.isValidSignature(signature, for: message))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: message))
        signature[10] ^= 0x04
        #expect(!key.publicKey.isValidSignature(signature, for: message))
    }

    @Test func seedRoundTrips() throws {
        let key = Ed25519SigningKey.generate()
        let again = try Ed25519SigningKey(seed: key.seed)
        #expect(again.publicKey == key.publicKey)
    }
}

struct HashAndEncodingTests {
    /// FIPS 180-2 / RFC 6234 vectors.
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hash([]).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func base64UrlRoundTripsAndIsStrict() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xbf, 0x00, 0x10]
        let text = Base64.encode(bytes, .urlSafeNoPadding)
        #expect(text == "-_-_ABA")
        #expect(Base64.decode(text, .urlSafeNoPadding) == bytes)
        #expect(Base64.decode("-_-_ABA=", .urlSafeNoPadding) == nil)
        #expect(Base64.decode("+/+/ABA", .urlSafeNoPadding) == nil)
        #expect(Base64.decode("-_-_AB A", .urlSafeNoPadding) == nil)
        #expect(Base64.decode("AAAA", .standard) == [0, 0, 0])
        #expect(Base64.decode("AA==", .standard) == [0])
        #expect(Base64.decode("AA", .standard) == nil)
    }

    @Test func randomBytesDiffer() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
        #expect(SecureRandom.uniform(10) < 10)
    }

    @Test func constantTimeEquality() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(constantTimeEquals([], []))
        #expect(SecretBytes(copying: [1, 2]).constantTimeEquals(SecretBytes(copying: [1, 2])))
        #expect(!SecretBytes(copying: [1, 2]).constantTimeEquals(SecretBytes(copying: [1, 3])))
    }
}

/// Computed independently with Python `cryptography`'s Argon2id (t=1, m=8 KiB, p=1, "password", "somesaltsomesalt").
let argon2idKnownAnswer = "05b6ca8f8038b683887ad4916533858b49cb52040126c134f4c6e9d8711b8c09"
/// Computed independently with Python `hashlib.blake2b(b"\0" * 8 + b"abc", key=bytes(range(32)), digest_size=32)`.
let blake2bKnownAnswer = "9f01c9dc78a3fd84b42abefc779b39b20b9599090c6ce2b9c938ff2ea7d2684c"

struct PublicBase64Tests {
    @Test(arguments: [0, 1, 2, 3, 4, 31, 32, 33, 64, 65])
    func matchesLibsodiumForEveryLength(_ length: Int) {
        let bytes = SecureRandom.bytes(length)
        for variant in [Base64.Variant.standard, .urlSafeNoPadding] {
            let encoded = PublicBase64.encode(bytes, variant)
            #expect(encoded == Base64.encode(bytes, variant))
            #expect(PublicBase64.decode(encoded, variant) == bytes)
            var appended = Array("header.".utf8)
            bytes.withUnsafeBytes { PublicBase64.append($0, variant, to: &appended) }
            #expect(appended == Array(("header." + Base64.encode(bytes, variant)).utf8))
        }
    }

    @Test func decodesStrictly() {
        #expect(PublicBase64.decode("AAAA", .standard) == [0, 0, 0])
        #expect(PublicBase64.decode("AA==", .standard) == [0])
        for bad in ["AA", "AA=", "A===", "AB==", "AA=A", "A@AA", "AAAAA"] {
            #expect(PublicBase64.decode(bad, .standard) == nil, "\(bad)")
        }
        #expect(PublicBase64.decode("-_-_ABA", .urlSafeNoPadding) == [0xfb, 0xff, 0xbf, 0x00, 0x10])
        for bad in ["-_-_ABA=", "+/+/", "A", "AB"] {
            #expect(PublicBase64.decode(bad, .urlSafeNoPadding) == nil, "\(bad)")
        }
    }
}

import Testing

@testable import PirvaultCrypto

struct SealingKeyTests {
    let key = SealingKey.generate()
    let plaintext = Array("client secret: 4f1c…".utf8)

    @Test func roundTripsWithTheSameAssociatedData() throws {
        let sealed = key.seal(plaintext, associatedData: "instances|1|data_key")
        #expect(sealed.count == 24 + plaintext.count + 16)
        #expect(try key.open(sealed, associatedData: "instances|1|data_key").copyBytes() == plaintext)
    }

    @Test func sealingTwiceGivesDifferentCiphertexts() {
        #expect(key.seal(plaintext, associatedData: "a") != key.seal(plaintext, associatedData: "a"))
    }

    @Test func emptyPlaintextRoundTrips() throws {
        let sealed = key.seal([UInt8](), associatedData: "x")
        #expect(try key.open(sealed, associatedData: "x").count == 0)
    }

    // The expected failures: one runner, every way a sealed value can be wrong.
    enum Tamper: CaseIterable, CustomTestStringConvertible {
        case wrongKey, wrongAssociatedData, flippedNonceBit, flippedCiphertextBit, flippedTagBit
        case truncatedTag, truncatedToNonce, empty, extraByte

        var testDescription: String { "\(self)" }
    }

    @Test(arguments: Tamper.allCases)
    func tamperedValuesDoNotOpen(_ tamper: Tamper) {
        var sealed = key.seal(plaintext, associatedData: "instances|7|data_key")
        var opener = key
        var ad = "instances|7|data_key"
        switch tamper {
        case .wrongKey: opener = .generate()
        case .wrongAssociatedData: ad = "instances|8|data_key"
        case .flippedNonceBit: sealed[0] ^= 0x01
        case .flippedCiphertextBit: sealed[24] ^= 0x80
        case .flippedTagBit: sealed[sealed.count - 1] ^= 0x01
        case .truncatedTag: sealed.removeLast()
        case .truncatedToNonce: sealed = Array(sealed[0..<24])
        case .empty: sealed = []
        case .extraByte: sealed.append(0)
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try opener.open(sealed, associatedData: ad)
        }
    }

    @Test func rejectsKeysOfTheWrongLength() {
        #expect(throws: CryptoError.invalidLength(what: "sealing key", expected: 32, actual: 31)) {
            try SealingKey(.random(count: 31))
        }
    }

    /// Known answer: draft-irtf-cfrg-xchacha-03 §A.3.1 (AEAD_XChaCha20_Poly1305).
    @Test func matchesTheXChaChaDraftTestVector() throws {
        let key = try SealingKey(SecretBytes(copying: hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")))
        let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
        let ad = hex("50515253c0c1c2c3c4c5c6c7")
        let expected = hex(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
                + "c0875924c1c7987947deafd8780acf49")
        let plaintext = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
                .utf8)
        let sealed = plaintext.withUnsafeBytes { key.seal($0, associatedBytes: ad, nonce: nonce) }
        #expect(sealed == nonce + expected)
        #expect(try key.open(sealed, associatedBytes: ad).copyBytes() == plaintext)
    }
}

func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var iterator = text.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        out.append(UInt8(String([high, low]), radix: 16)!)
    }
    return out
}

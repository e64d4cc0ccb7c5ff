import Foundation
import Testing

@testable import PirvaultCrypto

struct PublicKeyFormatTests {
    /// RFC 7638 §3.1 (RSA), RFC 8037 A.3 (Ed25519); the P-256 one was
    /// computed with Python's hashlib over the RFC 7638 form of RFC 7515
    /// A.3's key.
    @Test func thumbprintsAreRFC7638() throws {
        let rfc7638 = try TokenVerificationKey(
            algorithm: .rs256,
            storedRepresentation: base64(
                "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc/BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ/2W+5JsGY4Hc5n9yBXArwl93lqt7/RN5w6Cf0h4QyQ5v+65YGjQR0/FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt+bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ+G/xBniIqbw0Ls1jF44+csFCur+kEgU8awapJzKnqDKgwIDAQAB"
            ))
        #expect(rfc7638.thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        let ed25519 = try TokenVerificationKey(algorithm: .edDSA, storedRepresentation: Vectors.rfc8037A4.publicKey)
        #expect(ed25519.thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        let p256 = try TokenVerificationKey(algorithm: .es256, storedRepresentation: Vectors.rfc7515A3.publicKey)
        #expect(p256.thumbprint == "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U")
    }

    /// Existing vaults' kids must not change: the thumbprint pirvault always
    /// computed for an Ed25519 key, written out the way it used to be.
    @Test func anEd25519KidIsWhatItAlwaysWas() throws {
        for _ in 0..<5 {
            let key = Ed25519SigningKey.generate().publicKey
            let x = Base64.encode(key.rawRepresentation, .urlSafeNoPadding)
            let old = Base64.encode(SHA256.hash(Array(#"{"crv":"Ed25519","kty":"OKP","x":"\#(x)"}"#.utf8)), .urlSafeNoPadding)
            #expect(TokenVerificationKey(ed25519: key).thumbprint == old)
        }
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func thePEMIsSubjectPublicKeyInfoIn64ColumnLines(_ algorithm: SigningAlgorithm) throws {
        let key = try TokenSigningKey.generate(algorithm).publicKey
        let lines = key.pem.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(key.pem.hasSuffix("-----END PUBLIC KEY-----\n"))
        #expect(lines.first == "-----BEGIN PUBLIC KEY-----")
        #expect(lines.last == "")
        let body = lines.dropFirst().dropLast(2)
        #expect(body.dropLast().allSatisfy { $0.count == 64 })
        #expect((1...64).contains(body.last!.count))
        #expect(Base64.decode(body.joined(), .standard) == key.spkiDER)
        if algorithm == .edDSA {
            #expect(key.spkiDER == hex("302a300506032b6570032100") + key.storedRepresentation)
        } else {
            #expect(key.spkiDER == key.storedRepresentation)
        }
    }

    @Test func rsaModulusHasNoLeadingZeroAndECCoordinatesKeepTheirs() throws {
        for _ in 0..<3 {
            let rsa = try TokenSigningKey.generate(.rs256).publicKey
            let n = try #require(Base64.decode(rsa.jwkMembers[1].1, .urlSafeNoPadding))
            #expect(n.count == 256 && n[0] != 0)
            #expect(rsa.keyDescription == "RSA 2048")
        }
        for _ in 0..<20 {
            let ec = try TokenSigningKey.generate(.es256).publicKey
            #expect(ec.jwkMembers.dropFirst(2).allSatisfy { Base64.decode($0.1, .urlSafeNoPadding)?.count == 32 })
        }
    }

    // MARK: openssl reads what pirvault writes

    @Test(arguments: SigningAlgorithm.allCases)
    func opensslReadsThePEMAndAcceptsTheSignature(_ algorithm: SigningAlgorithm) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try TokenSigningKey.generate(algorithm)
        let pemFile = directory.appendingPathComponent("key.pem").path
        try key.publicKey.pem.write(toFile: pemFile, atomically: true, encoding: .utf8)

        let text = try run(["openssl", "pkey", "-pubin", "-in", pemFile, "-noout", "-text"])
        #expect(text.code == 0, "\(text.output)")
        switch algorithm {
        case .rs256: #expect(text.output.contains("Public-Key: (2048 bit)"))
        case .es256: #expect(text.output.contains("Public-Key: (256 bit)") && text.output.contains("P-256"))
        case .edDSA: #expect(text.output.contains("ED25519 Public-Key"))
        }

        let message = Array("eyJhbGciOiJ9.eyJzdWIiOiJ4In0".utf8)
        let messageFile = directory.appendingPathComponent("message").path
        let signatureFile = directory.appendingPathComponent("signature").path
        try Data(message).write(to: URL(fileURLWithPath: messageFile))
        var signature = key.signature(for: message)
        // openssl reads ECDSA signatures as DER only.
        if algorithm == .es256 { signature = derECDSASignature(signature) }
        try Data(signature).write(to: URL(fileURLWithPath: signatureFile))
        let verify =
            algorithm == .edDSA
            ? try run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pemFile, "-rawin", "-in", messageFile, "-sigfile", signatureFile])
            : try run(["openssl", "dgst", "-sha256", "-verify", pemFile, "-signature", signatureFile, messageFile])
        #expect(verify.code == 0, "\(verify.output)")
        #expect(verify.output.contains("Verified") || verify.output.contains("Signature Verified Successfully"))

        // And it refuses the same signature over another message.
        try Data(message + [0x2e]).write(to: URL(fileURLWithPath: messageFile))
        let refused =
            algorithm == .edDSA
            ? try run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pemFile, "-rawin", "-in", messageFile, "-sigfile", signatureFile])
            : try run(["openssl", "dgst", "-sha256", "-verify", pemFile, "-signature", signatureFile, messageFile])
        #expect(refused.code != 0)
    }

    @Test func opensslReadsTheRFCKeysPEMAsTheSameKey() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try TokenVerificationKey(algorithm: .rs256, storedRepresentation: Vectors.rfc7515A2.publicKey)
        let pemFile = directory.appendingPathComponent("key.pem").path
        try key.pem.write(toFile: pemFile, atomically: true, encoding: .utf8)
        let der = try run(["openssl", "pkey", "-pubin", "-in", pemFile, "-outform", "DER", "-out", directory.appendingPathComponent("key.der").path])
        #expect(der.code == 0)
        #expect(try Array(Data(contentsOf: directory.appendingPathComponent("key.der"))) == key.spkiDER)
        // The RFC's own signature of the RFC's input, checked by openssl against pirvault's PEM.
        let messageFile = directory.appendingPathComponent("message").path
        let signatureFile = directory.appendingPathComponent("signature").path
        try Data(Vectors.rfc7515A2.message).write(to: URL(fileURLWithPath: messageFile))
        try Data(Vectors.rfc7515A2.signature).write(to: URL(fileURLWithPath: signatureFile))
        let verify = try run(["openssl", "dgst", "-sha256", "-verify", pemFile, "-signature", signatureFile, messageFile])
        #expect(verify.code == 0 && verify.output.contains("Verified OK"), "\(verify.output)")
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pirvault-crypto-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs a command found on PATH; its exit code and stdout + stderr.
func run(_ arguments: [String]) throws -> (code: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

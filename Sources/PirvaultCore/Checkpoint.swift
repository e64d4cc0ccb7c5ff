import Foundation
import PirvaultCrypto

/// A signed tree head in the C2SP `tlog-checkpoint` format, signed as a C2SP
/// `signed-note`:
///
///     <origin>\n<tree size>\n<base64 root hash>\n
///     \n
///     — <key name> <base64(4-byte key hash ‖ Ed25519 signature)>\n
public struct Checkpoint: Sendable, Equatable {
    public let origin: String
    public let size: Int
    public let rootHash: [UInt8]

    public init(origin: String, size: Int, rootHash: [UInt8]) {
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
    }

    /// The note text that is signed: three lines, each ending in a newline.
    public var body: String { "\(origin)\n\(size)\n\(PublicBase64.encode(rootHash, .standard))\n" }

    /// Parses a checkpoint body (extension lines are allowed and ignored).
    init?(body: Substring) {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", !lines[0].isEmpty,
            let size = Int(lines[1]), size >= 0, String(size) == lines[1],
            let root = PublicBase64.decode(lines[2], .standard), root.count == 32
        else { return nil }
        self.init(origin: String(lines[0]), size: size, rootHash: root)
    }
}

/// The signing half of a note key: Ed25519 under a name.
public struct NoteSigner: Sendable {
    public let name: String
    let key: Ed25519SigningKey

    init(name: String, key: Ed25519SigningKey) {
        self.name = name
        self.key = key
    }

    public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: key.publicKey) }

    /// `body`, a blank line, and one signature line.
    public func sign(_ checkpoint: Checkpoint) -> String {
        let body = checkpoint.body
        let signature = key.signature(for: Array(body.utf8))
        return body + "\n— \(name) " + PublicBase64.encode(verifier.keyHash + signature, .standard) + "\n"
    }
}

/// The verifying half: `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
public struct NoteVerifier: Sendable, Equatable {
    public let name: String
    public let publicKey: Ed25519PublicKey

    /// First 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key): the key hash
    /// that signature lines start with.
    public var keyHash: [UInt8] {
        Array(SHA256.hash(Array(name.utf8) + [0x0A, 0x01] + publicKey.rawRepresentation).prefix(4))
    }

    /// The verifier key string that `audit public-key` prints.
    public var verifierKey: String {
        "\(name)+\(keyHash.hexString)+\(PublicBase64.encode([0x01] + publicKey.rawRepresentation, .standard))"
    }

    init(name: String, publicKey: Ed25519PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    /// Parses a verifier key string, checking that its key hash matches.
    public init?(verifierKey text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].count == 8,
            let raw = PublicBase64.decode(parts[2], .standard), raw.count == 33, raw[0] == 0x01,
            let key = try? Ed25519PublicKey(rawRepresentation: Array(raw[1...]))
        else { return nil }
        self.init(name: String(parts[0]), publicKey: key)
        guard keyHash.hexString == parts[1] else { return nil }
    }

    /// The checkpoint in `note` if a signature line by this key verifies.
    public func verify(note: String) -> Checkpoint? {
        guard let split = note.range(of: "\n\n") else { return nil }
        let body = note[..<split.lowerBound] + "\n"
        let signatures = note[split.upperBound...]
        guard let checkpoint = Checkpoint(body: body) else { return nil }
        let message = Array(body.utf8)
        for line in signatures.split(separator: "\n") {
            guard line.hasPrefix("— ") else { return nil }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, fields[0] == name, let blob = PublicBase64.decode(fields[1], .standard),
                blob.count == 4 + Ed25519SigningKey.signatureLength, Array(blob.prefix(4)) == keyHash
            else { continue }
            if publicKey.isValidSignature(Array(blob.dropFirst(4)), for: message) { return checkpoint }
        }
        return nil
    }
}

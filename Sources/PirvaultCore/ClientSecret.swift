import Foundation
import PirvaultCrypto

/// Where an instance's client secret comes from.
public enum SecretSource: Sendable {
    /// `bytes` random bytes from the CSPRNG, written URL-safe Base64 without padding.
    case generated(bytes: Int)
    /// A secret the user supplies (on stdin), kept only if it looks strong enough.
    case provided(String)

    public static let defaultByteCount = 32
    public static let minimumByteCount = 16
    public static let maximumByteCount = 256
    public static let minimumEntropyBits = 128.0

    /// The secret text, after the checks for its kind.
    func makeSecret() throws -> String {
        switch self {
        case .generated(let bytes):
            guard (Self.minimumByteCount...Self.maximumByteCount).contains(bytes) else {
                throw VaultError.invalidInput(
                    "--secret-length \(bytes) is out of range; use \(Self.minimumByteCount)–\(Self.maximumByteCount) bytes (16 bytes = 128 bits)")
            }
            let random = SecretBytes.random(count: bytes)
            return random.withUnsafeBytes { Base64.encode($0, .urlSafeNoPadding) }
        case .provided(let secret):
            try Self.checkProvided(secret)
            return secret
        }
    }

    /// A supplied secret: printable ASCII without spaces, at most 512
    /// characters, and at least 128 bits of estimated entropy.
    static func checkProvided(_ secret: String) throws {
        guard !secret.isEmpty else {
            throw VaultError.invalidInput("the secret on stdin is empty; pipe the secret into the command")
        }
        guard secret.utf8.count <= 512, secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw VaultError.invalidInput(
                "the secret on stdin must be 1–512 printable ASCII characters without spaces")
        }
        let bits = estimatedEntropyBits(secret)
        guard bits >= minimumEntropyBits else {
            throw VaultError.invalidInput(
                "the secret on stdin has about \(Int(bits)) bits of estimated entropy; at least \(Int(minimumEntropyBits)) are required — use a longer random secret, or let pirvault generate one")
        }
    }

    /// A conservative estimate: the smaller of (length × log2 of the character
    /// classes used) and (length × the empirical Shannon entropy per
    /// character), so repeated or patterned text scores low.
    static func estimatedEntropyBits(_ secret: String) -> Double {
        let bytes = Array(secret.utf8)
        guard !bytes.isEmpty else { return 0 }
        var pool = 0
        if bytes.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { pool += 26 }
        if bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { pool += 26 }
        if bytes.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) { pool += 10 }
        if bytes.contains(where: { !(($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39)) }) {
            pool += 32
        }
        let poolBits = Double(bytes.count) * log2(Double(max(pool, 1)))
        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes { counts[Int(byte)] += 1 }
        let n = Double(bytes.count)
        let shannonPerCharacter = counts.reduce(0.0) { sum, count in
            guard count > 0 else { return sum }
            let p = Double(count) / n
            return sum - p * log2(p)
        }
        return min(poolBits, shannonPerCharacter * n)
    }
}

/// Client ids in the cloud's shape: `sb-<uuid>!b<n>|<xsappname>`, the
/// xsappname being the tenant's for the instance's plan.
enum ClientID {
    static func generate(xsappname: String) -> String {
        let serviceBroker = SecureRandom.uniform(900_000) + 100_000
        return "sb-\(UUID().uuidString.lowercased())!b\(serviceBroker)|\(xsappname)"
    }

    /// The application name (`xsappname`) part of a client id: after the `|`,
    /// or the whole id when it has none. For instances made before the tenant
    /// model (`it-rt-<instance>!b<n>`) it is what their scopes were prefixed with.
    static func xsappname(of clientID: String) -> String {
        guard let bar = clientID.firstIndex(of: "|") else { return clientID }
        return String(clientID[clientID.index(after: bar)...])
    }
}

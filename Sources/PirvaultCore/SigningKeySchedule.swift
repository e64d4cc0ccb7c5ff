import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// The vault's published signing keys and when each signs, as one snapshot
/// of the store gives them. The key that signs at a moment is the one whose
/// activation has passed and whose retirement has not: a staged key is
/// published (`/token_keys`) before it signs, so that verifiers which cache
/// the key set already hold it when its first token arrives, and every node
/// switches to it at the same moment, the one stored with it.
public struct SigningKeySchedule: Sendable {
    /// One published key and its schedule.
    public struct Entry: Sendable {
        public let kid: String
        public let publicKey: TokenVerificationKey
        public let createdAt: Timestamp
        public let activatesAt: Timestamp
        public let retiredAt: Timestamp?
        public let publishedUntil: Timestamp?
        /// The key itself, for the entries that may still sign (nil for retired ones).
        let signer: SigningIdentity?

        public var algorithm: SigningAlgorithm { publicKey.algorithm }

        /// `active` (signs now), `next` (published, signs from `activatesAt`)
        /// or `retiring` (signs no more; published until its tokens have expired).
        public func state(at now: Timestamp) -> State {
            if now < activatesAt { return .next }
            if let retiredAt, retiredAt <= now { return .retiring }
            return .active
        }
    }

    public enum State: String, Sendable {
        case active, next, retiring
    }

    /// Newest activation first.
    public let entries: [Entry]

    /// No key at all (a cache before its first load).
    public static let none = SigningKeySchedule(entries: [])

    /// The key that signs tokens issued at `now`.
    public func signer(at now: Timestamp) -> SigningIdentity? {
        entries.first { $0.state(at: now) == .active }?.signer
    }

    /// The verification key of `kid`, if published.
    public func publicKey(kid: String) -> TokenVerificationKey? {
        entries.first { $0.kid == kid }?.publicKey
    }

    /// `/token_keys` (RFC 7517, each entry as XSUAA writes it, with `value`).
    public var jwks: JSONValue {
        .object([("keys", .array(entries.map(\.publicKey.jwk)))])
    }

    /// `keys jwks`: the same set, each entry with its state and schedule
    /// (members a JWK reader ignores, RFC 7517 §4).
    public func annotatedJWKS(at now: Timestamp) -> JSONValue {
        .object([
            (
                "keys",
                .array(
                    entries.map { entry in
                        guard case .object(let members) = entry.publicKey.jwk else { return entry.publicKey.jwk }
                        return .object(
                            members + [
                                ("state", .string(entry.state(at: now).rawValue)),
                                ("signs_from", .string(entry.activatesAt.rfc3339)),
                            ] + (entry.retiredAt.map { [("signs_until", .string($0.rfc3339))] } ?? [])
                                + (entry.publishedUntil.map { [("published_until", .string($0.rfc3339))] } ?? []))
                    })
            )
        ])
    }
}

extension Vault {
    /// The published keys from `tx`; the private key of each that may still
    /// sign is opened (a key that does not open is tampering).
    func signingKeySchedule(at now: Timestamp, in tx: any StoreReader) throws -> SigningKeySchedule {
        SigningKeySchedule(
            entries: try tx.publishedSigningKeys(at: now).map { record in
                let publicKey: TokenVerificationKey
                do {
                    publicKey = try TokenVerificationKey(algorithm: record.algorithm, storedRepresentation: record.publicKey)
                } catch {
                    throw VaultError.tampered("signing key \(record.kid) is damaged: its public key does not parse; restore the vault from a backup")
                }
                let mayStillSign = record.retiredAt.map { $0 > now } ?? true
                return SigningKeySchedule.Entry(
                    kid: record.kid, publicKey: publicKey, createdAt: record.createdAt, activatesAt: record.activatesAt,
                    retiredAt: record.retiredAt, publishedUntil: record.publishedUntil,
                    signer: mayStillSign ? SigningIdentity(key: try openSigningKey(record)) : nil)
            })
    }
}

/// What `keys rotate-signing` did.
public struct SigningKeyRotation: Sendable {
    public let kid: String
    public let algorithm: SigningAlgorithm
    /// When the new key starts signing (now, with `--publish-ahead 0s`).
    public let signsFrom: Timestamp
    /// The key it replaces, and until when that stays published.
    public let previous: (kid: String, publishedUntil: Timestamp)?
    /// A staged key that had not signed yet and was withdrawn for this one.
    public let withdrawn: String?

    /// One line for the audit row and the command's output.
    public var summary: String {
        var parts = ["new \(algorithm.rawValue) kid \(kid) signs from \(signsFrom.rfc3339)"]
        if let previous { parts.append("previous \(previous.kid) published until \(previous.publishedUntil.rfc3339)") }
        if let withdrawn { parts.append("staged kid \(withdrawn) withdrawn before it signed") }
        return parts.joined(separator: "; ")
    }
}

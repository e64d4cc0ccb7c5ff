/// The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) that pirvault signs
/// and verifies access tokens with. The raw value is the header's `alg`.
///
/// RS256 is what XSUAA signs and the only one SAP's Java library accepts;
/// ES256 is accepted by SAP's Python library; EdDSA is what vaults made
/// before RS256 existed sign with (no SAP library accepts it).
public enum SigningAlgorithm: String, CaseIterable, Sendable {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), through swift-crypto.
    case rs256 = "RS256"
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4), through swift-crypto.
    case es256 = "ES256"
    /// Ed25519 (RFC 8037), through libsodium.
    case edDSA = "EdDSA"

    /// The JWK `kty` (RFC 7518 §6.1, RFC 8037 §2) of this algorithm's keys.
    public var keyType: String {
        switch self {
        case .rs256: return "RSA"
        case .es256: return "EC"
        case .edDSA: return "OKP"
        }
    }
}

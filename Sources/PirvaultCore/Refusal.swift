/// Why a token may not be used. Every case has its own human-readable reason;
/// `isAuthentication` tells 401 (no usable credentials) from 403 (a valid
/// client that may not do this).
public enum Refusal: Error, Equatable, Sendable {
    case missingToken
    case malformed(String)
    case unsupportedAlgorithm(String)
    /// The header's `alg` is one pirvault signs with, but not its key's.
    case algorithmMismatch(alg: String, key: String)
    case unknownSigningKey
    case badSignature
    case wrongIssuer
    case otherVault
    case expired
    case notYetValid
    case tokenRevoked
    case unknownOpaqueToken
    case instanceGone
    case instanceRevoked
    case credentialsRevoked
    case secretRotatedOut
    case invalidFlowPath
    case apiPlan(instance: String)
    case missingRole(String)
    case flowNotAllowed(flow: String, instance: String)

    public var reason: String {
        switch self {
        case .missingToken: return "no access token was presented"
        case .malformed(let detail): return "malformed token: \(detail)"
        case .unsupportedAlgorithm(let alg):
            return "token algorithm '\(Validation.printable(alg))' is not accepted; only RS256, ES256 and EdDSA tokens from this vault are"
        case .algorithmMismatch(let alg, let key):
            return "token header says \(alg) but its key is \(key): refused without checking the signature"
        case .unknownSigningKey:
            return "token is signed with a key this vault does not publish (another issuer, or a retired key)"
        case .badSignature: return "token signature is invalid"
        case .wrongIssuer: return "token was issued by another issuer"
        case .otherVault: return "token was issued by another vault"
        case .expired: return "token has expired"
        case .notYetValid: return "token is not valid yet (issued in the future)"
        case .tokenRevoked: return "token has been revoked"
        case .unknownOpaqueToken: return "opaque token is unknown or has expired"
        case .instanceGone: return "the instance this token was issued to no longer exists"
        case .instanceRevoked: return "the instance this token was issued to is revoked"
        case .credentialsRevoked: return "the instance's credentials were revoked after this token was issued"
        case .secretRotatedOut: return "the client secret this token was obtained with has been rotated out"
        case .invalidFlowPath: return "invalid flow path: use /http/<path> without '.', '..' or empty segments"
        case .apiPlan(let instance):
            return "instance '\(instance)' has plan api: its tokens are for the management APIs and cannot call integration flows"
        case .missingRole(let role): return "token lacks the role '\(role)' that integration flows require"
        case .flowNotAllowed(let flow, let instance):
            return "flow \(flow) is not among the flows allowed for instance '\(instance)'"
        }
    }

    /// A fixed snake_case name for the reason, safe as a metric label.
    public var code: String {
        switch self {
        case .missingToken: return "missing_token"
        case .malformed: return "malformed"
        case .unsupportedAlgorithm: return "unsupported_algorithm"
        case .algorithmMismatch: return "algorithm_mismatch"
        case .unknownSigningKey: return "unknown_signing_key"
        case .badSignature: return "bad_signature"
        case .wrongIssuer: return "wrong_issuer"
        case .otherVault: return "other_vault"
        case .expired: return "expired"
        case .notYetValid: return "not_yet_valid"
        case .tokenRevoked: return "token_revoked"
        case .unknownOpaqueToken: return "unknown_opaque_token"
        case .instanceGone: return "instance_gone"
        case .instanceRevoked: return "instance_revoked"
        case .credentialsRevoked: return "credentials_revoked"
        case .secretRotatedOut: return "secret_rotated_out"
        case .invalidFlowPath: return "invalid_flow_path"
        case .apiPlan: return "api_plan"
        case .missingRole: return "missing_role"
        case .flowNotAllowed: return "flow_not_allowed"
        }
    }

    /// 401 when the credentials themselves are unusable; 403 when a valid
    /// client asks for something it may not do.
    public var isAuthentication: Bool {
        switch self {
        case .invalidFlowPath, .apiPlan, .missingRole, .flowNotAllowed: return false
        default: return true
        }
    }
}

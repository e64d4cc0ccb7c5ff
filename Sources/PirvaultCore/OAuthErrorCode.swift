/// The error codes the OAuth endpoints answer with (RFC 6749 §5.2), plus
/// `too_many_requests` for pirvault's limit on failed client
/// authentications (answered with 429 and `Retry-After`).
public enum OAuthErrorCode: String, Sendable {
    case invalidRequest = "invalid_request"
    /// Client authentication failed: 401 with `WWW-Authenticate`. The caller
    /// is never told why (unknown client, wrong secret, revoked, rotated out).
    case invalidClient = "invalid_client"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case invalidScope = "invalid_scope"
    case tooManyRequests = "too_many_requests"
}

extension OAuthErrorCode: CustomStringConvertible { public var description: String { rawValue } }

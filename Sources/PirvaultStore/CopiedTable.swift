/// One cell of a row as both backends store it: the four SQLite storage
/// classes, which PostgreSQL's int2/int4/int8, text and bytea map onto.
public enum StoreValue: Sendable, Equatable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// The tables `vault copy` moves row by row, each with its columns, listed
/// once for both backends (their schemas use the same names). `allCases` is
/// in insertion order: parents before the rows that reference them. The
/// header (vault key epoch included) is not here: the copy's create step
/// writes it. Neither are `state_version` (a cache counter) and
/// `authentication_failures` (the rate limiter's counts, deleted after minutes):
/// a copy starts them afresh.
public enum CopiedTable: String, CaseIterable, Sendable {
    case customers
    case instances
    case credentials
    case revokedTokens = "revoked_tokens"
    case opaqueTokens = "opaque_tokens"
    case signingKeys = "signing_keys"
    case auditSigningKey = "audit_signing_key"
    case auditEvents = "audit_events"
    case auditCheckpoints = "audit_checkpoints"
    case vaultKeyLinks = "vault_key_links"

    /// The table's SQL name.
    public var name: String { rawValue }

    /// Every column, in the order `forEachRow` yields and `insertRows` takes them.
    public var columns: [String] {
        switch self {
        case .customers: ["id", "name", "created_at"]
        case .instances:
            [
                "id", "name", "customer_id", "clientid", "plan", "roles", "grant_types", "redirect_uris", "flows",
                "token_ttl", "token_format", "url", "tokenurl", "origin", "status", "credential_generation",
                "sealed_data_key", "created_at", "updated_at",
            ]
        case .credentials: ["id", "instance_id", "sealed_secret", "verifier", "created_at", "expires_at_us"]
        case .revokedTokens: ["jti", "instance_id", "revoked_at_us", "expires_at_us"]
        case .opaqueTokens:
            [
                "token_hash", "jti", "instance_id", "credential_id", "credential_generation", "scope", "issued_at_us",
                "expires_at_us",
            ]
        case .signingKeys:
            [
                "id", "kid", "algorithm", "public_key", "sealed_private_key", "created_at_us", "activates_at_us",
                "retired_at_us", "published_until_us",
            ]
        case .auditSigningKey: ["singleton", "public_key", "sealed_private_key", "created_at_us"]
        case .auditEvents:
            [
                "seq", "time_us", "event", "outcome", "reason", "customer", "instance", "clientid", "flow", "method",
                "status", "remote_addr", "request_id", "latency_us", "jti", "canonical", "leaf_hash",
            ]
        case .auditCheckpoints: ["tree_size", "root_hash", "frontier", "note", "created_at_us"]
        case .vaultKeyLinks: ["epoch", "sealed_key", "created_at_us"]
        }
    }

    /// The primary key (the first column): rows are read in its order, so
    /// audit events come in seq order and a reader can page by it.
    public var key: String { columns[0] }

    /// Whether `id` is an identity column whose next value must follow the
    /// copied ids (PostgreSQL; SQLite's AUTOINCREMENT follows by itself).
    package var hasIdentity: Bool { key == "id" }

    /// `SELECT <columns> FROM <table>`, for both backends.
    package var selectSQL: String { "SELECT \(columns.joined(separator: ", ")) FROM \(name)" }
}

/// What an audit event records. The raw value is the `event` name the log,
/// its exports and `audit list --event` carry; a stored name that no
/// pirvault writes is a damaged (or altered) row.
public enum AuditEventType: String, CaseIterable, Sendable {
    case vaultInit = "vault.init"
    case vaultUnlock = "vault.unlock"
    case vaultCopy = "vault.copy"
    /// The tenant's subdomain was chosen (once) for a vault made before the tenant model.
    case vaultSetSubdomain = "vault.set_subdomain"
    case instanceCreate = "instance.create"
    case instanceImport = "instance.import"
    /// A service key (with its secret) was shown again.
    case instanceKey = "instance.key"
    case instanceUpdate = "instance.update"
    case instanceDelete = "instance.delete"
    case credentialsRotate = "credentials.rotate"
    case credentialsRevoke = "credentials.revoke"
    case tokenIssue = "token.issue"
    case tokenVerify = "token.verify"
    case tokenRevoke = "token.revoke"
    case tokenIntrospect = "token.introspect"
    /// A vault older than signing keys got its first one.
    case keysSigningCreated = "keys.signing_created"
    case keysRotateSigning = "keys.rotate_signing"
    case keysChangeUnlock = "keys.change_unlock"
    case keysRotateVaultKey = "keys.rotate_vault_key"
    case auditExport = "audit.export"
    case auditReport = "audit.report"
    case auditPrune = "audit.prune"
    /// A call of a flow through the gateway.
    case gatewayCall = "gateway.call"
    /// A reverse proxy's sub-request (`GET /authorize`).
    case gatewayAuthorize = "gateway.authorize"
}

/// How an audited request or change ended.
public enum AuditOutcome: String, CaseIterable, Sendable {
    case allowed
    case denied
    case error
}

extension AuditEventType: CustomStringConvertible { public var description: String { rawValue } }
extension AuditOutcome: CustomStringConvertible { public var description: String { rawValue } }

extension RawRepresentable where RawValue == String, Self: CaseIterable {
    /// Decodes a stored audit cell; an unknown value means the row was
    /// altered or written by a newer pirvault, reported as `StoreError.corrupt`.
    package static func stored(_ text: String, column: String, seq: Int64) throws -> Self {
        guard let value = Self(rawValue: text) else {
            throw StoreError.corrupt(what: "the audit event at index \(seq) has an unknown \(column); run 'pirvault audit verify'")
        }
        return value
    }
}

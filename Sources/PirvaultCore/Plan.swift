import PirvaultStore

/// A service plan sets the roles an instance may hold and its default token
/// lifetime. The enums themselves live in PirvaultStore, so records carry them.
extension Plan {
    public var defaultRoles: [String] {
        switch self {
        case .integrationFlow: return ["ESBMessaging.send"]
        case .api: return ["WorkspacePackagesRead", "MonitoringDataRead"]
        }
    }

    /// Seconds.
    public var defaultTokenTTL: Int {
        switch self {
        case .integrationFlow: return 3600
        case .api: return 43200
        }
    }

    /// Patterns an instance of this plan may call when none are given:
    /// integration-flow senders may call every flow, as in the cloud.
    public var defaultFlows: [String] {
        switch self {
        case .integrationFlow: return ["*"]
        case .api: return []
        }
    }

    /// The roles this plan offers (the cloud's role templates).
    public var knownRoles: [String] {
        switch self {
        case .integrationFlow:
            return ["ESBMessaging.send"]
        case .api:
            return [
                "AccessPoliciesEdit", "AccessPoliciesRead", "AuthGroup_Administrator", "AuthGroup_BusinessExpert",
                "AuthGroup_IntegrationDeveloper", "AuthGroup_ReadOnly", "AuthGroup_TenantPartnerDirectoryConfigurator",
                "CredentialsEdit", "CredentialsRead", "ESBDataStore.delete", "ESBDataStore.read",
                "MessagePayloadsRead", "MonitoringArtifactsDeploy", "MonitoringDataRead", "NodeManager.read",
                "TraceConfigurationEdit", "TraceConfigurationRead", "WorkspaceArtifactsDeploy",
                "WorkspacePackagesConfigure", "WorkspacePackagesEdit", "WorkspacePackagesRead",
                "WorkspacePackagesTransport",
            ]
        }
    }

    /// Checks each role against this plan.
    func validate(roles: [String]) throws {
        guard !roles.isEmpty else {
            throw VaultError.invalidInput("an instance needs at least one role; plan \(rawValue) offers: \(knownRoles.joined(separator: ", "))")
        }
        for role in roles where !knownRoles.contains(role) {
            throw VaultError.invalidInput(
                "unknown role '\(Validation.printable(role))' for plan \(rawValue); use one of: \(knownRoles.joined(separator: ", "))")
        }
    }
}

extension GrantType {
    public init(parsing text: String) throws {
        guard let grant = GrantType(rawValue: text) else {
            throw VaultError.invalidInput(
                "unknown grant type '\(Validation.printable(text))'; use one of: \(GrantType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = grant
    }
}

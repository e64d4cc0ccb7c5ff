/// A service plan of the Process Integration Runtime, which sets the roles an
/// instance may hold and its default token lifetime.
public enum Plan: String, CaseIterable, Sendable {
    /// Senders calling integration-flow endpoints.
    case integrationFlow = "integration-flow"
    /// Clients of the management APIs.
    case api

    public init(parsing text: String) throws {
        guard let plan = Plan(rawValue: text) else {
            throw VaultError.invalidInput(
                "unknown plan '\(text)'; use one of: \(Plan.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = plan
    }

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

/// OAuth 2.0 grant types an instance may use.
public enum GrantType: String, CaseIterable, Sendable {
    case clientCredentials = "client_credentials"
    /// Lets the client id and secret be used as HTTP Basic credentials on flow endpoints.
    case password
    case refreshToken = "refresh_token"
    /// Needs redirect URIs.
    case authorizationCode = "authorization_code"

    public init(parsing text: String) throws {
        guard let grant = GrantType(rawValue: text) else {
            throw VaultError.invalidInput(
                "unknown grant type '\(Validation.printable(text))'; use one of: \(GrantType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = grant
    }
}

/// The kind of access token an instance receives.
public enum TokenFormat: String, CaseIterable, Sendable {
    case jwt
    case opaque

    public init(parsing text: String) throws {
        guard let format = TokenFormat(rawValue: text) else {
            throw VaultError.invalidInput("unknown token format '\(Validation.printable(text))'; use jwt or opaque")
        }
        self = format
    }
}

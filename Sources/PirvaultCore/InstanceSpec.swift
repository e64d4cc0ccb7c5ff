import PirvaultStore

/// What `instance create` asks for. Nil fields take the plan's defaults.
public struct InstanceSpec: Sendable {
    public var name: String
    public var customer: String
    public var plan: Plan
    public var roles: [String]?
    public var grantTypes: [GrantType]?
    public var redirectURIs: [String]
    public var flows: [String]?
    public var tokenTTL: Int?
    public var tokenFormat: TokenFormat
    public var secret: SecretSource
    public var url: String?
    public var tokenURL: String?

    public init(
        name: String, customer: String, plan: Plan = .integrationFlow, roles: [String]? = nil,
        grantTypes: [GrantType]? = nil, redirectURIs: [String] = [], flows: [String]? = nil, tokenTTL: Int? = nil,
        tokenFormat: TokenFormat = .jwt, secret: SecretSource = .generated(bytes: SecretSource.defaultByteCount),
        url: String? = nil, tokenURL: String? = nil
    ) {
        self.name = name
        self.customer = customer
        self.plan = plan
        self.roles = roles
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
        self.flows = flows
        self.tokenTTL = tokenTTL
        self.tokenFormat = tokenFormat
        self.secret = secret
        self.url = url
        self.tokenURL = tokenURL
    }
}

/// What `instance update` changes. Empty lists and nil fields change nothing;
/// `roles`, `grantTypes` and `redirectURIs` replace the instance's whole list
/// (as instance parameters do).
public struct InstanceChanges: Sendable {
    public var roles: [String]?
    public var grantTypes: [GrantType]?
    public var redirectURIs: [String]?
    public var addRoles: [String] = []
    public var removeRoles: [String] = []
    public var addFlows: [String] = []
    public var removeFlows: [String] = []
    public var addGrantTypes: [GrantType] = []
    public var removeGrantTypes: [GrantType] = []
    public var addRedirectURIs: [String] = []
    public var removeRedirectURIs: [String] = []
    public var plan: Plan?
    public var tokenTTL: Int?
    public var tokenFormat: TokenFormat?
    public var url: String?
    public var tokenURL: String?

    public init() {}

    public var isEmpty: Bool {
        roles == nil && grantTypes == nil && redirectURIs == nil && addRoles.isEmpty && removeRoles.isEmpty && addFlows.isEmpty && removeFlows.isEmpty && addGrantTypes.isEmpty
            && removeGrantTypes.isEmpty && addRedirectURIs.isEmpty && removeRedirectURIs.isEmpty && plan == nil
            && tokenTTL == nil && tokenFormat == nil && url == nil && tokenURL == nil
    }
}

/// The settings every instance must satisfy together, whether created,
/// imported or updated.
struct InstanceSettings {
    var plan: Plan
    var roles: [String]
    var grantTypes: [GrantType]
    var redirectURIs: [String]
    var flows: [String]
    var tokenTTL: Int
    var url: String
    var tokenURL: String

    func validate() throws {
        try plan.validate(roles: roles)
        guard !grantTypes.isEmpty else {
            throw VaultError.invalidInput("an instance needs at least one grant type (client_credentials is the usual one)")
        }
        if plan == .api && grantTypes.contains(.password) {
            throw VaultError.invalidInput(
                "plan api instances cannot use the password grant type (it lets a client call integration flows with its secret); drop it or use plan integration-flow")
        }
        let wantsCode = grantTypes.contains(.authorizationCode)
        if wantsCode && redirectURIs.isEmpty {
            throw VaultError.invalidInput("the authorization_code grant type needs at least one --redirect-uri")
        }
        if !wantsCode && !redirectURIs.isEmpty {
            throw VaultError.invalidInput(
                "redirect URIs are used only with the authorization_code grant type; add --grant-type authorization_code or drop them")
        }
        for uri in redirectURIs { try Validation.redirectURI(uri) }
        if plan == .api && !flows.isEmpty {
            throw VaultError.invalidInput("plan api instances cannot call integration flows; drop the flow patterns or use plan integration-flow")
        }
        try Validation.tokenTTL(tokenTTL)
        try Validation.serviceURL(url, what: "url")
        try Validation.serviceURL(tokenURL, what: "token URL")
    }
}

import PirvaultCrypto
import PirvaultStore

/// What issuing and authorizing need to know about one instance: a snapshot,
/// so a server can keep it in memory and the CLI can read it per call.
public struct ClientState: Sendable {
    public struct Credential: Sendable {
        public let id: Int64
        let verifier: [UInt8]
        /// nil while current; else the end of its grace period.
        public let expiresAt: Timestamp?

        func isValid(at now: Timestamp) -> Bool { expiresAt.map { now < $0 } ?? true }
    }

    public let instanceID: Int64
    public let name: String
    public let customer: String
    public let clientID: String
    public let plan: Plan
    public let roles: [String]
    public let grantTypes: [GrantType]
    public let flows: [String]
    public let tokenTTL: Int
    public let tokenFormat: TokenFormat
    public let status: InstanceStatus
    public let credentialGeneration: Int64
    public let credentials: [Credential]
    /// The tenant's xsappname for this client's plan: its tokens' audience
    /// and the prefix of their scopes.
    public let xsappname: String
    /// The xsappname in the client id, when it differs (an instance made
    /// before the tenant model): scopes requested with it are still granted.
    let clientIDXsappname: String?
    /// The tenant's subdomain (`ext_attr.zdn` in tokens).
    public let subdomain: String

    public init(record: InstanceRecord, credentials: [CredentialRecord], tenant: Tenant) {
        instanceID = record.id
        name = record.name
        customer = record.customer
        clientID = record.clientID
        plan = record.plan
        roles = record.roles
        grantTypes = record.grantTypes
        flows = record.flows
        tokenTTL = record.tokenTTL
        tokenFormat = record.tokenFormat
        status = record.status
        credentialGeneration = record.credentialGeneration
        self.credentials = credentials.map { Credential(id: $0.id, verifier: $0.verifier, expiresAt: $0.expiresAt) }
        xsappname = tenant.xsappname(for: record.plan)
        let own = ClientID.xsappname(of: record.clientID)
        clientIDXsappname = own == xsappname ? nil : own
        subdomain = tenant.subdomain
    }
    public var isActive: Bool { status == .active }

    /// Every role as a scope (`<xsappname>.<role>`): what a client holds when
    /// it authenticates with its secret directly (HTTP Basic on the gateway).
    public var fullScope: [String] { roles.map { xsappname + "." + $0 } }

    /// The id of the valid credential whose verifier equals `tag`. Every
    /// credential is compared, in constant time, whatever matches first.
    func credential(matching tag: [UInt8], at now: Timestamp) -> Int64? {
        var match: Int64? = nil
        for credential in credentials where constantTimeEquals(credential.verifier, tag) && credential.isValid(at: now) {
            match = match ?? credential.id
        }
        return match
    }

    func isCredentialValid(id: Int64, at now: Timestamp) -> Bool {
        credentials.contains { $0.id == id && $0.isValid(at: now) }
    }
}

import PirvaultJSON
import PirvaultStore

/// What `instance show` and `instance list` tell about an instance: everything
/// but its secrets.
public struct Instance: Sendable, Equatable {
    public let name: String
    public let customer: String
    public let clientID: String
    public let plan: Plan
    public let roles: [String]
    public let grantTypes: [GrantType]
    public let redirectURIs: [String]
    public let flows: [String]
    public let tokenTTL: Int
    public let tokenFormat: TokenFormat
    public let status: InstanceStatus
    public let url: String
    public let tokenURL: String
    public let origin: String
    public let createdAt: String
    public let updatedAt: String

    init(_ record: InstanceRecord) {
        name = record.name
        customer = record.customer
        clientID = record.clientID
        plan = record.plan
        roles = record.roles
        grantTypes = record.grantTypes
        redirectURIs = record.redirectURIs
        flows = record.flows
        tokenTTL = record.tokenTTL
        tokenFormat = record.tokenFormat
        status = record.status
        url = record.url
        tokenURL = record.tokenURL
        origin = record.origin
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }

    /// The snake_case object that `--json` prints (README, Command reference).
    public var jsonObject: JSONValue {
        .object([
            ("name", .string(name)),
            ("customer", .string(customer)),
            ("clientid", .string(clientID)),
            ("plan", .string(plan.rawValue)),
            ("roles", JSONValue(roles)),
            ("grant_types", JSONValue(grantTypes.map(\.rawValue))),
            ("redirect_uris", JSONValue(redirectURIs)),
            ("flows", JSONValue(flows)),
            ("token_ttl", .integer(Int64(tokenTTL))),
            ("token_format", .string(tokenFormat.rawValue)),
            ("status", .string(status.rawValue)),
            ("url", .string(url)),
            ("tokenurl", .string(tokenURL)),
            ("origin", .string(origin)),
            ("created_at", .string(createdAt)),
            ("updated_at", .string(updatedAt)),
        ])
    }
}

import PirvaultCrypto
import PirvaultStore

/// The tenant a vault is (one subaccount, in the cloud's words): its
/// subdomain, and the two xsappnames of its Process Integration Runtime,
/// `it-rt-<subdomain>!b<n>` (the runtime, shared by every integration-flow
/// instance) and `it!b<n>` (management, for api-plan instances). A token's
/// `aud` holds the xsappname of its instance's plan and its scopes are
/// `<xsappname>.<role>`, so one receiving application bound to the runtime
/// accepts every customer's flow token and no api-plan token, as in the cloud.
public struct Tenant: Sendable, Equatable {
    public let subdomain: String
    /// The n of `!b<n>`, fixed per vault.
    public let appIndex: Int64

    public init(subdomain: String, appIndex: Int64) {
        self.subdomain = subdomain
        self.appIndex = appIndex
    }

    init(_ header: VaultHeaderRecord) {
        self.init(subdomain: header.subdomain, appIndex: header.appIndex)
    }

    /// The xsappname of integration-flow instances.
    public var runtimeXsappname: String { "it-rt-\(subdomain)!b\(appIndex)" }
    /// The xsappname of api-plan instances.
    public var managementXsappname: String { "it!b\(appIndex)" }

    public func xsappname(for plan: Plan) -> String {
        switch plan {
        case .integrationFlow: runtimeXsappname
        case .api: managementXsappname
        }
    }

    /// A new tenant: `subdomain` as chosen, and a random n as the cloud assigns one.
    static func new(subdomain: String) throws -> Tenant {
        try validate(subdomain: subdomain)
        return Tenant(subdomain: subdomain, appIndex: 10_000 + Int64(SecureRandom.uniform(90_000)))
    }

    /// A subdomain is lower-case letters, digits and `-` (not first or last),
    /// at most 63 characters: what the cloud allows, and what fits in a host name.
    public static func validate(subdomain: String) throws {
        let allowed = subdomain.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard !subdomain.isEmpty, subdomain.utf8.count <= 63, allowed, subdomain.first != "-", subdomain.last != "-" else {
            throw VaultError.invalidInput(
                "subdomain '\(Validation.printable(subdomain))' is not valid; use 1-63 lower-case letters, digits and '-' (not first or last), such as acme-prod")
        }
    }
}

extension StoreReader {
    /// The tenant as the header says now.
    func tenant() throws -> Tenant { Tenant(try header()) }
}

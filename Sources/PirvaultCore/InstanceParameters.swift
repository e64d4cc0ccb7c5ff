import PirvaultJSON

/// The instance parameters JSON that the cloud cockpit and
/// `cf create-service -c` / `cf update-service -c` take:
/// `{"roles": [...], "grant-types": [...], "redirect-uris": [...]}`, each
/// member optional. A list it names is the instance's whole list, the same
/// as giving it with flags; the values go through the same checks as flags
/// (`InstanceSettings.validate`).
public struct InstanceParameters: Sendable, Equatable {
    public var roles: [String]?
    public var grantTypes: [GrantType]?
    public var redirectURIs: [String]?

    /// Instance parameters are a few lines; anything larger is not one.
    public static let maximumSize = 64 << 10
    static let members = ["roles", "grant-types", "redirect-uris"]

    public init(roles: [String]? = nil, grantTypes: [GrantType]? = nil, redirectURIs: [String]? = nil) {
        self.roles = roles
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
    }

    /// Parses the JSON; every problem is a `VaultError.invalidInput` naming the member.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumSize else {
            throw VaultError.invalidInput("the instance parameters are larger than 64 KiB; that is not an instance parameters file")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch let error as JSONParseError {
            throw VaultError.invalidInput("the instance parameters are not valid JSON (\(error.description))")
        }
        guard case .object(let members) = document else {
            throw VaultError.invalidInput(
                "the instance parameters must be a JSON object such as {\"roles\": [...], \"grant-types\": [...], \"redirect-uris\": [...]}")
        }
        for (key, _) in members where !Self.members.contains(key) {
            throw VaultError.invalidInput(
                "unknown instance parameter '\(Validation.printable(key))'; use \(Self.members.joined(separator: ", "))")
        }
        func strings(_ key: String) throws -> [String]? {
            guard let value = document[key] else { return nil }
            guard let strings = value.stringArray else {
                throw VaultError.invalidInput("the instance parameter '\(key)' must be an array of strings")
            }
            return strings
        }
        roles = try strings("roles")
        grantTypes = try strings("grant-types")?.map(GrantType.init(parsing:))
        redirectURIs = try strings("redirect-uris")
    }

    /// Adds the parameters to what flags asked for. A list given both ways is
    /// refused rather than guessed at.
    public func apply(to spec: inout InstanceSpec) throws {
        if let roles {
            try Self.refuseBoth("roles", "--role", spec.roles != nil)
            spec.roles = roles
        }
        if let grantTypes {
            try Self.refuseBoth("grant-types", "--grant-type", spec.grantTypes != nil)
            spec.grantTypes = grantTypes
        }
        if let redirectURIs {
            try Self.refuseBoth("redirect-uris", "--redirect-uri", !spec.redirectURIs.isEmpty)
            spec.redirectURIs = redirectURIs
        }
    }

    /// Adds the parameters to an update: each list given replaces the
    /// instance's. Adding to or removing from that same list with flags too
    /// is refused.
    public func apply(to changes: inout InstanceChanges) throws {
        if let roles {
            try Self.refuseBoth("roles", "--add-role/--remove-role", !changes.addRoles.isEmpty || !changes.removeRoles.isEmpty)
            changes.roles = roles
        }
        if let grantTypes {
            try Self.refuseBoth(
                "grant-types", "--add-grant-type/--remove-grant-type",
                !changes.addGrantTypes.isEmpty || !changes.removeGrantTypes.isEmpty)
            changes.grantTypes = grantTypes
        }
        if let redirectURIs {
            try Self.refuseBoth(
                "redirect-uris", "--add-redirect-uri/--remove-redirect-uri",
                !changes.addRedirectURIs.isEmpty || !changes.removeRedirectURIs.isEmpty)
            changes.redirectURIs = redirectURIs
        }
    }

    private static func refuseBoth(_ member: String, _ flags: String, _ flagsGiven: Bool) throws {
        guard !flagsGiven else {
            throw VaultError.invalidInput(
                "'\(member)' is given both in --parameters and with \(flags); give that list one way only")
        }
    }
}

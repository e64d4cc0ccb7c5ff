/// The fixed-choice settings of an instance, as stored. Each raw value is the
/// exact string of the README's Command reference that the vault, service keys and JSON output
/// carry; rows are decoded into these once, where they are read.

/// A service plan of the Process Integration Runtime (its behaviour lives in
/// PirvaultCore's `Plan` extension).
public enum Plan: String, CaseIterable, Sendable {
    /// Senders calling integration-flow endpoints.
    case integrationFlow = "integration-flow"
    /// Clients of the management APIs.
    case api
}

/// OAuth 2.0 grant types an instance may use.
public enum GrantType: String, CaseIterable, Sendable {
    case clientCredentials = "client_credentials"
    /// Lets the client id and secret be used as HTTP Basic credentials on flow endpoints.
    case password
    case refreshToken = "refresh_token"
    /// Needs redirect URIs.
    case authorizationCode = "authorization_code"
}

/// The kind of access token an instance receives.
public enum TokenFormat: String, CaseIterable, Sendable {
    case jwt
    case opaque
}

/// Whether an instance's secrets and tokens work.
public enum InstanceStatus: String, CaseIterable, Sendable {
    case active
    /// `credentials revoke` ended every secret and token; it stays revoked.
    case revoked
}

// Messages and audit reasons name the stored string, not the Swift case.
extension Plan: CustomStringConvertible { public var description: String { rawValue } }
extension GrantType: CustomStringConvertible { public var description: String { rawValue } }
extension TokenFormat: CustomStringConvertible { public var description: String { rawValue } }
extension InstanceStatus: CustomStringConvertible { public var description: String { rawValue } }

extension RawRepresentable where RawValue == String, Self: CaseIterable {
    /// Decodes a stored value; an unknown one means the row was altered or
    /// written by a newer pirvault, reported as `StoreError.corrupt`.
    package static func stored(_ text: String, column: String, instance: String) throws -> Self {
        guard let value = Self(rawValue: text) else {
            throw StoreError.corrupt(what: "instance \(instance) has an unknown \(column) value")
        }
        return value
    }
}

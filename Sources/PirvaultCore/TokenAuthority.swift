import PirvaultCrypto
import PirvaultJSON
import PirvaultStore
import Synchronization

/// Where authorization reads the vault's state: the store for the CLI, a
/// cache for the server. Lookups may throw (storage failure); refusals never do.
public protocol AuthorizationState {
    func client(clientID: String) throws -> ClientState?
    func client(instanceID: Int64) throws -> ClientState?
    func isRevoked(jti: String) throws -> Bool
    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord?
    /// The published key `kid` names, of whichever algorithm, or nil.
    func publicKey(kid: String) throws -> TokenVerificationKey?
}

/// JWTs whose signature and claims were already checked, so a server
/// verifies each token's signature once rather than on every call.
/// Only the parsing and signature result is kept: expiry, revocation and the
/// instance's state are checked on every decision. Clear it whenever the
/// published keys may have changed.
public final class VerifiedSignatures: Sendable {
    private let entries = Mutex<[String: TokenClaims]>([:])
    private let capacity: Int

    public init(capacity: Int = 50_000) { self.capacity = capacity }

    func claims(for token: String) -> TokenClaims? { entries.withLock { $0[token] } }

    func remember(_ claims: TokenClaims, for token: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }

    public func removeAll() { entries.withLock { $0.removeAll(keepingCapacity: true) } }
}

/// The key that signs new tokens, and its kid (the RFC 7638 thumbprint of
/// its public key).
public struct SigningIdentity: Sendable {
    public let kid: String
    let key: TokenSigningKey

    /// The header `alg` of the tokens it signs.
    public var algorithm: SigningAlgorithm { key.algorithm }

    /// Signs with `key`, under its thumbprint as kid.
    public init(key: TokenSigningKey) {
        self.key = key
        kid = key.publicKey.thumbprint
    }
}

/// A token that passed every check of `TokenAuthority.verify`.
public struct VerifiedToken: Sendable {
    public let clientID: String
    public let scope: [String]
    public let expiresAt: Int64
    public let jti: String
    public let client: ClientState
}

/// The outcome of the one authorization decision shared by `token verify`,
/// introspection and the flow gateway.
public struct AccessDecision: Sendable {
    public let refusal: Refusal?
    /// The token, when it is valid (a flow may still be refused).
    public let token: VerifiedToken?
    /// The instance and token id the presented token names, refused or not,
    /// once its signature (or opaque record) proves it is this vault's: so
    /// that a denial is audited under the client that made it.
    public let client: ClientState?
    public let jti: String?

    init(refusal: Refusal?, token: VerifiedToken) {
        self.refusal = refusal
        self.token = token
        client = token.client
        jti = token.jti
    }

    init(_ denial: Denial) {
        refusal = denial.refusal
        token = nil
        client = denial.client
        jti = denial.jti
    }

    public var isAllowed: Bool { refusal == nil }
    public var httpStatus: Int { refusal.map { $0.isAuthentication ? 401 : 403 } ?? 200 }
    public var reason: String { refusal?.reason ?? "allowed" }

    /// `token verify --json`: active, reason, client_id, customer, instance, scope, exp, jti.
    public var jsonObject: JSONValue {
        .object(omittingNils: [
            ("active", .bool(isAllowed)),
            ("reason", .string(reason)),
            ("client_id", token.map { .string($0.clientID) }),
            ("customer", token.map { .string($0.client.customer) }),
            ("instance", token.map { .string($0.client.name) }),
            ("scope", token.map { .string($0.scope.joined(separator: " ")) }),
            ("exp", token.map { .integer($0.expiresAt) }),
            ("jti", token.map { .string($0.jti) }),
        ])
    }
}

/// A refused token, with the instance and token id it names when the vault
/// could tell (its signature or opaque record checked out).
struct Denial: Error {
    let refusal: Refusal
    var client: ClientState? = nil
    var jti: String? = nil

    init(_ refusal: Refusal, client: ClientState? = nil, jti: String? = nil) {
        self.refusal = refusal
        self.client = client
        self.jti = jti
    }
}

/// A client_credentials request.
public struct TokenRequest: Sendable {
    public var clientID: String
    public var secret: String
    /// Bare roles or full `<xsappname>.<role>` scopes; empty asks for all roles.
    public var scopes: [String]
    public var format: TokenFormat?
    public var grantType: String

    public init(
        clientID: String, secret: String, scopes: [String] = [], format: TokenFormat? = nil,
        grantType: String = GrantType.clientCredentials.rawValue
    ) {
        self.clientID = clientID
        self.secret = secret
        self.scopes = scopes
        self.format = format
        self.grantType = grantType
    }
}

/// A refused token request: the RFC 6749 §5.2 error code, a specific reason
/// for the audit trail and the operator, and the client it concerned if known.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    /// Why client credentials were not accepted, as a fixed snake_case name (a safe metric label).
    public enum AuthenticationFailure: String, Sendable {
        case unknownClient = "unknown_client"
        case wrongSecret = "wrong_secret"
        case instanceRevoked = "instance_revoked"
        case secretRotatedOut = "secret_rotated_out"
    }

    public let code: OAuthErrorCode
    public let reason: String
    public let client: ClientState?
    /// Set when the client's credentials were not accepted (what the failed-authentication limit counts).
    public let authenticationFailure: AuthenticationFailure?

    public var description: String { "\(code): \(reason)" }

    public init(code: OAuthErrorCode, reason: String, client: ClientState?, authenticationFailure: AuthenticationFailure? = nil) {
        self.code = code
        self.reason = reason
        self.client = client
        self.authenticationFailure = authenticationFailure
    }

    static func invalidClient(_ failure: AuthenticationFailure, _ reason: String, client: ClientState?) -> TokenError {
        TokenError(code: .invalidClient, reason: reason, client: client, authenticationFailure: failure)
    }

    /// What an unauthenticated caller is told: client authentication failures
    /// are not told apart, so they reveal nothing about the instance.
    public var publicDescription: String { code == .invalidClient ? "client authentication failed" : reason }
}

/// A token that was issued.
public struct IssuedToken: Sendable {
    public let accessToken: String
    public let expiresIn: Int
    public let scope: [String]
    public let jti: String
    public let format: TokenFormat
    public let client: ClientState
    /// For opaque tokens: the record to store (only the token's hash).
    public let opaqueRecord: OpaqueTokenRecord?

    /// The token endpoint's 200 response (RFC 6749 §5.1).
    public var jsonObject: JSONValue {
        .object([
            ("access_token", .string(accessToken)), ("token_type", .string("bearer")),
            ("expires_in", .integer(Int64(expiresIn))), ("scope", .string(scope.joined(separator: " "))),
            ("jti", .string(jti)),
        ])
    }
}

/// The answer to a token request and its `token.issue` audit event: what
/// the CLI (`token issue`) and the server (`POST /oauth/token`) both record.
public struct TokenAnswer: Sendable {
    public let result: Result<IssuedToken, TokenError>
    /// The transport fields (method, status, address, request id, latency) are the server's to add.
    public var event: AuditEvent

    /// `presentedClientID`: the client id the caller sent, recorded (made
    /// safe) when it names no instance.
    public init(_ result: Result<IssuedToken, TokenError>, presentedClientID: String?, at time: Timestamp) {
        self.result = result
        switch result {
        case .success(let token):
            event = AuditEvent(
                time: time, event: .tokenIssue, outcome: .allowed,
                reason: "scope \(token.scope.joined(separator: " ")); \(token.format.rawValue)",
                customer: token.client.customer, instance: token.client.name, clientID: token.client.clientID,
                jti: token.jti)
        case .failure(let error):
            event = AuditEvent(
                time: time, event: .tokenIssue, outcome: .denied, reason: "\(error.code): \(error.reason)",
                customer: error.client?.customer, instance: error.client?.name,
                clientID: error.client?.clientID ?? presentedClientID.map(AuditEvent.untrusted))
        }
    }
}

/// Issues and verifies this vault's access tokens. Pure given its inputs:
/// the state to consult and the time are passed in.
public struct TokenAuthority: Sendable {
    public static let defaultIssuer = "http://127.0.0.1:8080"
    /// Integration flows require this role, as in the cloud.
    public static let flowRole = "ESBMessaging.send"
    static let opaqueContext = "pirvault/v1 opaque-token"
    static let clockSkewSeconds: Int64 = 60

    /// The public base URL, e.g. `https://pirvault.example.com`.
    public let issuer: String
    public let vaultID: String
    let verifier: SecretVerifier

    public var issuerClaim: String { issuer + "/oauth/token" }
    public var jwksURL: String { issuer + "/token_keys" }

    // MARK: Issuing

    /// Checks a client's secret (constant time) and status: the client
    /// authentication of the token, introspection and revocation endpoints.
    public func authenticate(clientID: String, secret: String, client: ClientState?, now: Timestamp) -> Result<ClientState, TokenError> {
        authenticatedCredential(clientID: clientID, secret: secret, client: client, now: now).map(\.client)
    }

    /// `authenticate`, also naming the credential (secret) that matched. The
    /// tag is computed even for an unknown client, so timing does not tell them apart.
    private func authenticatedCredential(
        clientID: String, secret: String, client: ClientState?, now: Timestamp
    ) -> Result<(client: ClientState, credentialID: Int64), TokenError> {
        let tag = verifier.tag(for: secret, context: clientID)
        guard let client else {
            return .failure(.invalidClient(.unknownClient, "unknown client id", client: nil))
        }
        guard client.credentials.contains(where: { constantTimeEquals($0.verifier, tag) }) else {
            return .failure(.invalidClient(.wrongSecret, "wrong client secret", client: client))
        }
        guard client.isActive else {
            return .failure(.invalidClient(.instanceRevoked, "instance is revoked", client: client))
        }
        guard let credentialID = client.credential(matching: tag, at: now) else {
            return .failure(.invalidClient(.secretRotatedOut, "client secret was rotated out (its grace period is over)", client: client))
        }
        return .success((client, credentialID))
    }

    /// Authenticates the client (once) and issues its token: the one token
    /// path of the CLI and the server.
    public func answer(
        _ request: TokenRequest, client candidate: ClientState?, signer: SigningIdentity, now: Timestamp
    ) -> TokenAnswer {
        TokenAnswer(issue(request, client: candidate, signer: signer, now: now), presentedClientID: request.clientID, at: now)
    }

    func issue(
        _ request: TokenRequest, client candidate: ClientState?, signer: SigningIdentity, now: Timestamp
    ) -> Result<IssuedToken, TokenError> {
        guard request.grantType == GrantType.clientCredentials.rawValue else {
            return .failure(TokenError(code: .unsupportedGrantType, reason: "grant type '\(Validation.printable(request.grantType))' is not supported; use client_credentials", client: candidate))
        }
        let client: ClientState
        let credentialID: Int64
        switch authenticatedCredential(clientID: request.clientID, secret: request.secret, client: candidate, now: now) {
        case .failure(let error): return .failure(error)
        case .success(let authenticated): (client, credentialID) = authenticated
        }
        guard client.grantTypes.contains(.clientCredentials) else {
            return .failure(TokenError(code: .unauthorizedClient, reason: "grant type client_credentials is not enabled for this instance", client: client))
        }
        let scope: [String]
        switch grantedScope(requested: request.scopes, client: client) {
        case .success(let granted): scope = granted
        case .failure(let error): return .failure(error)
        }
        let format = request.format ?? client.tokenFormat
        let jti = Base64.encode(SecureRandom.bytes(16), .urlSafeNoPadding)
        let expiresAt = now.seconds + Int64(client.tokenTTL)
        switch format {
        case .jwt:
            let claims = TokenClaims(
                issuer: issuerClaim, clientID: client.clientID, audience: [client.clientID, client.xsappname],
                scope: scope, grantType: GrantType.clientCredentials.rawValue, zoneID: vaultID,
                issuedAt: now.seconds, expiresAt: expiresAt, jti: jti, customer: client.customer,
                instance: client.name, plan: client.plan.rawValue, subdomain: client.subdomain,
                credentialGeneration: client.credentialGeneration,
                credentialID: credentialID)
            let token = JWT.sign(claims, kid: signer.kid, jku: jwksURL, key: signer.key)
            return .success(
                IssuedToken(
                    accessToken: token, expiresIn: client.tokenTTL, scope: scope, jti: jti, format: .jwt,
                    client: client, opaqueRecord: nil))
        case .opaque:
            // 32 random bytes: 256 bits, 43 URL-safe characters.
            let token = Base64.encode(SecureRandom.bytes(32), .urlSafeNoPadding)
            let record = OpaqueTokenRecord(
                tokenHash: opaqueHash(token), jti: jti, instanceID: client.instanceID, credentialID: credentialID,
                credentialGeneration: client.credentialGeneration, scope: scope, issuedAt: now,
                expiresAt: Timestamp(seconds: expiresAt))
            return .success(
                IssuedToken(
                    accessToken: token, expiresIn: client.tokenTTL, scope: scope, jti: jti, format: .opaque,
                    client: client, opaqueRecord: record))
        }
    }

    /// Requested scopes narrowed to the client's roles, as `<xsappname>.<role>`
    /// with the tenant's xsappname. A scope may name a role bare, with the
    /// tenant's xsappname, or with the one in the client id (instances made
    /// before the tenant model).
    func grantedScope(requested: [String], client: ClientState) -> Result<[String], TokenError> {
        let prefix = client.xsappname + "."
        let prefixes = [prefix] + (client.clientIDXsappname.map { [$0 + "."] } ?? [])
        var roles: [String] = []
        for item in requested.flatMap({ $0.split(separator: " ").map(String.init) }) {
            let named = prefixes.first { item.hasPrefix($0) }
            let role = named.map { String(item.dropFirst($0.count)) } ?? item
            guard client.roles.contains(role) else {
                return .failure(TokenError(code: .invalidScope, reason: "scope '\(Validation.printable(item))' is not granted to this client", client: client))
            }
            if !roles.contains(role) { roles.append(role) }
        }
        return .success((roles.isEmpty ? client.roles : roles).map { prefix + $0 })
    }

    public func opaqueHash(_ token: String) -> [UInt8] { verifier.tag(for: token, context: Self.opaqueContext) }

    // MARK: Verifying and authorizing

    /// The shared decision: is `token` valid now, and may it call `flow` (when given)?
    public func decide(
        token: String?, flow: String?, state: any AuthorizationState, now: Timestamp,
        verifiedSignatures: VerifiedSignatures? = nil
    ) throws -> AccessDecision {
        let verified: VerifiedToken
        switch try verify(token: token, state: state, now: now, verifiedSignatures: verifiedSignatures) {
        case .failure(let denial): return AccessDecision(denial)
        case .success(let token): verified = token
        }
        guard let flow else { return AccessDecision(refusal: nil, token: verified) }
        return AccessDecision(refusal: authorize(verified, flow: flow), token: verified)
    }

    func verify(
        token: String?, state: any AuthorizationState, now: Timestamp, verifiedSignatures: VerifiedSignatures? = nil
    ) throws -> Result<VerifiedToken, Denial> {
        guard let token, !token.isEmpty else { return .failure(Denial(.missingToken)) }
        if token.utf8.contains(UInt8(ascii: ".")) {
            return try verifyJWT(token, state: state, now: now, verifiedSignatures: verifiedSignatures)
        }
        return try verifyOpaque(token, state: state, now: now)
    }

    private func verifyJWT(
        _ token: String, state: any AuthorizationState, now: Timestamp, verifiedSignatures: VerifiedSignatures?
    ) throws -> Result<VerifiedToken, Denial> {
        let claims: TokenClaims
        if let known = verifiedSignatures?.claims(for: token) {
            claims = known
        } else {
            do {
                let parsed = try JWT.parse(token)
                guard let key = try state.publicKey(kid: parsed.kid) else { return .failure(Denial(.unknownSigningKey)) }
                try JWT.verify(parsed, with: key)
                claims = try TokenClaims(json: parsed.claims)
            } catch let refusal as Refusal {
                return .failure(Denial(refusal))
            }
            verifiedSignatures?.remember(claims, for: token)
        }
        guard claims.issuer == issuerClaim else { return .failure(Denial(.wrongIssuer)) }
        guard claims.zoneID == vaultID else { return .failure(Denial(.otherVault)) }
        return try checkLiveness(
            clientLookup: { try state.client(clientID: claims.clientID) }, jti: claims.jti, issuedAt: claims.issuedAt,
            expiresAt: claims.expiresAt, generation: claims.credentialGeneration, credentialID: claims.credentialID,
            scope: claims.scope, state: state, now: now)
    }

    private func verifyOpaque(_ token: String, state: any AuthorizationState, now: Timestamp) throws -> Result<VerifiedToken, Denial> {
        guard token.utf8.count <= 43, Base64.decode(token, .urlSafeNoPadding) != nil else {
            return .failure(Denial(.malformed("neither a JWT nor an opaque token of this vault")))
        }
        guard let record = try state.opaqueToken(hash: opaqueHash(token)) else { return .failure(Denial(.unknownOpaqueToken)) }
        return try checkLiveness(
            clientLookup: { try state.client(instanceID: record.instanceID) }, jti: record.jti,
            issuedAt: record.issuedAt.seconds, expiresAt: record.expiresAt.seconds,
            generation: record.credentialGeneration, credentialID: record.credentialID, scope: record.scope,
            state: state, now: now)
    }

    /// The checks both token kinds share: time, revocation, and the
    /// instance's current state. The token is known to be this vault's, so
    /// every refusal from here on names its instance (when it still exists).
    private func checkLiveness(
        clientLookup: () throws -> ClientState?, jti: String, issuedAt: Int64, expiresAt: Int64, generation: Int64,
        credentialID: Int64, scope: [String], state: any AuthorizationState, now: Timestamp
    ) throws -> Result<VerifiedToken, Denial> {
        let client = try clientLookup()
        func refuse(_ refusal: Refusal) -> Result<VerifiedToken, Denial> {
            .failure(Denial(refusal, client: client, jti: jti))
        }
        guard now.seconds < expiresAt else { return refuse(.expired) }
        guard issuedAt <= now.seconds + Self.clockSkewSeconds else { return refuse(.notYetValid) }
        guard try !state.isRevoked(jti: jti) else { return refuse(.tokenRevoked) }
        guard let client else { return refuse(.instanceGone) }
        guard client.isActive else { return refuse(.instanceRevoked) }
        guard client.credentialGeneration == generation else { return refuse(.credentialsRevoked) }
        guard client.isCredentialValid(id: credentialID, at: now) else { return refuse(.secretRotatedOut) }
        return .success(VerifiedToken(clientID: client.clientID, scope: scope, expiresAt: expiresAt, jti: jti, client: client))
    }

    /// May this verified token call `flow`? nil when it may.
    func authorize(_ token: VerifiedToken, flow: String) -> Refusal? {
        authorize(client: token.client, scope: token.scope, flow: flow)
    }

    /// May `client`, holding `scope`, call `flow`? nil when it may. (HTTP Basic
    /// callers of the gateway hold all their instance's roles.)
    public func authorize(client: ClientState, scope: [String], flow: String) -> Refusal? {
        let path: FlowPath
        do {
            path = try FlowPath(flow)
        } catch {
            return error
        }
        guard client.plan == .integrationFlow else { return .apiPlan(instance: client.name) }
        guard scope.contains(client.xsappname + "." + Self.flowRole) else { return .missingRole(Self.flowRole) }
        guard client.flows.contains(where: { path.matches(pattern: $0) }) else {
            return .flowNotAllowed(flow: path.path, instance: client.name)
        }
        return nil
    }
}

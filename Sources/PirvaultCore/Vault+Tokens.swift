import PirvaultCrypto
import PirvaultStore

/// Authorization state read straight from the store (the CLI's view).
struct StoreAuthorizationState: AuthorizationState {
    let store: any StoreReader
    let now: Timestamp

    func client(clientID: String) throws -> ClientState? {
        guard let record = try store.instance(clientID: clientID) else { return nil }
        return ClientState(record: record, credentials: try store.credentials(instanceID: record.id), tenant: try store.tenant())
    }

    func client(instanceID: Int64) throws -> ClientState? {
        guard let record = try store.instance(id: instanceID) else { return nil }
        return ClientState(record: record, credentials: try store.credentials(instanceID: record.id), tenant: try store.tenant())
    }

    func isRevoked(jti: String) throws -> Bool { try store.isTokenRevoked(jti: jti) }

    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? { try store.opaqueToken(hash: hash) }

    func publicKey(kid: String) throws -> TokenVerificationKey? {
        guard let record = try store.publishedSigningKeys(at: now).first(where: { $0.kid == kid }) else { return nil }
        return try? TokenVerificationKey(algorithm: record.algorithm, storedRepresentation: record.publicKey)
    }
}

extension Vault {
    /// This vault's token issuer and verifier for the public base URL `issuer`.
    public func tokenAuthority(issuer: String = TokenAuthority.defaultIssuer) -> TokenAuthority {
        TokenAuthority(issuer: issuer, vaultID: vaultID, verifier: verifier)
    }

    /// The current state of a client, for a server's cache.
    @available(*, noasync)
    public func clientState(clientID: String) throws -> ClientState? {
        try read { try StoreAuthorizationState(store: $0, now: clock.now()).client(clientID: clientID) }
    }

    /// Issues a token for a client_credentials request and audits the outcome
    /// (`token.issue`, allowed or denied with its reason). Throws `TokenError`
    /// when refused.
    @available(*, noasync)
    public func issueToken(_ request: TokenRequest, issuer: String = TokenAuthority.defaultIssuer) throws -> IssuedToken {
        let signer = try signingIdentity()
        let authority = tokenAuthority(issuer: issuer)
        let result = try write { tx -> Result<IssuedToken, TokenError> in
            let now = clock.now()
            let client = try StoreAuthorizationState(store: tx, now: now).client(clientID: request.clientID)
            let answer = authority.answer(request, client: client, signer: signer, now: now)
            if case .success(let token) = answer.result, let record = token.opaqueRecord { try tx.insertOpaqueToken(record) }
            try tx.audit(answer.event)
            return answer.result
        }
        return try result.get()
    }

    /// The shared authorization decision for `token` (and `flow`) as of `now`,
    /// read from one snapshot and not audited (`verifyToken` audits it).
    @available(*, noasync)
    public func decide(token: String, flow: String?, authority: TokenAuthority, at now: Timestamp) throws -> AccessDecision {
        try read { try decide(token: token, flow: flow, authority: authority, at: now, in: $0) }
    }

    /// `decide`, read from `tx`.
    func decide(
        token: String, flow: String?, authority: TokenAuthority, at now: Timestamp, in tx: any StoreReader
    ) throws -> AccessDecision {
        try authority.decide(token: token, flow: flow, state: StoreAuthorizationState(store: tx, now: now), now: now)
    }

    /// The shared authorization decision for `token` (and `flow`, in either
    /// spelling of `FlowPath.gatewayPath(userInput:)`), audited as `token.verify`.
    @available(*, noasync)
    public func verifyToken(_ token: String, flow: String?, issuer: String = TokenAuthority.defaultIssuer) throws -> AccessDecision {
        let authority = tokenAuthority(issuer: issuer)
        let flow = flow.map(FlowPath.gatewayPath(userInput:))
        return try write { tx in
            let now = clock.now()
            let decision = try decide(token: token, flow: flow, authority: authority, at: now, in: tx)
            let client = decision.client
            try tx.audit(
                AuditEvent(
                    time: now, event: .tokenVerify, outcome: decision.isAllowed ? .allowed : .denied,
                    reason: decision.reason, customer: client?.customer, instance: client?.name,
                    clientID: client?.clientID, flow: flow.map(Validation.printable), status: decision.httpStatus,
                    jti: decision.jti))
            return decision
        }
    }

    /// Revokes one token (it must be a valid token of this vault); returns its jti.
    /// Other tokens of the same instance keep working.
    @available(*, noasync)
    public func revokeToken(_ token: String, issuer: String = TokenAuthority.defaultIssuer) throws -> String {
        let authority = tokenAuthority(issuer: issuer)
        return try write { tx in
            let now = clock.now()
            let decision = try decide(token: token, flow: nil, authority: authority, at: now, in: tx)
            guard let verified = decision.token else {
                throw VaultError.notFound("cannot revoke: \(decision.reason)")
            }
            try tx.revokeToken(
                jti: verified.jti, instanceID: verified.client.instanceID, at: now,
                expiresAt: Timestamp(seconds: verified.expiresAt))
            try tx.purgeExpiredTokens(before: now)
            try tx.audit(
                AuditEvent(
                    time: now, event: .tokenRevoke, outcome: .allowed, reason: "single token revoked",
                    customer: verified.client.customer, instance: verified.client.name,
                    clientID: verified.clientID, jti: verified.jti))
            return verified.jti
        }
    }
}

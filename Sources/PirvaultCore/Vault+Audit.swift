import PirvaultStore

extension Vault {
    /// Appends `events` in one transaction (one commit for all: the server's
    /// group commit). Each gets the next leaf index; `seq` is ignored.
    public func appendAuditEvents(_ events: [AuditEvent], storingOpaqueTokens opaque: [OpaqueTokenRecord] = []) throws {
        try write {
            for record in opaque { try store.insertOpaqueToken(record) }
            for event in events { try audit(event) }
        }
    }

    /// Calls `body` for each audit event that `filter` selects (each with its `seq`).
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditEvent) throws -> Void) throws {
        try storeOperation {
            try store.read { try store.forEachAuditEvent(filter) { try body(AuditEvent(record: $0)) } }
        }
    }
}

extension Vault {
    /// Changes whenever another session commits anything, where the backend
    /// can tell without a round trip; nil where it cannot (PostgreSQL).
    public func commitCounter() throws -> Int64? { try storeOperation { try store.commitCounter() } }

    /// Changes whenever something a server caches changes (see migration 0004).
    public func stateVersion() throws -> Int64 { try storeOperation { try store.stateVersion() } }

    /// The jtis of single-revoked tokens that have not expired.
    public func revokedTokenIDs() throws -> Set<String> {
        try storeOperation { try store.revokedTokenIDs(at: clock.now()) }
    }

    /// The client state of the instance with row id `instanceID`.
    public func clientState(instanceID: Int64) throws -> ClientState? {
        try storeOperation { try StoreAuthorizationState(store: store, now: clock.now()).client(instanceID: instanceID) }
    }

    /// Looks up an opaque token by its keyed hash.
    public func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try storeOperation { try store.opaqueToken(hash: hash) }
    }

    /// Revokes one token by jti (the server's RFC 7009 endpoint; the token was verified by the caller).
    public func revoke(_ token: VerifiedToken, reason: String, requestID: String?, remoteAddress: String?) throws {
        try write {
            let now = clock.now()
            try store.revokeToken(
                jti: token.jti, instanceID: token.client.instanceID, at: now, expiresAt: Timestamp(seconds: token.expiresAt))
            try audit(
                AuditEvent(
                    time: now, event: "token.revoke", outcome: .allowed, reason: reason, customer: token.client.customer,
                    instance: token.client.name, clientID: token.clientID, remoteAddress: remoteAddress,
                    requestID: requestID, jti: token.jti))
        }
    }
}

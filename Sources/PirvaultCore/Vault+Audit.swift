import PirvaultStore

/// An answer waiting for its audit row: the event, the opaque token it
/// issued (if any), and the state version its decision was made on.
public struct PendingAudit: Sendable {
    public let event: AuditEvent
    /// The event's canonical bytes but for its index, encoded where the
    /// answer was made, so the audit writer only splices and hashes.
    let encoded: EncodedAuditEvent
    public var opaque: OpaqueTokenRecord?
    /// nil: append whatever the state is now.
    public var decidedAt: Int64?
    /// The failed-authentication limiter keys the decision checked (the
    /// client id and the caller's address), and whether the authentication
    /// failed: a failure is recorded with the event, so every server counts it.
    public var limiterKeys: [String]
    public var authenticationFailed: Bool

    public init(
        _ event: AuditEvent, opaque: OpaqueTokenRecord? = nil, decidedAt: Int64? = nil, limiterKeys: [String] = [],
        authenticationFailed: Bool = false
    ) {
        self.event = event
        encoded = event.encoded
        self.opaque = opaque
        self.decidedAt = decidedAt
        self.limiterKeys = limiterKeys
        self.authenticationFailed = authenticationFailed
    }
}

/// What one group commit did.
public struct AppendedAudit: Sendable {
    /// Indexes (into the batch) of the entries decided on a state that is no longer current: not appended.
    public var stale: Set<Int>
    /// Every failed authentication recorded after the caller's `failuresSeen`, this batch's own included.
    public var failures: [AuthenticationFailure]
    /// The vault's state version while the batch committed.
    public var stateVersion: Int64
}

extension Vault {
    /// Appends the events of `pending` in one transaction (one commit for
    /// all: the server's group commit); each gets the next leaf index.
    ///
    /// A decision made on a state that another process or node has changed
    /// since is not appended: the transaction reads the state version under
    /// the write lock, and the indexes of the stale entries come back so
    /// their requests can be decided again. So no answer contradicts a change
    /// that had committed before the answer's own commit. The same holds for
    /// the failed-authentication limit: an entry whose limiter keys another
    /// server recorded a failure under since `failuresSeen` is stale too.
    @available(*, noasync)
    @discardableResult
    public func appendAuditEvents(_ pending: [PendingAudit], failuresSeen: Int64 = .max) throws -> AppendedAudit {
        try write { tx in
            // Read when this transaction took the write lock: nothing has changed them since.
            let start = try tx.start
            let current = start.stateVersion
            let failuresElsewhere =
                start.latestAuthenticationFailure > failuresSeen ? try tx.authenticationFailures(after: failuresSeen) : []
            let keysFailedElsewhere = Set(failuresElsewhere.map(\.key))
            var stale = Set<Int>()
            var records: [AuditRecord] = []
            var next = try tx.auditLogSize()
            for (index, entry) in pending.enumerated() {
                if let decidedAt = entry.decidedAt, decidedAt != current {
                    stale.insert(index)
                    continue
                }
                if entry.limiterKeys.contains(where: keysFailedElsewhere.contains) {
                    stale.insert(index)
                    continue
                }
                if let opaque = entry.opaque { try tx.insertOpaqueToken(opaque) }
                if entry.authenticationFailed {
                    try tx.recordAuthenticationFailures(entry.limiterKeys, at: entry.event.time)
                }
                records.append(entry.event.record(seq: next, encoded: entry.encoded))
                next += 1
            }
            // One statement for the batch: on PostgreSQL one round trip, not one per event.
            try tx.appendAudit(records)
            // While this transaction holds the write lock nobody else records
            // a failure: only this batch's own need reading again.
            let recordedHere = pending.indices.contains { !stale.contains($0) && pending[$0].authenticationFailed }
            let failures =
                recordedHere ? try tx.authenticationFailures(after: failuresSeen) : failuresElsewhere
            return AppendedAudit(stale: stale, failures: failures, stateVersion: current)
        }
    }

    /// Calls `body` for each audit event that `filter` selects (each with its `seq`).
    @available(*, noasync)
    public func forEachAuditEvent(_ filter: AuditFilter, _ body: (AuditEvent) throws -> Void) throws {
        try read { try $0.forEachAuditEvent(filter) { try body(AuditEvent(record: $0)) } }
    }
}

extension Vault {
    /// Deletes the failures recorded before `time` (older than any limit window).
    @available(*, noasync)
    public func forgetAuthenticationFailures(before time: Timestamp) throws {
        try storeOperation { try store.write { try $0.forgetAuthenticationFailures(before: time) } }
    }

    /// Changes whenever something a server caches changes (see migration 0004).
    @available(*, noasync)
    public func stateVersion() throws -> Int64 { try read { try $0.stateVersion() } }

    /// The client state of the instance with row id `instanceID`.
    @available(*, noasync)
    public func clientState(instanceID: Int64) throws -> ClientState? {
        try read { try StoreAuthorizationState(store: $0, now: clock.now()).client(instanceID: instanceID) }
    }

    /// Looks up an opaque token by its keyed hash.
    @available(*, noasync)
    public func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? {
        try read { try $0.opaqueToken(hash: hash) }
    }

    /// Revokes one token by jti (the server's RFC 7009 endpoint; the token was verified by the caller).
    @available(*, noasync)
    public func revoke(_ token: VerifiedToken, reason: String, requestID: String?, remoteAddress: String?) throws {
        try write { tx in
            let now = clock.now()
            try tx.revokeToken(
                jti: token.jti, instanceID: token.client.instanceID, at: now, expiresAt: Timestamp(seconds: token.expiresAt))
            try tx.audit(
                AuditEvent(
                    time: now, event: .tokenRevoke, outcome: .allowed, reason: reason, customer: token.client.customer,
                    instance: token.client.name, clientID: token.clientID, remoteAddress: remoteAddress,
                    requestID: requestID, jti: token.jti))
        }
    }
}

import PirvaultCrypto

/// The vault's single header row: identity and how to unlock it.
public struct VaultHeaderRecord: Sendable, Equatable {
    public enum UnlockMethod: String, Sendable {
        case keyFile = "key-file"
        case passphrase
    }

    public var vaultID: String
    public var unlockMethod: UnlockMethod
    /// Argon2id parameters and salt; nil for a key-file vault.
    public var kdfOpslimit: Int64?
    public var kdfMemlimit: Int64?
    public var kdfSalt: [UInt8]?
    public var sealedVaultKey: [UInt8]
    public var sealedVerifierKey: [UInt8]
    public var createdAt: String
    /// How many vault keys the vault has had (`vaultKeyEpoch()`); a copy keeps it.
    public var vaultKeyEpoch: Int64
    /// The tenant the vault is: its subdomain, and the n of its xsappnames.
    public var subdomain: String
    public var appIndex: Int64
    /// Whether the subdomain was chosen (at init or once later), not derived from the vault id.
    public var subdomainChosen: Bool

    public init(
        vaultID: String, unlockMethod: UnlockMethod, kdfOpslimit: Int64?, kdfMemlimit: Int64?, kdfSalt: [UInt8]?,
        sealedVaultKey: [UInt8], sealedVerifierKey: [UInt8], createdAt: String, vaultKeyEpoch: Int64 = 1,
        subdomain: String, appIndex: Int64, subdomainChosen: Bool
    ) {
        self.vaultID = vaultID
        self.unlockMethod = unlockMethod
        self.kdfOpslimit = kdfOpslimit
        self.kdfMemlimit = kdfMemlimit
        self.kdfSalt = kdfSalt
        self.sealedVaultKey = sealedVaultKey
        self.sealedVerifierKey = sealedVerifierKey
        self.createdAt = createdAt
        self.vaultKeyEpoch = vaultKeyEpoch
        self.subdomain = subdomain
        self.appIndex = appIndex
        self.subdomainChosen = subdomainChosen
    }
}

/// One instance row, with its customer's name joined in.
public struct InstanceRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var customer: String
    public var clientID: String
    public var plan: Plan
    public var roles: [String]
    public var grantTypes: [GrantType]
    public var redirectURIs: [String]
    public var flows: [String]
    public var tokenTTL: Int
    public var tokenFormat: TokenFormat
    public var url: String
    public var tokenURL: String
    public var origin: String
    public var status: InstanceStatus
    public var credentialGeneration: Int64
    public var sealedDataKey: [UInt8]
    public var createdAt: String
    public var updatedAt: String

    public init(
        id: Int64 = 0, name: String, customer: String, clientID: String, plan: Plan, roles: [String],
        grantTypes: [GrantType], redirectURIs: [String], flows: [String], tokenTTL: Int, tokenFormat: TokenFormat,
        url: String, tokenURL: String, origin: String, status: InstanceStatus, credentialGeneration: Int64 = 1,
        sealedDataKey: [UInt8] = [], createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.name = name
        self.customer = customer
        self.clientID = clientID
        self.plan = plan
        self.roles = roles
        self.grantTypes = grantTypes
        self.redirectURIs = redirectURIs
        self.flows = flows
        self.tokenTTL = tokenTTL
        self.tokenFormat = tokenFormat
        self.url = url
        self.tokenURL = tokenURL
        self.origin = origin
        self.status = status
        self.credentialGeneration = credentialGeneration
        self.sealedDataKey = sealedDataKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One client secret of an instance.
public struct CredentialRecord: Sendable, Equatable {
    public var id: Int64
    public var instanceID: Int64
    public var sealedSecret: [UInt8]
    public var verifier: [UInt8]
    public var createdAt: String
    /// nil while current; the end of the grace period once rotated out.
    public var expiresAt: Timestamp?

    package init(
        id: Int64, instanceID: Int64, sealedSecret: [UInt8], verifier: [UInt8], createdAt: String, expiresAt: Timestamp?
    ) {
        self.id = id
        self.instanceID = instanceID
        self.sealedSecret = sealedSecret
        self.verifier = verifier
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// One audit row. `canonical` is nil once pruned; `leafHash` stays.
public struct AuditRecord: Sendable, Equatable {
    public var seq: Int64
    public var time: Timestamp
    public var event: AuditEventType
    public var outcome: AuditOutcome
    public var reason: String?
    public var customer: String?
    public var instance: String?
    public var clientID: String?
    public var flow: String?
    public var method: String?
    public var status: Int?
    public var remoteAddress: String?
    public var requestID: String?
    public var latencyMicros: Int64?
    public var jti: String?
    public var canonical: [UInt8]?
    public var leafHash: [UInt8]

    public init(
        seq: Int64 = -1, time: Timestamp, event: AuditEventType, outcome: AuditOutcome, reason: String? = nil,
        customer: String? = nil, instance: String? = nil, clientID: String? = nil, flow: String? = nil,
        method: String? = nil, status: Int? = nil, remoteAddress: String? = nil, requestID: String? = nil,
        latencyMicros: Int64? = nil, jti: String? = nil, canonical: [UInt8]?, leafHash: [UInt8]
    ) {
        self.seq = seq
        self.time = time
        self.event = event
        self.outcome = outcome
        self.reason = reason
        self.customer = customer
        self.instance = instance
        self.clientID = clientID
        self.flow = flow
        self.method = method
        self.status = status
        self.remoteAddress = remoteAddress
        self.requestID = requestID
        self.latencyMicros = latencyMicros
        self.jti = jti
        self.canonical = canonical
        self.leafHash = leafHash
    }
}

extension AuditRecord {
    /// The row's cells in `CopiedTable.auditEvents.columns` order.
    package var storeValues: [StoreValue] {
        func text(_ value: String?) -> StoreValue { value.map(StoreValue.text) ?? .null }
        return [
            .integer(seq), .integer(time.microseconds), .text(event.rawValue), .text(outcome.rawValue), text(reason),
            text(customer),
            text(instance), text(clientID), text(flow), text(method), status.map { .integer(Int64($0)) } ?? .null,
            text(remoteAddress), text(requestID), latencyMicros.map(StoreValue.integer) ?? .null, text(jti),
            canonical.map(StoreValue.blob) ?? .null, .blob(leafHash),
        ]
    }
}

/// One audit row's cells lent by the store: text and blob cells point into
/// the store's own buffers and are valid only during the callback that
/// receives the row, so a reader of the whole log allocates nothing per row.
/// nil is SQL NULL; text cells are the stored UTF-8 bytes as they are.
public struct AuditRowCells {
    public var seq: Int64
    public var timeMicroseconds: Int64
    public var event: UnsafeRawBufferPointer
    public var outcome: UnsafeRawBufferPointer
    public var reason: UnsafeRawBufferPointer?
    public var customer: UnsafeRawBufferPointer?
    public var instance: UnsafeRawBufferPointer?
    public var clientID: UnsafeRawBufferPointer?
    public var flow: UnsafeRawBufferPointer?
    public var method: UnsafeRawBufferPointer?
    public var status: Int64?
    public var remoteAddress: UnsafeRawBufferPointer?
    public var requestID: UnsafeRawBufferPointer?
    public var latencyMicros: Int64?
    public var jti: UnsafeRawBufferPointer?
    public var canonical: UnsafeRawBufferPointer?
    public var leafHash: UnsafeRawBufferPointer
}

extension AuditRecord {
    /// The row's cells copied out of the store's buffers.
    init(_ cells: AuditRowCells) throws {
        func text(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        self.init(
            seq: cells.seq, time: Timestamp(microseconds: cells.timeMicroseconds),
            event: try .stored(text(cells.event)!, column: "event type", seq: cells.seq),
            outcome: try .stored(text(cells.outcome)!, column: "outcome", seq: cells.seq), reason: text(cells.reason),
            customer: text(cells.customer),
            instance: text(cells.instance), clientID: text(cells.clientID), flow: text(cells.flow),
            method: text(cells.method), status: cells.status.map { Int($0) }, remoteAddress: text(cells.remoteAddress),
            requestID: text(cells.requestID), latencyMicros: cells.latencyMicros, jti: text(cells.jti),
            canonical: cells.canonical.map(Array.init), leafHash: Array(cells.leafHash))
    }

    /// Lends the record's cells, for stores that read whole records.
    package func withCells<T>(_ body: (AuditRowCells) throws -> T) rethrows -> T {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>?] = []
        let texts = [event.rawValue, outcome.rawValue, reason, customer, instance, clientID, flow, method, remoteAddress, requestID, jti]
        for cell in texts.map({ $0.map { Array($0.utf8) } }) + [canonical, leafHash] {
            guard let cell else {
                ranges.append(nil)
                continue
            }
            ranges.append(bytes.count..<(bytes.count + cell.count))
            bytes += cell
        }
        return try bytes.withUnsafeBytes { all in
            func cell(_ i: Int) -> UnsafeRawBufferPointer? { ranges[i].map { UnsafeRawBufferPointer(rebasing: all[$0]) } }
            return try body(
                AuditRowCells(
                    seq: seq, timeMicroseconds: time.microseconds, event: cell(0)!, outcome: cell(1)!, reason: cell(2),
                    customer: cell(3), instance: cell(4), clientID: cell(5), flow: cell(6), method: cell(7),
                    status: status.map(Int64.init), remoteAddress: cell(8), requestID: cell(9),
                    latencyMicros: latencyMicros, jti: cell(10), canonical: cell(11), leafHash: cell(12)!))
        }
    }
}

/// Which audit rows to read. Every field narrows; nil means "any".
public struct AuditFilter: Sendable, Equatable {
    public var since: Timestamp?
    public var until: Timestamp?
    public var customer: String?
    public var clientID: String?
    public var flow: String?
    public var event: AuditEventType?
    public var limit: Int?
    public var newestFirst: Bool
    /// Only events with a smaller leaf index (those covered by an export's checkpoint).
    public var belowSeq: Int64?

    public init(
        since: Timestamp? = nil, until: Timestamp? = nil, customer: String? = nil, clientID: String? = nil,
        flow: String? = nil, event: AuditEventType? = nil, limit: Int? = nil, newestFirst: Bool = true, belowSeq: Int64? = nil
    ) {
        self.since = since
        self.until = until
        self.customer = customer
        self.clientID = clientID
        self.flow = flow
        self.event = event
        self.limit = limit
        self.newestFirst = newestFirst
        self.belowSeq = belowSeq
    }
}

/// A token signing key. It is published from `createdAt`, signs from
/// `activatesAt` (later than its creation for a staged key) until
/// `retiredAt` (the next key's activation; nil for the newest key), and stays
/// published until `publishedUntil`, when every token it signed has expired.
public struct SigningKeyRecord: Sendable, Equatable {
    public var id: Int64
    public var kid: String
    public var algorithm: SigningAlgorithm
    /// `TokenVerificationKey.storedRepresentation`.
    public var publicKey: [UInt8]
    public var sealedPrivateKey: [UInt8]
    public var createdAt: Timestamp
    public var activatesAt: Timestamp
    public var retiredAt: Timestamp?
    public var publishedUntil: Timestamp?

    package init(
        id: Int64, kid: String, algorithm: SigningAlgorithm, publicKey: [UInt8], sealedPrivateKey: [UInt8],
        createdAt: Timestamp, activatesAt: Timestamp, retiredAt: Timestamp?, publishedUntil: Timestamp?
    ) {
        self.id = id
        self.kid = kid
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
        self.activatesAt = activatesAt
        self.retiredAt = retiredAt
        self.publishedUntil = publishedUntil
    }
}

/// An opaque access token, known only by its keyed hash.
public struct OpaqueTokenRecord: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var jti: String
    public var instanceID: Int64
    public var credentialID: Int64
    public var credentialGeneration: Int64
    public var scope: [String]
    public var issuedAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        tokenHash: [UInt8], jti: String, instanceID: Int64, credentialID: Int64, credentialGeneration: Int64,
        scope: [String], issuedAt: Timestamp, expiresAt: Timestamp
    ) {
        self.tokenHash = tokenHash
        self.jti = jti
        self.instanceID = instanceID
        self.credentialID = credentialID
        self.credentialGeneration = credentialGeneration
        self.scope = scope
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// A stored signed tree head.
public struct CheckpointRecord: Sendable, Equatable {
    public var treeSize: Int64
    public var rootHash: [UInt8]
    public var frontier: [UInt8]
    public var note: String
    public var createdAt: Timestamp

    public init(treeSize: Int64, rootHash: [UInt8], frontier: [UInt8], note: String, createdAt: Timestamp) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.frontier = frontier
        self.note = note
        self.createdAt = createdAt
    }
}

/// A vault key sealed under the vault key of the epoch before it.
public struct VaultKeyLink: Sendable, Equatable {
    public var epoch: Int64
    public var sealedKey: [UInt8]
    public var createdAt: Timestamp

    public init(epoch: Int64, sealedKey: [UInt8], createdAt: Timestamp) {
        self.epoch = epoch
        self.sealedKey = sealedKey
        self.createdAt = createdAt
    }
}

/// One failed client authentication, under one limiter key.
public struct AuthenticationFailure: Sendable, Equatable {
    public var id: Int64
    public var key: String
    public var time: Timestamp

    package init(id: Int64, key: String, time: Timestamp) {
        self.id = id
        self.key = key
        self.time = time
    }
}

/// The versions a write transaction starts from (`VaultStore.writeStart`).
public struct WriteStart: Sendable, Equatable {
    public var stateVersion: Int64
    public var vaultKeyEpoch: Int64
    /// The id of the newest failed-authentication row (0 with none).
    public var latestAuthenticationFailure: Int64
    /// The tree size and time of the latest checkpoint (0 and the epoch with none).
    public var latestCheckpointSize: Int64
    public var latestCheckpointTime: Timestamp

    public init(
        stateVersion: Int64, vaultKeyEpoch: Int64, latestAuthenticationFailure: Int64, latestCheckpointSize: Int64,
        latestCheckpointTime: Timestamp
    ) {
        self.stateVersion = stateVersion
        self.vaultKeyEpoch = vaultKeyEpoch
        self.latestAuthenticationFailure = latestAuthenticationFailure
        self.latestCheckpointSize = latestCheckpointSize
        self.latestCheckpointTime = latestCheckpointTime
    }

    /// One statement that reads them all (the same SQL on both backends).
    package static let query = """
        SELECT (SELECT version FROM state_version WHERE singleton = 1),
               (SELECT vault_key_epoch FROM vault_header WHERE singleton = 1),
               (SELECT COALESCE(MAX(id), 0) FROM authentication_failures),
               COALESCE((SELECT tree_size FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1), 0),
               COALESCE((SELECT created_at_us FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1), 0)
        """
}

import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// One audit event: what happened, to whom, and with what outcome. Never a
/// secret or a token.
public struct AuditEvent: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case allowed, denied, error
    }

    public var time: Timestamp
    public var event: String
    public var outcome: Outcome
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
    /// The id of the token concerned (never the token itself).
    public var jti: String?

    public init(
        time: Timestamp, event: String, outcome: Outcome, reason: String? = nil, customer: String? = nil,
        instance: String? = nil, clientID: String? = nil, flow: String? = nil, method: String? = nil,
        status: Int? = nil, remoteAddress: String? = nil, requestID: String? = nil, latencyMicros: Int64? = nil,
        jti: String? = nil
    ) {
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
    }

    /// The event as a JSON object with snake_case members; absent fields are
    /// left out. Its RFC 8785 serialisation is the Merkle leaf's content.
    public var jsonObject: JSONValue {
        .object(omittingNils: [
            ("time", .string(time.rfc3339)),
            ("event", .string(event)),
            ("outcome", .string(outcome.rawValue)),
            ("reason", reason.map(JSONValue.string)),
            ("customer", customer.map(JSONValue.string)),
            ("instance", instance.map(JSONValue.string)),
            ("clientid", clientID.map(JSONValue.string)),
            ("flow", flow.map(JSONValue.string)),
            ("method", method.map(JSONValue.string)),
            ("status", status.map { .integer(Int64($0)) }),
            ("remote_addr", remoteAddress.map(JSONValue.string)),
            ("request_id", requestID.map(JSONValue.string)),
            ("latency_us", latencyMicros.map(JSONValue.integer)),
            ("jti", jti.map(JSONValue.string)),
        ])
    }

    /// RFC 8785 bytes of `jsonObject`.
    public var canonicalBytes: [UInt8] { jsonObject.canonicalBytes() }

    /// RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 ‖ canonical bytes).
    public static func leafHash(canonical: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update([0x00])
        hasher.update(canonical)
        return hasher.finalize()
    }

    var record: AuditRecord {
        let canonical = canonicalBytes
        return AuditRecord(
            time: time, event: event, outcome: outcome.rawValue, reason: reason, customer: customer,
            instance: instance, clientID: clientID, flow: flow, method: method, status: status,
            remoteAddress: remoteAddress, requestID: requestID, latencyMicros: latencyMicros, jti: jti,
            canonical: canonical, leafHash: Self.leafHash(canonical: canonical))
    }

    init(record: AuditRecord) {
        self.init(
            time: record.time, event: record.event, outcome: Outcome(rawValue: record.outcome) ?? .error,
            reason: record.reason, customer: record.customer, instance: record.instance, clientID: record.clientID,
            flow: record.flow, method: record.method, status: record.status, remoteAddress: record.remoteAddress,
            requestID: record.requestID, latencyMicros: record.latencyMicros, jti: record.jti)
    }
}

/// A stored audit event with its position in the log.
public struct StoredAuditEvent: Sendable {
    /// 0-based leaf index in the Merkle log.
    public let seq: Int64
    public let event: AuditEvent

    /// The event object with its `seq`, as `audit list --json` prints it.
    public var jsonObject: JSONValue {
        guard case .object(let members) = event.jsonObject else { return event.jsonObject }
        return .object([("seq", .integer(seq))] + members)
    }
}

import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// One audit event: what happened, to whom, and with what outcome. Never a
/// secret or a token.
public struct AuditEvent: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case allowed, denied, error
    }

    /// The 0-based leaf index, assigned when the event is appended.
    public var seq: Int64?
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
        seq: Int64? = nil, time: Timestamp, event: String, outcome: Outcome, reason: String? = nil, customer: String? = nil,
        instance: String? = nil, clientID: String? = nil, flow: String? = nil, method: String? = nil,
        status: Int? = nil, remoteAddress: String? = nil, requestID: String? = nil, latencyMicros: Int64? = nil,
        jti: String? = nil
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
    }

    /// The event as a JSON object with snake_case members; absent fields are
    /// left out. Its RFC 8785 serialisation is the Merkle leaf's content.
    public var jsonObject: JSONValue {
        .object(omittingNils: [
            ("seq", seq.map(JSONValue.integer)),
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

    /// RFC 8785 bytes of `jsonObject`, written member by member in sorted
    /// order (audit verification re-derives this for every stored event;
    /// `AuditTests` checks it equals `jsonObject.canonicalBytes()`).
    public var canonicalBytes: [UInt8] { encoded.canonical(seq: seq) }

    /// The canonical bytes but for `seq`, which an event gets only when its
    /// batch commits: the server encodes its events on the request's thread,
    /// and the audit writer only splices in each index and hashes.
    var encoded: EncodedAuditEvent {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        var first = true
        func key(_ name: String) {
            out += (first ? "{\"" : ",\"").utf8
            first = false
            out += name.utf8
            out += "\":".utf8
        }
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONValue.writeString(value, into: &out)
        }
        func integer(_ name: String, _ value: Int64?) {
            guard let value else { return }
            key(name)
            out += String(value).utf8
        }
        string("clientid", clientID)
        string("customer", customer)
        string("event", event)
        string("flow", flow)
        string("instance", instance)
        string("jti", jti)
        integer("latency_us", latencyMicros)
        string("method", method)
        string("outcome", outcome.rawValue)
        string("reason", reason)
        string("remote_addr", remoteAddress)
        string("request_id", requestID)
        // "event" and "outcome" are always there, so "seq" is never the first member.
        let head = out
        out.removeAll(keepingCapacity: true)
        integer("status", status.map(Int64.init))
        string("time", time.rfc3339)
        out.append(UInt8(ascii: "}"))
        return EncodedAuditEvent(head: head, tail: out)
    }

    /// Text from an unauthenticated caller (an unknown client id, a path)
    /// made safe to record: control characters escaped, at most 64 characters.
    public static func untrusted(_ text: String) -> String { Validation.printable(text) }

    /// The stored row of this event at index `seq`, from its encoding.
    func record(seq: Int64, encoded: EncodedAuditEvent) -> AuditRecord {
        let canonical = encoded.canonical(seq: seq)
        return AuditRecord(
            seq: seq, time: time, event: event, outcome: outcome.rawValue, reason: reason, customer: customer,
            instance: instance, clientID: clientID, flow: flow, method: method, status: status,
            remoteAddress: remoteAddress, requestID: requestID, latencyMicros: latencyMicros, jti: jti,
            canonical: canonical, leafHash: Merkle.leafHash(canonical))
    }

    init(record: AuditRecord) {
        self.init(
            seq: record.seq,
            time: record.time, event: record.event, outcome: Outcome(rawValue: record.outcome) ?? .error,
            reason: record.reason, customer: record.customer, instance: record.instance, clientID: record.clientID,
            flow: record.flow, method: record.method, status: record.status, remoteAddress: record.remoteAddress,
            requestID: record.requestID, latencyMicros: record.latencyMicros, jti: record.jti)
    }
}

/// An audit event's canonical bytes around its `seq` member.
struct EncodedAuditEvent: Sendable {
    /// From `{` up to the member before `seq` (never empty).
    let head: [UInt8]
    /// From the member after `seq` to the closing `}`, each member led by its comma.
    let tail: [UInt8]

    func canonical(seq: Int64?) -> [UInt8] {
        guard let seq else { return head + tail }
        var out = head
        out.reserveCapacity(head.count + tail.count + 28)
        out += #","seq":"#.utf8
        out += String(seq).utf8
        out += tail
        return out
    }
}

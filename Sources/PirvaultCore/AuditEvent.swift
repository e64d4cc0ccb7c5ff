import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// One audit event: what happened, to whom, and with what outcome. Never a
/// secret or a token.
public struct AuditEvent: Sendable, Equatable {
    public typealias Outcome = AuditOutcome

    /// The 0-based leaf index, assigned when the event is appended.
    public var seq: Int64?
    public var time: Timestamp
    public var event: AuditEventType
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
        seq: Int64? = nil, time: Timestamp, event: AuditEventType, outcome: Outcome, reason: String? = nil, customer: String? = nil,
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
            ("event", .string(event.rawValue)),
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
    /// order (`AuditTests` checks it equals `jsonObject.canonicalBytes()`).
    public var canonicalBytes: [UInt8] { encoded.canonical(seq: seq) }

    /// The canonical bytes but for `seq`, which an event gets only when its
    /// batch commits: the server encodes its events on the request's thread,
    /// and the audit writer only splices in each index and hashes.
    var encoded: EncodedAuditEvent {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        let seqOffset = Self.writeCanonical(
            seq: nil, time: time, event: event.rawValue, outcome: outcome.rawValue, reason: reason, customer: customer,
            instance: instance, clientID: clientID, flow: flow, method: method, status: status.map(Int64.init),
            remoteAddress: remoteAddress, requestID: requestID, latencyMicros: latencyMicros, jti: jti, into: &out)
        return EncodedAuditEvent(bytes: out, seqOffset: seqOffset)
    }

    /// Appends the canonical bytes that a stored row's columns give (audit
    /// verification compares them with the row's signed content for every
    /// event, so this reads the cells in place). Text is taken byte for byte:
    /// a column that is not what was appended never matches.
    static func writeCanonical(of row: AuditRowCells, into out: inout [UInt8]) {
        writeCanonical(
            seq: row.seq, time: Timestamp(microseconds: row.timeMicroseconds), event: row.event, outcome: row.outcome,
            reason: row.reason, customer: row.customer, instance: row.instance, clientID: row.clientID, flow: row.flow,
            method: row.method, status: row.status, remoteAddress: row.remoteAddress, requestID: row.requestID,
            latencyMicros: row.latencyMicros, jti: row.jti, into: &out)
    }

    /// The one writer of an event's canonical bytes, from `String`s or from
    /// stored cells. Returns where in `out` the `seq` member starts (or would).
    @discardableResult
    private static func writeCanonical<Text: EventText>(
        seq: Int64?, time: Timestamp, event: Text, outcome: Text, reason: Text?, customer: Text?, instance: Text?,
        clientID: Text?, flow: Text?, method: Text?, status: Int64?, remoteAddress: Text?, requestID: Text?,
        latencyMicros: Int64?, jti: Text?, into out: inout [UInt8]
    ) -> Int {
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ name: StaticString, _ value: Text?) {
            guard let value else { return }
            key(name)
            value.writeJSONString(into: &out)
        }
        func integer(_ name: StaticString, _ value: Int64?) {
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
        string("outcome", outcome)
        string("reason", reason)
        string("remote_addr", remoteAddress)
        string("request_id", requestID)
        // "event" and "outcome" are always there, so "seq" is never the first member.
        let seqOffset = out.count
        integer("seq", seq)
        integer("status", status)
        key("time")
        out.append(UInt8(ascii: "\""))
        time.writeRFC3339(into: &out)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: "}"))
        return seqOffset
    }

    /// Text from an unauthenticated caller (an unknown client id, a path)
    /// made safe to record: control characters escaped, at most 64 characters.
    public static func untrusted(_ text: String) -> String { Validation.printable(text) }

    /// The stored row of this event at index `seq`, from its encoding.
    func record(seq: Int64, encoded: EncodedAuditEvent) -> AuditRecord {
        let canonical = encoded.canonical(seq: seq)
        return AuditRecord(
            seq: seq, time: time, event: event, outcome: outcome, reason: reason, customer: customer,
            instance: instance, clientID: clientID, flow: flow, method: method, status: status,
            remoteAddress: remoteAddress, requestID: requestID, latencyMicros: latencyMicros, jti: jti,
            canonical: canonical, leafHash: Merkle.leafHash(canonical))
    }

    init(record: AuditRecord) {
        self.init(
            seq: record.seq,
            time: record.time, event: record.event, outcome: record.outcome,
            reason: record.reason, customer: record.customer, instance: record.instance, clientID: record.clientID,
            flow: record.flow, method: record.method, status: record.status, remoteAddress: record.remoteAddress,
            requestID: record.requestID, latencyMicros: record.latencyMicros, jti: record.jti)
    }
}

/// Where an event's text members come from: `String`s, or a stored row's
/// UTF-8 cells.
protocol EventText {
    func writeJSONString(into out: inout [UInt8])
}

extension String: EventText {
    func writeJSONString(into out: inout [UInt8]) { JSONValue.writeString(self, into: &out) }
}

extension UnsafeRawBufferPointer: EventText {
    func writeJSONString(into out: inout [UInt8]) { JSONValue.writeString(utf8: self, into: &out) }
}

/// An audit event's canonical bytes without its `seq` member, and where that member goes.
struct EncodedAuditEvent: Sendable {
    let bytes: [UInt8]
    let seqOffset: Int

    func canonical(seq: Int64?) -> [UInt8] {
        guard let seq else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 28)
        out += bytes[..<seqOffset]
        out += #","seq":"#.utf8
        out += String(seq).utf8
        out += bytes[seqOffset...]
        return out
    }
}

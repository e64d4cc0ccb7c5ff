import PirvaultStore

/// The figures of `pirvault audit report`, gathered in one pass over the
/// selected events in ascending order: `add(_:)` takes one event at a time,
/// and every table is bounded (`BoundedMap`), so memory stays flat whatever
/// the size of the log. `html()` renders it as one self-contained page.
public struct AuditReport: Sendable {
    /// The signed checkpoint the figures come from.
    public struct CheckpointSummary: Sendable, Equatable {
        public var treeSize: Int64
        /// The Merkle root, standard base64.
        public var rootHash: String
        public var createdAt: Timestamp
    }

    /// Flow decisions of one customer on one flow path.
    package struct FlowCell: Sendable {
        package var allowed = 0
        package var denied = 0
        /// The instances that made them (at most `instancesShown`; `moreInstances` says if there were others).
        package var instances: Set<String> = []
        package var moreInstances = false

        package init() {}
    }

    package struct CellKey: Hashable, Sendable {
        package var customer: String
        package var flow: String

        package init(customer: String, flow: String) {
            self.customer = customer
            self.flow = flow
        }
    }

    package struct InstanceKey: Hashable, Sendable {
        package var customer: String
        package var instance: String
    }

    /// Token requests of one customer's instance (`token.issue` events).
    package struct TokenCounts: Sendable {
        package var issued = 0
        package var failedAuthentications = 0
        package var otherRefusals = 0
    }

    package struct CredentialEvent: Sendable {
        package var time: Timestamp
        package var event: AuditEventType
        package var customer: String
        package var instance: String
    }

    /// Events that record a flow decision (the gateway's, or `token verify --flow`'s).
    package static let flowDecisionEvents: Set<AuditEventType> = [.gatewayCall, .gatewayAuthorize, .tokenVerify]
    /// Events that change an instance's credentials, in timeline order.
    package static let credentialEventNames: [AuditEventType] = [
        .instanceCreate, .instanceImport, .credentialsRotate, .credentialsRevoke, .instanceDelete,
    ]
    package static let unknownClient = "(unknown client)"
    package static let others = "(others)"
    package static let instancesShown = 6
    package static let credentialEventsKept = 500
    /// Bucket widths for "calls over time", hour first; the smallest giving at most `maxBuckets` is used.
    package static let bucketWidths: [Int64] = [3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400]
    package static let maxBuckets: Int64 = 168

    /// The selection the figures are about.
    public let filter: AuditFilter
    public let generatedAt: Timestamp
    /// `verifyAuditLog()` as it was when the report was built.
    public let verification: AuditVerificationReport
    /// The checkpoint signed for this report, or when verification failed the latest stored one (nil if none).
    public let checkpoint: CheckpointSummary?
    /// How many events the report counted.
    public private(set) var events = 0
    /// The period shown: `--since` or the first event, to `--until` or the time of the report.
    public private(set) var periodStart: Timestamp?
    public var periodEnd: Timestamp { filter.until ?? generatedAt }
    /// The width of a "calls over time" bucket in seconds, chosen from the period's length at the first event.
    public private(set) var bucketSeconds: Int64 = 3600

    package var eventCounts: [AuditEventType: [Int]] = [:]
    package var customerCalls = BoundedMap<String, Int>(limit: 200, overflow: others, empty: 0)
    package var flowCalls = BoundedMap<String, Int>(limit: 200, overflow: others, empty: 0)
    /// Keys are slots of `customerCalls` × `flowCalls`, so this is bounded by their product.
    package var matrix: [CellKey: FlowCell] = [:]
    /// Bucket start (seconds) → customer slot → flow decisions.
    package var timeline: [Int64: [String: Int]] = [:]
    package var denialReasons = BoundedMap<String, Int>(limit: 100, overflow: others, empty: 0)
    package var tokens = BoundedMap<InstanceKey, TokenCounts>(
        limit: 500, overflow: InstanceKey(customer: others, instance: others), empty: TokenCounts())
    package var credentialCounts: [AuditEventType: Int] = [:]
    /// The latest `credentialEventsKept` credential events, oldest first.
    package var credentialEvents: [CredentialEvent] = []

    public init(filter: AuditFilter, generatedAt: Timestamp, verification: AuditVerificationReport, checkpoint: CheckpointSummary?) {
        self.filter = filter
        self.generatedAt = generatedAt
        self.verification = verification
        self.checkpoint = checkpoint
    }

    /// Counts one event; events must come in ascending order.
    public mutating func add(_ event: AuditEvent) {
        if periodStart == nil { startPeriod(at: filter.since ?? event.time) }
        events += 1
        eventCounts[event.event, default: [0, 0, 0]][event.outcome == .allowed ? 0 : event.outcome == .denied ? 1 : 2] += 1
        let customer = event.customer ?? Self.unknownClient
        if let flow = event.flow, Self.flowDecisionEvents.contains(event.event) {
            addFlowDecision(event, customer: customer, flow: flow)
        } else if event.event == .tokenIssue {
            tokens.update(InstanceKey(customer: customer, instance: event.instance ?? "-")) { counts in
                if event.outcome == .allowed {
                    counts.issued += 1
                } else if event.reason?.hasPrefix("invalid_client") == true {
                    counts.failedAuthentications += 1
                } else {
                    counts.otherRefusals += 1
                }
            }
        } else if Self.credentialEventNames.contains(event.event) {
            credentialCounts[event.event, default: 0] += 1
            credentialEvents.append(
                CredentialEvent(time: event.time, event: event.event, customer: customer, instance: event.instance ?? "-"))
            if credentialEvents.count >= 2 * Self.credentialEventsKept {
                credentialEvents.removeFirst(credentialEvents.count - Self.credentialEventsKept)
            }
        }
    }

    private mutating func addFlowDecision(_ event: AuditEvent, customer: String, flow: String) {
        let allowed = event.outcome == .allowed
        let customerSlot = customerCalls.slot(for: customer)
        let flowSlot = flowCalls.slot(for: flow)
        customerCalls.add(customerSlot)
        flowCalls.add(flowSlot)
        matrix[CellKey(customer: customerSlot, flow: flowSlot), default: FlowCell()].record(allowed: allowed, instance: event.instance)
        timeline[bucketStart(of: event.time), default: [:]][customerSlot, default: 0] += 1
        if !allowed { denialReasons.add(event.reason ?? "(no reason given)") }
    }

    private mutating func startPeriod(at start: Timestamp) {
        periodStart = start
        let from = start.seconds
        let to = max(periodEnd.seconds, from)
        bucketSeconds = Self.bucketWidths.first { to / $0 - from / $0 < Self.maxBuckets } ?? Self.bucketWidths.last!
    }

    /// The start (Unix seconds, aligned to the bucket width in UTC) of the bucket holding `time`.
    package func bucketStart(of time: Timestamp) -> Int64 {
        let seconds = time.seconds
        return (seconds >= 0 ? seconds / bucketSeconds : (seconds - bucketSeconds + 1) / bucketSeconds) * bucketSeconds
    }

    /// The credential events of the kept window, the newest `credentialEventsKept`.
    package var latestCredentialEvents: ArraySlice<CredentialEvent> { credentialEvents.suffix(Self.credentialEventsKept) }
}

extension AuditReport.FlowCell {
    package mutating func record(allowed isAllowed: Bool, instance: String?) {
        if isAllowed { allowed += 1 } else { denied += 1 }
        if let instance { note(instance) }
    }

    /// Adds `other`'s counts and instances (cells merged into "(others)").
    package mutating func merge(_ other: Self) {
        allowed += other.allowed
        denied += other.denied
        for instance in other.instances.sorted() { note(instance) }
        moreInstances = moreInstances || other.moreInstances
    }

    /// Remembers `instance` while fewer than `instancesShown` are known.
    private mutating func note(_ instance: String) {
        guard !instances.contains(instance) else { return }
        if instances.count < AuditReport.instancesShown { instances.insert(instance) } else { moreInstances = true }
    }
}

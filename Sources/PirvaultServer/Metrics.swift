import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The server's metrics (docs/server.md), recorded through swift-metrics and
/// exposed by swift-prometheus at `GET /metrics`. Labels carry routes,
/// statuses, customers, formats, outcomes and fixed reason codes: never a
/// secret, a token or anything derived from one.
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: DescribedMetricsFactory
    private let counters = Mutex<[CounterKey: CoreMetrics.Counter]>([:])
    private let durations = Mutex<[String: CoreMetrics.Timer]>([:])
    private let auditEvents: CoreMetrics.Counter
    private let auditCommitDuration: CoreMetrics.Timer
    private let auditBatchSize: CoreMetrics.Recorder

    private struct CounterKey: Hashable {
        let name: String
        let labels: [String]
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        factory = DescribedMetricsFactory(registry: registry)
        auditEvents = CoreMetrics.Counter(label: "pirvault_audit_events_total", factory: factory)
        auditCommitDuration = CoreMetrics.Timer(label: "pirvault_audit_commit_duration_seconds", factory: factory)
        auditBatchSize = CoreMetrics.Recorder(label: "pirvault_audit_batch_size", factory: factory)
    }

    /// `name{labels}` += 1; one swift-metrics counter per label set, made once.
    private func increment(_ name: String, _ labels: KeyValuePairs<String, String>) {
        let key = CounterKey(name: name, labels: labels.map(\.value))
        let counter = counters.withLock { counters in
            if let known = counters[key] { return known }
            let made = CoreMetrics.Counter(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
            counters[key] = made
            return made
        }
        counter.increment()
    }

    /// One answered request: `route` is the router's path pattern, never the request's path.
    func request(route: String, status: Int, duration: Duration) {
        increment("pirvault_http_requests_total", ["route": route, "status": String(status)])
        let timer = durations.withLock { timers in
            if let known = timers[route] { return known }
            let made = CoreMetrics.Timer(label: "pirvault_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            timers[route] = made
            return made
        }
        timer.recordNanoseconds(duration.nanoseconds)
    }

    func tokenIssued(customer: String, format: String) {
        increment("pirvault_tokens_issued_total", ["customer": customer, "format": format])
    }

    func gatewayDecision(customer: String?, outcome: String) {
        increment("pirvault_gateway_decisions_total", ["customer": customer ?? "", "outcome": outcome])
    }

    func authenticationFailure(reason: String) {
        increment("pirvault_auth_failures_total", ["reason": reason])
    }

    func auditCommitted(events: Int, duration: Duration) {
        auditEvents.increment(by: events)
        auditBatchSize.record(events)
        auditCommitDuration.recordNanoseconds(duration.nanoseconds)
    }

    /// The Prometheus text exposition of every metric in the registry.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// swift-prometheus's own `PrometheusMetricsFactory` registers every
/// swift-metrics metric without a HELP line. This one registers the same
/// metrics with their HELP text (from `help`, by swift-metrics label), and
/// with buckets that suit each histogram.
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    static let help: [String: String] = [
        "pirvault_http_requests_total": "HTTP requests answered, by route pattern and status code.",
        "pirvault_http_request_duration_seconds": "Time to answer an HTTP request, by route pattern.",
        "pirvault_tokens_issued_total": "Access tokens issued, by customer and token format.",
        "pirvault_gateway_decisions_total": "Flow gateway and /authorize decisions, by customer and outcome.",
        "pirvault_audit_events_total": "Audit events durably committed by this server.",
        "pirvault_audit_commit_duration_seconds": "Time of one audit group commit (one synchronous transaction).",
        "pirvault_audit_batch_size": "Audit events per group commit.",
        "pirvault_auth_failures_total": "Refused client or token authentications, by reason code.",
    ]

    /// Seconds: from 100 µs (a gateway call) to 2.5 s.
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
    ]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    /// The label as the whole name (no namespace or unit parts), with its HELP text.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: Self.help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: Self.batchBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: Self.durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

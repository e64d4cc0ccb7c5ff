import Synchronization

/// Prometheus text metrics: token issues and gateway decisions by outcome,
/// and request latency histograms per route.
final class Metrics: Sendable {
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct State {
        var counters: [String: Int] = [:]
        var histograms: [String: Histogram] = [:]
    }

    private let state = Mutex(State())

    /// `name{label="value"}` += 1.
    func increment(_ name: String, _ labels: [(String, String)]) {
        let key = name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
        state.withLock { $0.counters[key, default: 0] += 1 }
    }

    func observe(route: String, seconds: Double) {
        state.withLock { state in
            var histogram = state.histograms[route] ?? Histogram()
            for (i, bound) in Self.buckets.enumerated() where seconds <= bound { histogram.counts[i] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.histograms[route] = histogram
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    func render() -> String {
        state.withLock { state in
            var out = ""
            let names = Set(state.counters.keys.map { String($0.prefix { $0 != "{" }) }).sorted()
            for name in names {
                out += "# TYPE \(name) counter\n"
                for (key, value) in state.counters.sorted(by: { $0.key < $1.key }) where key.hasPrefix(name + "{") {
                    out += "\(key) \(value)\n"
                }
            }
            out += "# HELP pirvault_request_duration_seconds Time to answer a request, by route.\n"
            out += "# TYPE pirvault_request_duration_seconds histogram\n"
            for (route, histogram) in state.histograms.sorted(by: { $0.key < $1.key }) {
                for (i, bound) in Self.buckets.enumerated() {
                    out += "pirvault_request_duration_seconds_bucket{route=\"\(route)\",le=\"\(bound)\"} \(histogram.counts[i])\n"
                }
                out += "pirvault_request_duration_seconds_bucket{route=\"\(route)\",le=\"+Inf\"} \(histogram.count)\n"
                out += "pirvault_request_duration_seconds_sum{route=\"\(route)\"} \(histogram.sum)\n"
                out += "pirvault_request_duration_seconds_count{route=\"\(route)\"} \(histogram.count)\n"
            }
            return out
        }
    }
}

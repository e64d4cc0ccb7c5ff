import PirvaultCore
import PirvaultStore

/// The report's charts: plain inline SVG, each mark with a `<title>` that
/// shows its numbers on hover, each colour named in a legend.
extension AuditReport {
    static let allowedColour = "#1a7f37"
    static let deniedColour = "#c62828"
    /// Okabe–Ito colours (distinguishable with colour-blindness); grey is "(others)".
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7A5195"]
    static let othersColour = "#9aa1ad"
    private static let width = 960.0

    func callsOverTimeSection() -> String {
        let names = [3600: "hour", 86_400: "day", 604_800: "week", 2_592_000: "30 days", 31_536_000: "year"]
        var out = "<section id=\"over-time\"><h2>Gateway calls over time, per \(names[Int(bucketSeconds)] ?? "bucket")</h2>"
        guard let periodStart, !timeline.isEmpty else { return out + "<p class=\"empty\">No gateway calls in this period.</p></section>" }
        let series = Self.top(customerCalls.entries, Self.palette.count)
        let first = bucketStart(of: periodStart)
        let count = Int((max(bucketStart(of: periodEnd), first) - first) / bucketSeconds) + 1
        var stacks = [[String: Int]](repeating: [:], count: count)
        for (bucket, calls) in timeline {
            let index = min(max(Int((bucket - first) / bucketSeconds), 0), count - 1)
            for (customer, n) in calls { stacks[index][series.label(customer), default: 0] += n }
        }
        let (left, top, height) = (56.0, 10.0, 220.0)
        let (plotWidth, scale) = (Self.width - left - 10, Self.axis(max: stacks.map { $0.values.reduce(0, +) }.max() ?? 1))
        out += "<svg viewBox=\"0 0 \(Int(Self.width)) \(Int(top + height + 34))\" role=\"img\" aria-label=\"gateway calls over time\">"
        for tick in stride(from: 0, through: scale.top, by: scale.step) {
            let y = top + height - Double(tick) / Double(scale.top) * height
            out += "<line x1=\"\(left)\" x2=\"\(Self.width - 10)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#e3e6ec\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(tick)</text>"
        }
        let step = plotWidth / Double(count)
        let bar = min(max(step * 0.8, 1), 48)
        for (index, stack) in stacks.enumerated() {
            let label = Self.escape(bucketLabel(first + Int64(index) * bucketSeconds))
            var y = top + height
            for (n, customer) in series.shown.enumerated() {
                guard let calls = stack[customer] else { continue }
                let h = Double(calls) / Double(scale.top) * height
                y -= h
                out += "<rect x=\(Self.fmt(left + Double(index) * step + (step - bar) / 2)) y=\(Self.fmt(y)) width=\(Self.fmt(bar)) "
                out += "height=\(Self.fmt(h)) fill=\"\(Self.colour(customer, at: n))\"><title>\(Self.escape(customer)), \(label): \(calls) calls</title></rect>"
            }
        }
        for index in stride(from: 0, to: count, by: max(1, count / 6)) {
            let x = left + (Double(index) + 0.5) * step
            out += "<text x=\(Self.fmt(x)) y=\"\(top + height + 18)\" text-anchor=\"middle\">\(Self.escape(bucketLabel(first + Int64(index) * bucketSeconds)))</text>"
        }
        out += "</svg>" + Self.legend(series.shown.enumerated().map { ($1, Self.colour($1, at: $0)) })
        return out + "<p class=\"note\">Calls per customer, stacked; allowed and denied together.</p></section>"
    }

    func denialsSection() -> String {
        var out = "<section id=\"denials\"><h2>Denied gateway calls by reason</h2>"
        guard !denialReasons.entries.isEmpty else { return out + "<p class=\"empty\">No denied gateway calls in this period.</p></section>" }
        let reasons = denialReasons.entries.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        let most = Double(reasons.first?.value ?? 1)
        out += "<table><tbody>"
        for (reason, count) in reasons {
            out += "<tr data-reason=\"\(Self.escape(reason))\" data-count=\"\(count)\"><td>\(Self.escape(reason))</td><td class=\"num\">\(count)</td>"
            out += "<td style=\"width:40%\"><svg viewBox=\"0 0 300 14\" preserveAspectRatio=\"none\"><rect width=\(Self.fmt(Double(count) / most * 300)) height=\"14\" "
            out += "fill=\"\(Self.deniedColour)\"><title>\(count) denied: \(Self.escape(reason))</title></rect></svg></td></tr>"
        }
        return out + "</tbody></table>" + Self.legend([("denied gateway calls", Self.deniedColour)]) + "</section>"
    }

    func credentialSection() -> String {
        var out = "<section id=\"credentials\"><h2>Credential events</h2>"
        guard let periodStart, !credentialEvents.isEmpty else { return out + "<p class=\"empty\">No credential events in this period.</p></section>" }
        let kinds = Self.credentialEventNames
        let (left, lane) = (130.0, 26.0)
        let from = Double(periodStart.microseconds), span = max(Double(periodEnd.microseconds) - from, 1)
        out += "<svg viewBox=\"0 0 \(Int(Self.width)) \(Int(lane * Double(kinds.count) + 24))\" role=\"img\" aria-label=\"credential events over time\">"
        for (row, kind) in kinds.enumerated() {
            let y = lane * Double(row) + lane / 2
            out += "<text x=\"\(left - 10)\" y=\"\(y + 4)\" text-anchor=\"end\">\(kind) (\(credentialCounts[kind] ?? 0))</text>"
            out += "<line x1=\"\(left)\" x2=\"\(Self.width - 10)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#e3e6ec\"/>"
        }
        for event in latestCredentialEvents {
            guard let row = kinds.firstIndex(of: event.event) else { continue }
            let x = left + min(max((Double(event.time.microseconds) - from) / span, 0), 1) * (Self.width - left - 20)
            out += "<circle cx=\(Self.fmt(x)) cy=\(Self.fmt(lane * Double(row) + lane / 2)) r=\"5\" fill=\"\(Self.palette[row])\" fill-opacity=\"0.85\">"
            out += "<title>\(event.time.rfc3339) \(event.event): \(Self.escape(event.instance)) (\(Self.escape(event.customer)))</title></circle>"
        }
        let axisY = lane * Double(kinds.count) + 16
        out += "<text x=\"\(left)\" y=\"\(axisY)\">\(Self.shortTime(periodStart))</text>"
        out += "<text x=\"\(Self.width - 10)\" y=\"\(axisY)\" text-anchor=\"end\">\(Self.shortTime(periodEnd))</text></svg>"
        out += Self.legend(kinds.enumerated().map { ($1.rawValue, Self.palette[$0]) })
        out += "<table><thead><tr><th>time</th><th>event</th><th>customer</th><th>instance</th></tr></thead><tbody>"
        for event in latestCredentialEvents.reversed() {
            out += "<tr data-event=\"\(event.event)\"><td>\(event.time.rfc3339)</td><td><code>\(event.event)</code></td>"
            out += "<td>\(Self.escape(event.customer))</td><td>\(Self.escape(event.instance))</td></tr>"
        }
        let hidden = credentialCounts.values.reduce(0, +) - latestCredentialEvents.count
        out += "</tbody></table>" + (hidden > 0 ? "<p class=\"note\">\(hidden) older credential events are counted above but not listed.</p>" : "")
        return out + "</section>"
    }

    /// The time a bucket starts, as short as its width allows.
    func bucketLabel(_ start: Int64) -> String {
        let text = Timestamp(seconds: start).rfc3339
        switch bucketSeconds {
        case ..<86_400: return String(text.dropFirst(5).prefix(11)).replacingOccurrences(of: "T", with: " ")
        case 31_536_000...: return String(text.prefix(4))
        default: return String(text.prefix(10))
        }
    }

    static func colour(_ series: String, at index: Int) -> String { series == others ? othersColour : palette[index % palette.count] }

    /// A y axis from 0 to `top` in steps of 1, 2 or 5 × 10ⁿ, at least `max`.
    static func axis(max: Int) -> (top: Int, step: Int) {
        var step = 1
        while step * 4 < max { step = step / pow10(of: step) == 2 ? step / 2 * 5 : step * 2 }
        return (Swift.max(step, (max + step - 1) / step * step), step)
    }

    private static func pow10(of n: Int) -> Int {
        var p = 1
        while p * 10 <= n { p *= 10 }
        return p
    }

    /// A coordinate with at most two decimals, quoted.
    static func fmt(_ value: Double) -> String { "\"\((value * 100).rounded() / 100)\"" }
}

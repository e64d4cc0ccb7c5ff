import PirvaultCore
import PirvaultStore

extension AuditReport {
    /// The report as one self-contained HTML page: inline CSS and SVG, no
    /// script, nothing fetched. Every string from the log is escaped.
    /// Counts are also in `data-*` attributes, so tests (and people) can check them.
    public func html() -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        page += "<title>pirvault audit report: \(Self.escape(scope))</title><style>\(Self.css)</style></head><body><main>"
        page += header() + integritySection()
        if events == 0 {
            page += "<section id=\"empty\"><h2>No events</h2><p class=\"empty\">There are no events in this period"
            page += "\(filter.customer == nil ? "" : " for this customer"); nothing to report.</p></section>"
        } else {
            page += summarySection() + matrixSection() + callsOverTimeSection() + denialsSection() + tokenSection()
            page += credentialSection() + eventTypesSection()
        }
        page += "<footer>Built by <code>pirvault audit report</code> in one pass over the selected events. "
        page += "Hover a bar, cell or mark for its numbers.</footer></main></body></html>\n"
        return page
    }

    /// Whose events the page shows.
    var scope: String { filter.customer.map { "customer \($0)" } ?? "all customers" }

    private func header() -> String {
        var out = "<header><h1>Audit report <span class=\"scope\">\(Self.escape(scope))</span></h1><p class=\"sub\">"
        out += (periodStart ?? filter.since).map { "\(Self.shortTime($0)) to " } ?? "up to "
        out += "\(Self.shortTime(periodEnd)) · "
        out += "generated \(generatedAt.rfc3339) · \(events) events</p>"
        let filters: [(String, String?)] = [
            ("since", filter.since?.rfc3339), ("until", filter.until?.rfc3339), ("customer", filter.customer),
            ("client id", filter.clientID), ("flow", filter.flow), ("event", filter.event?.rawValue),
        ]
        let given = filters.compactMap { name, value in value.map { "<span><b>\(name)</b> \(Self.escape($0))</span>" } }
        out += "<p class=\"filters\">Filters: \(given.isEmpty ? "none" : given.joined(separator: " "))</p></header>"
        return out
    }

    private func integritySection() -> String {
        let ok = verification.isValid
        var out = "<section id=\"integrity\" class=\"banner \(ok ? "verified" : "failed")\" data-verified=\"\(ok)\"><h2>"
        if ok {
            out += "✔ Log verified</h2><p><code>audit verify</code> passed over the \(verification.events) events "
            out += "(\(verification.pruned) pruned) and \(verification.checkpoints) signed checkpoints logged before this report; "
            out += "the report was then audited and the checkpoint below signed. The figures come from that untampered log.</p>"
        } else {
            out += "✘ The audit log FAILED verification</h2><p class=\"problem\">\(Self.escape(verification.problem ?? ""))</p>"
            out += "<p>The figures below were read from a log that may have been altered: do not rely on them. "
            out += "Restore the vault from a backup and run <code>pirvault audit verify</code>.</p>"
        }
        if let checkpoint {
            out += "<dl class=\"checkpoint\"><dt>Checkpoint tree size</dt><dd data-tree-size=\"\(checkpoint.treeSize)\">\(checkpoint.treeSize)</dd>"
            out += "<dt>Root hash (base64)</dt><dd><code>\(Self.escape(checkpoint.rootHash))</code></dd>"
            out += "<dt>Signed at</dt><dd>\(checkpoint.createdAt.rfc3339)\(ok ? "" : " (the latest stored; none was signed for this report)")</dd></dl>"
        } else {
            out += "<p>No signed checkpoint exists.</p>"
        }
        return out + "</section>"
    }

    private func summarySection() -> String {
        let allowed = matrix.values.reduce(0) { $0 + $1.allowed }
        let denied = matrix.values.reduce(0) { $0 + $1.denied }
        let tokenTotals = tokens.entries.values
        let figures: [(String, Int, String)] = [
            ("gateway calls allowed", allowed, "ok"), ("gateway calls denied", denied, "no"),
            ("tokens issued", tokenTotals.reduce(0) { $0 + $1.issued }, ""),
            ("failed authentications", tokenTotals.reduce(0) { $0 + $1.failedAuthentications }, "no"),
            ("credential events", credentialCounts.values.reduce(0, +), ""),
        ]
        var out = "<section id=\"summary\"><div class=\"figures\">"
        for (label, value, style) in figures {
            out += "<div class=\"figure\"><b class=\"\(style)\">\(value)</b>\(label)</div>"
        }
        return out + "</div></section>"
    }

    private func matrixSection() -> String {
        var out = "<section id=\"matrix\"><h2>Gateway calls by customer and flow</h2>"
        guard !matrix.isEmpty else { return out + "<p class=\"empty\">No gateway calls in this period.</p></section>" }
        let rows = Self.top(customerCalls.entries, 25)
        let columns = Self.top(flowCalls.entries, 12)
        var cells: [CellKey: FlowCell] = [:]
        for (key, cell) in matrix {
            cells[CellKey(customer: rows.label(key.customer), flow: columns.label(key.flow)), default: FlowCell()].merge(cell)
        }
        out += "<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>customer \\ flow</th>"
        for flow in columns.shown { out += "<th><code>\(Self.escape(flow))</code></th>" }
        out += "</tr></thead><tbody>"
        for customer in rows.shown {
            out += "<tr><th>\(Self.escape(customer))</th>"
            for flow in columns.shown {
                guard let cell = cells[CellKey(customer: customer, flow: flow)] else {
                    out += "<td class=\"zero\">·</td>"
                    continue
                }
                let via = cell.instances.sorted().joined(separator: ", ") + (cell.moreInstances ? ", …" : "")
                out += "<td class=\"cell\" data-customer=\"\(Self.escape(customer))\" data-flow=\"\(Self.escape(flow))\" "
                out += "data-allowed=\"\(cell.allowed)\" data-denied=\"\(cell.denied)\" "
                out += "title=\"\(Self.escape(customer)) on \(Self.escape(flow)): \(cell.allowed) allowed, \(cell.denied) denied\">"
                out += "<span class=\"ok\">\(cell.allowed)</span> / <span class=\"no\">\(cell.denied)</span>"
                out += via.isEmpty ? "" : "<div class=\"via\">via \(Self.escape(via))</div>"
                out += "</td>"
            }
            out += "</tr>"
        }
        out += "</tbody></table></div>"
        return out + Self.legend([("allowed", Self.allowedColour), ("denied", Self.deniedColour)]) + "</section>"
    }

    private func tokenSection() -> String {
        var out = "<section id=\"tokens\"><h2>Token requests and failed authentications</h2>"
        guard !tokens.entries.isEmpty else { return out + "<p class=\"empty\">No token requests in this period.</p></section>" }
        out += "<table><thead><tr><th>customer</th><th>instance</th><th class=\"num\">tokens issued</th>"
        out += "<th class=\"num\">failed authentications</th><th class=\"num\">other refusals</th></tr></thead><tbody>"
        for (key, counts) in tokens.entries.sorted(by: { ($0.key.customer, $0.key.instance) < ($1.key.customer, $1.key.instance) }) {
            out += "<tr class=\"token-row\" data-customer=\"\(Self.escape(key.customer))\" data-instance=\"\(Self.escape(key.instance))\" "
            out += "data-issued=\"\(counts.issued)\" data-failed=\"\(counts.failedAuthentications)\" data-refused=\"\(counts.otherRefusals)\">"
            out += "<td>\(Self.escape(key.customer))</td><td>\(Self.escape(key.instance))</td><td class=\"num\">\(counts.issued)</td>"
            out += "<td class=\"num no\">\(counts.failedAuthentications)</td><td class=\"num\">\(counts.otherRefusals)</td></tr>"
        }
        return out + "</tbody></table><p class=\"note\">Failed authentications: token requests refused as <code>invalid_client</code> "
            + "(wrong or rotated-out secret, revoked instance, unknown client id).</p></section>"
    }

    private func eventTypesSection() -> String {
        var out = "<section id=\"events\"><h2>All events by type</h2><table><thead><tr><th>event</th>"
        out += "<th class=\"num\">allowed</th><th class=\"num\">denied</th><th class=\"num\">error</th></tr></thead><tbody>"
        for (event, counts) in eventCounts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out += "<tr data-event=\"\(event.rawValue)\"><td><code>\(event.rawValue)</code></td>"
            out += counts.map { "<td class=\"num\">\($0)</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table></section>"
    }

    // MARK: Helpers

    /// `text` safe inside HTML text and double- or single-quoted attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// The `count` largest keys of `totals`; `label` maps the others to `others`.
    static func top(_ totals: [String: Int], _ count: Int) -> (shown: [String], label: (String) -> String) {
        let sorted = totals.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key).filter { $0 != others }
        guard sorted.count > count || totals[others] != nil else { return (sorted, { $0 }) }
        let kept = Set(sorted.prefix(count))
        return (Array(sorted.prefix(count)) + [others], { kept.contains($0) ? $0 : others })
    }

    /// A legend: one swatch and name per colour.
    static func legend(_ items: [(String, String)]) -> String {
        "<ul class=\"legend\">" + items.map { "<li><span class=\"sw\" style=\"background:\($1)\"></span>\(escape($0))</li>" }.joined() + "</ul>"
    }

    /// `2026-12-01 04:36 UTC`.
    static func shortTime(_ time: Timestamp) -> String { String(time.rfc3339.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC" }

    static let css = """
        :root{--ok:#1a7f37;--no:#c62828;--ink:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f5f6f8}\
        *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);\
        font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif;\
        -webkit-print-color-adjust:exact;print-color-adjust:exact}main{max-width:1180px;margin:0 auto;padding:24px 32px 40px}\
        h1{font-size:26px;margin:0 0 4px}h1 .scope{font-weight:400;color:var(--muted)}h2{font-size:18px;margin:0 0 12px}\
        section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:16px 0}\
        .sub,.filters,.note,footer,.via{color:var(--muted)}.filters span{margin-right:14px}.note{font-size:13px}\
        .banner.verified{border-left:6px solid var(--ok)}.banner.verified h2{color:var(--ok)}\
        .banner.failed{border:2px solid var(--no);border-left-width:8px;background:#fdeceb}.banner.failed h2,.problem{color:var(--no);font-weight:700}.empty{font-size:17px;color:var(--muted)}\
        dl.checkpoint{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0 0}dd{margin:0}\
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\
        th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\
        .num{text-align:right}.ok{color:var(--ok)}.no{color:var(--no)}.zero{color:var(--line);text-align:center}\
        .matrix td.cell,.matrix tbody th{white-space:nowrap}.matrix td.cell{font-weight:600}.via{font-size:12px;font-weight:400}.scroll{overflow-x:auto}\
        .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}\
        .figure{border:1px solid var(--line);border-radius:6px;padding:10px 14px;color:var(--muted)}\
        .figure b{display:block;font-size:26px;color:var(--ink)}.figure b.ok{color:var(--ok)}.figure b.no{color:var(--no)}\
        .legend{display:flex;flex-wrap:wrap;gap:4px 18px;list-style:none;margin:10px 0 0;padding:0;font-size:13px}\
        .sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}\
        code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;word-break:break-all}\
        svg{display:block;width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#5b6475}\
        footer{font-size:12px;margin-top:12px}\
        @media print{body{background:#fff;font-size:10.5pt}main{max-width:none;padding:0}\
        section{break-inside:avoid;border:1px solid #bbb;border-radius:0;margin:10px 0;padding:10px 12px}\
        .scroll{overflow:visible}h1{font-size:20px}}
        """
}

import ArgumentParser
import PirvaultCore


struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read, export and verify the tamper-evident audit trail.",
        subcommands: [
            AuditList.self, AuditExport.self, AuditReportCommand.self, AuditVerify.self, AuditPublicKey.self, AuditPrune.self,
        ])
}

/// The filters shared by `audit list`, `audit export` and `audit report`.
struct AuditFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only events at or after T (RFC 3339, or a duration ago such as 24h).", valueName: "T"))
    var since: String?

    @Option(help: ArgumentHelp("Only events at or before T.", valueName: "T"))
    var until: String?

    @Option(help: "Only events of this customer.") var customer: String?
    @Option(name: .customLong("client-id"), help: "Only events of this client id.") var clientID: String?
    @Option(help: "Only calls of this flow path: /http/products/details, or products/details relative to /http/.")
    var flow: String?
    @Option(help: "Only events of this type.") var event: AuditEventType?

    func filter(now: Timestamp, limit: AuditLimitOption? = nil) throws -> AuditFilter {
        AuditFilter(
            since: try since.map { try TimeInput.timestamp(from: $0, now: now) },
            until: try until.map { try TimeInput.timestamp(from: $0, now: now) },
            customer: customer, clientID: clientID, flow: flow.map(FlowPath.gatewayPath(userInput:)), event: event,
            limit: limit?.limit)
    }
}

/// `--limit N`, for the commands that list events (`audit list`, `audit export`); a report counts them all.
struct AuditLimitOption: ParsableArguments {
    @Option(help: "At most N events.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}

struct AuditList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List audit events, newest first.")

    @OptionGroup var vault: VaultOptions
    @OptionGroup var filters: AuditFilterOptions
    @OptionGroup var limit: AuditLimitOption
    @Flag(help: "Print a JSON array.") var json = false

    func run() throws {
        let opened = try vault.openVault()
        let filter = try filters.filter(now: opened.clock.now(), limit: limit)
        if json {
            try Output.jsonArray { element in
                try opened.forEachAuditEvent(filter) { element(String(decoding: $0.canonicalBytes, as: UTF8.self)) }
            }
            return
        }
        var rows: [[String]] = []
        try opened.forEachAuditEvent(filter) { e in
            rows.append([
                e.seq.map(String.init) ?? "-", e.time.rfc3339, e.event.rawValue, e.outcome.rawValue, e.customer ?? "-", e.instance ?? "-",
                e.flow.map { "\(e.method ?? "") \($0)".trimmingCharacters(in: .whitespaces) } ?? "-",
                e.status.map(String.init) ?? "-", e.reason ?? "",
            ])
        }
        Output.table(header: ["SEQ", "TIME", "EVENT", "OUTCOME", "CUSTOMER", "INSTANCE", "FLOW", "STATUS", "REASON"], rows: rows)
    }
}

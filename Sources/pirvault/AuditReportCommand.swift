import ArgumentParser
import PirvaultCore
import PirvaultReport

struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report: gateway calls, denials, tokens and credential events.",
        discussion: """
            The page has no script and fetches nothing, so it can be mailed and read offline. With --customer it \
            holds nothing of any other customer. The log is verified first: if verification fails the report is \
            still written, says so at the top, and the command exits 1.
            """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var filters: AuditFilterOptions
    @Option(
        help: ArgumentHelp("The HTML file to write (mode 0600, via a temporary file renamed into place).", valueName: "file"),
        completion: .file(extensions: ["html"]))
    var output: String

    func run() throws {
        let opened = try vault.openVault()
        let filter = try filters.filter(now: opened.clock.now())
        let sink = try ExportSink(path: output)
        let report = try sink.complete {
            let report = try opened.auditReport(filter)
            try sink.write(Array(report.html().utf8))
            return report
        }
        guard report.verification.isValid else {
            Output.fail("audit log verification failed: \(report.verification.problem ?? ""); \(output) was written and says so", code: 1)
        }
        Output.line("wrote \(output): \(report.events) events, checkpoint at tree size \(report.checkpoint?.treeSize ?? 0)")
    }
}

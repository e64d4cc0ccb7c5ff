@testable import PirvaultCore
import Testing

@testable import PirvaultReport

/// The report page as HTML: escaped, and with the tables' "(others)" rows
/// when there are more customers and flows than it shows.
struct AuditReportPageTests {
    @Test func escapingCoversTextAndAttributes() {
        #expect(AuditReport.escape("<a href='x'>\"&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;")
    }

    @Test func callsOverTimeAreCountedPerHourForAShortPeriod() {
        var report = AuditReport(
            filter: AuditFilter(newestFirst: false), generatedAt: Timestamp(seconds: 1_780_086_400),
            verification: AuditVerificationReport(), checkpoint: nil)
        report.add(
            AuditEvent(
                time: Timestamp(seconds: 1_780_000_010), event: .gatewayCall, outcome: .allowed, reason: "allowed",
                customer: "a", instance: "a-i", flow: "/http/x"))
        #expect(report.callsOverTimeSection().contains("per hour"))
    }

    @Test func customersAndFlowsBeyondTheTablesShowAsOthers() {
        let start = Timestamp(seconds: 1_780_000_000)
        var report = AuditReport(
            filter: AuditFilter(newestFirst: false), generatedAt: start.adding(seconds: 86_400),
            verification: AuditVerificationReport(), checkpoint: nil)
        for i in 0..<5000 {
            report.add(
                AuditEvent(
                    time: start.adding(seconds: Int64(i)), event: .gatewayCall, outcome: i % 3 != 0 ? .allowed : .denied,
                    reason: "reason \(i)", customer: "customer-\(i % 700)", instance: "customer-\(i % 700)-i",
                    flow: "/http/\(i)"))
        }
        let page = report.html()
        #expect(page.contains("data-customer=\"(others)\""))
        #expect(page.contains("data-flow=\"(others)\""))
    }
}

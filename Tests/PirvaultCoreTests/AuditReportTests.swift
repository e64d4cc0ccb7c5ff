import Foundation
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

/// The report's one-pass aggregation, fed events directly.
struct AuditReportAggregationTests {
    static let start = Timestamp(seconds: 1_780_000_000)

    func report(since: Timestamp? = nil, until: Timestamp? = nil) -> AuditReport {
        AuditReport(
            filter: AuditFilter(since: since, until: until, newestFirst: false), generatedAt: Self.start.adding(seconds: 86_400),
            verification: AuditVerificationReport(), checkpoint: nil)
    }

    func call(_ customer: String?, _ flow: String, allowed: Bool = true, at offset: Int64 = 0, reason: String? = nil) -> AuditEvent {
        AuditEvent(
            time: Self.start.adding(seconds: offset), event: .gatewayCall, outcome: allowed ? .allowed : .denied,
            reason: reason ?? (allowed ? "allowed" : "flow not allowed"), customer: customer, instance: customer.map { "\($0)-i" }, flow: flow)
    }

    @Test func theBucketIsAnHourOrADayFromThePeriodsLength() {
        var day = report(since: Self.start, until: Self.start.adding(seconds: 86_400))
        day.add(call("a", "/http/x"))
        #expect(day.bucketSeconds == 3600)
        var month = report(since: Self.start, until: Self.start.adding(seconds: 30 * 86_400))
        month.add(call("a", "/http/x"))
        #expect(month.bucketSeconds == 86_400)
        // No --since: the period starts at the first event and ends at the report's time (a day later).
        var open = report()
        open.add(call("a", "/http/x", at: 10))
        #expect(open.periodStart == Self.start.adding(seconds: 10))
        #expect(open.bucketSeconds == 3600)
    }

    @Test func untrustedInputCannotGrowTheTablesButEveryCallIsCounted() {
        var report = report()
        for i in 0..<5000 {
            report.add(call("customer-\(i % 700)", "/http/\(i)", allowed: i % 3 != 0, at: Int64(i), reason: "reason \(i)"))
        }
        #expect(report.customerCalls.entries.count <= 200)
        #expect(report.flowCalls.entries.count <= 200)
        #expect(report.denialReasons.entries.count <= 100)
        #expect(report.matrix.count <= 200 * 200)
        #expect(report.matrix.values.reduce(0) { $0 + $1.allowed + $1.denied } == 5000)
        #expect(report.denialReasons.entries.values.reduce(0, +) == 1667)
        #expect(report.timeline.values.flatMap(\.values).reduce(0, +) == 5000)
    }

    @Test func eventsAreSortedIntoTheirSections() {
        var report = report()
        report.add(call("a", "/http/x", allowed: false, reason: "token expired"))
        report.add(AuditEvent(time: Self.start, event: .tokenIssue, outcome: .denied, reason: "invalid_client: wrong client secret", customer: "a", instance: "a-i"))
        report.add(AuditEvent(time: Self.start, event: .tokenIssue, outcome: .allowed, customer: "a", instance: "a-i"))
        report.add(AuditEvent(time: Self.start, event: .credentialsRotate, outcome: .allowed, customer: "a", instance: "a-i"))
        report.add(AuditEvent(time: Self.start, event: .tokenVerify, outcome: .allowed, customer: "a", instance: "a-i"))
        #expect(report.events == 5)
        #expect(report.matrix.count == 1)  // token.verify without a flow is no flow decision
        #expect(report.denialReasons.entries == ["token expired": 1])
        let tokens = report.tokens.entries[AuditReport.InstanceKey(customer: "a", instance: "a-i")]
        #expect(tokens?.issued == 1 && tokens?.failedAuthentications == 1 && tokens?.otherRefusals == 0)
        #expect(report.credentialCounts == [.credentialsRotate: 1])
        #expect(report.eventCounts[.tokenIssue] == [1, 1, 0])
    }

    @Test func aVaultReportIsAuditedAndBuiltFromANewCheckpoint() throws {
        let fixture = try auditFixture()
        let report = try fixture.vault.auditReport(AuditFilter(customer: "customer-1", limit: 1))
        #expect(report.verification.isValid)
        #expect(report.events == 2)  // both instance.create events of customer-1: --limit does not apply
        let events = try fixture.auditEvents()
        #expect(events.last?.event == .auditReport)
        #expect(events.last?.reason == "html; customer customer-1")
        #expect(report.checkpoint?.treeSize == Int64(events.count))
    }
}

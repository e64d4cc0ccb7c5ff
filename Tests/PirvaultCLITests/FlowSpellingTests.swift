import Foundation
import Testing

/// Where a command takes one flow path (README, Command reference), `/http/products/details`
/// and `products/details` mean the same.
@Suite(.boundedParallelism) struct FlowSpellingTests {
    /// A vault whose instance may call `orders/*`, and a token of it.
    static func vaultWithOrdersToken() async throws -> (CLI, String) {
        let cli = try await CLI.withVault()
        let client = try serviceKeyCredentials(
            await cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        let token = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (cli, token)
    }

    @Test func tokenVerifyTakesBothSpellings() async throws {
        let (cli, token) = try await Self.vaultWithOrdersToken()
        defer { cli.removeDirectory() }

        for flow in ["/http/orders/7", "orders/7"] {
            let allowed = await cli.run("token", "verify", token, "--flow", flow)
            #expect(allowed.code == 0, "\(flow): \(allowed.stderr)")
        }
        for flow in ["/http/invoices/1", "invoices/1"] {
            let denied = await cli.run("token", "verify", token, "--flow", flow)
            #expect(denied.code == 1, "\(flow)")
            #expect(denied.stderr.contains("not among the flows allowed"), "\(flow): \(denied.stderr)")
        }
        for flow in ["orders/../admin", "/orders/7"] {
            let invalid = await cli.run("token", "verify", token, "--flow", flow)
            #expect(invalid.code == 1, "\(flow)")
            #expect(invalid.stderr.contains("invalid flow path"), "\(flow): \(invalid.stderr)")
        }
        // Audited under the full path, whichever spelling was typed.
        let events = try #require(try await parseJSON(cli.run("audit", "list", "--event", "token.verify", "--json").stdout) as? [[String: Any]])
        #expect(events.compactMap { $0["flow"] as? String }.filter { $0 == "/http/orders/7" }.count == 2)
    }

    @Test func auditFiltersTakeBothSpellings() async throws {
        let (cli, token) = try await Self.vaultWithOrdersToken()
        defer { cli.removeDirectory() }
        for flow in ["/http/orders/7", "/http/orders/8", "/http/orders/7"] {
            #expect(await cli.run("token", "verify", token, "--flow", flow).code == 0)
        }

        let full = await cli.run("audit", "list", "--flow", "/http/orders/7", "--json")
        let relative = await cli.run("audit", "list", "--flow", "orders/7", "--json")
        #expect(full.code == 0 && relative.code == 0)
        #expect((try parseJSON(full.stdout) as? [Any])?.count == 2)
        #expect(relative.stdout == full.stdout)

        let fullExport = await cli.run("audit", "export", "--format", "csv", "--flow", "/http/orders/8")
        let relativeExport = await cli.run("audit", "export", "--format", "csv", "--flow", "orders/8")
        #expect(fullExport.code == 0 && relativeExport.code == 0)
        #expect(fullExport.stdout.split(whereSeparator: \.isNewline).count == 2, "header and one event: \(fullExport.stdout)")
        #expect(relativeExport.stdout == fullExport.stdout)

        for (spelling, file) in [("/http/orders/7", "full.html"), ("orders/7", "relative.html")] {
            let report = await cli.run("audit", "report", "--flow", spelling, "--output", cli.directory + "/" + file)
            #expect(report.code == 0, "\(report.stderr)")
            #expect(report.stdout.contains(": 2 events"), "\(spelling): \(report.stdout)")
        }
    }
}

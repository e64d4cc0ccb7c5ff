import Foundation
import PirvaultTestSupport
import Testing

/// `GET /metrics` of a real `pirvault serve`, read by Prometheus' own Python
/// parser (`prometheus_client`): every metric of the operations contract is
/// there with HELP and TYPE, the
/// figures match what was done, and no label holds a secret or a token.
@Suite(.boundedParallelism) struct MetricsTests {
    @Test func metricsParseWithPrometheusClientAndHoldNoSecrets() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let acme = try await serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let server = try await ServeTests.RunningServer(cli: cli)
        try await withDeferred { deferred in
            deferred { _ = await server.stop() }

            let issued = await ServeTests.fetchToken(cli, server.baseURL, id: acme.id, secret: acme.secret)
            let token = try #require(issued.token)
            #expect(await ServeTests.curl(cli, server.baseURL + "/http/orders/1", headers: ["Authorization: Bearer " + token]).status == 200)
            #expect(await ServeTests.curl(cli, server.baseURL + "/http/orders/1", headers: ["Authorization: Bearer " + token + "x"]).status == 401)
            let wrongSecret = acme.secret + "-wrong"
            #expect(await ServeTests.fetchToken(cli, server.baseURL, id: acme.id, secret: wrongSecret).status == 401)

            let exposition = await ServeTests.curl(cli, server.baseURL + "/metrics")
            #expect(exposition.status == 200)
            for secret in [acme.secret, wrongSecret, token] {
                #expect(!exposition.body.contains(secret), "a secret or token is in /metrics")
            }
            var python = cli
            python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let parsed = await python.runExecutable(
                "/usr/bin/env", ["python3", ServeTests.interop + "/parse_metrics.py"], stdin: exposition.body)
            #expect(parsed.code == 0, "\(parsed.stderr)")
            let root = try #require(try parseJSON(parsed.stdout) as? [String: Any])
            let families = try #require(root["families"] as? [String: [String: Any]])

            // prometheus_client names a counter family without its `_total`.
            let expected: [(String, String)] = [
                ("pirvault_http_requests", "counter"), ("pirvault_http_request_duration_seconds", "histogram"),
                ("pirvault_tokens_issued", "counter"), ("pirvault_gateway_decisions", "counter"),
                ("pirvault_audit_events", "counter"), ("pirvault_audit_commit_duration_seconds", "histogram"),
                ("pirvault_audit_batch_size", "histogram"), ("pirvault_auth_failures", "counter"),
                ]
            for (name, type) in expected {
                let family = try #require(families[name], "\(name) is missing from /metrics")
                #expect(family["type"] as? String == type, "\(name)")
                #expect((family["help"] as? String).map { !$0.isEmpty } == true, "\(name) has no HELP line")
            }
            for (name, family) in families {
                #expect((family["help"] as? String).map { !$0.isEmpty } == true, "\(name) has no HELP line")
            }

            func value(_ sample: String, _ labels: [String: String]) -> Double? {
                for family in families.values {
                    for case let row as [Any] in family["samples"] as? [Any] ?? [] where row[0] as? String == sample {
                        if row[1] as? [String: String] == labels { return row[2] as? Double }
                    }
                }
                return nil
            }
            #expect(value("pirvault_tokens_issued_total", ["customer": "ACME", "format": "jwt"]) == 1)
            #expect(value("pirvault_gateway_decisions_total", ["customer": "ACME", "outcome": "allowed"]) == 1)
            #expect(value("pirvault_gateway_decisions_total", ["customer": "", "outcome": "unauthenticated"]) == 1)
            #expect(value("pirvault_auth_failures_total", ["reason": "wrong_secret"]) == 1)
            #expect(value("pirvault_auth_failures_total", ["reason": "malformed"]) == 1)
            #expect(value("pirvault_http_requests_total", ["route": "/oauth/token", "status": "200"]) == 1)
            #expect(value("pirvault_http_requests_total", ["route": "/oauth/token", "status": "401"]) == 1)
            #expect(value("pirvault_http_requests_total", ["route": "/http/**", "status": "200"]) == 1)
            // Four audited calls so far: two token requests, two gateway calls.
            #expect(value("pirvault_audit_events_total", [:]) == 4)
        }
    }
}

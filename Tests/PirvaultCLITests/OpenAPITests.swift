import Foundation
import PirvaultTestSupport
import Testing

/// `docs/openapi.yaml` stays true: `Tests/interop/openapi_check.py` validates
/// it with openapi-spec-validator, then drives a live `pirvault serve` with
/// requests schemathesis generates from it, and every answer must conform to
/// the description (status, content type, headers, body) with no 5xx.
@Suite(.boundedParallelism) struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let spec = root.appendingPathComponent("docs/openapi.yaml").path
    static let driver = root.appendingPathComponent("Tests/interop/openapi_check.py").path

    @Test(.timeLimit(.minutes(3))) func aLiveServerAnswersAsTheDescriptionSays() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        // One instance that may call every flow, also with HTTP Basic (the
        // password grant), whose credentials the driver gets; one api plan
        // instance of another customer beside it.
        let created = await cli.run([
            "instance", "create", "acme-orders", "--customer", "ACME", "--flow", "*",
            "--grant-type", "client_credentials", "--grant-type", "password",
        ])
        let client = try serviceKeyCredentials(created.stdout)
        let other = await cli.run(["instance", "create", "globex-monitoring", "--customer", "Globex", "--plan", "api", "--role", "MonitoringDataRead"])
        #expect(other.code == 0, "\(other.stderr)")

        let server = try await ServeTests.RunningServer(cli: cli)
        try await withDeferred { deferred in
            deferred { _ = await server.stop() }
            let token = try #require(await ServeTests.fetchToken(cli, server.baseURL, id: client.id, secret: client.secret).token)

            // The credentials go to the driver on stdin, never on a command line.
            let credentials = try JSONSerialization.data(withJSONObject: [
                "client_id": client.id, "client_secret": client.secret, "token": token,
            ])
            var python = CLI()
            defer { python.removeDirectory() }
            python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            python.environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
            // Bounded twice: the driver stops generating after --time-limit
            // seconds, and timeout(1) ends it if it hangs.
            let run = await python.runExecutable(
                "/usr/bin/timeout",
                ["-k", "5", "90", "python3", Self.driver, Self.spec, server.baseURL, "--max-examples", "20", "--time-limit", "60"],
                input: credentials)
            let serverErrors = (try? String(contentsOfFile: cli.directory + "/serve.err", encoding: .utf8)) ?? ""
            #expect(run.code == 0, "\(run.stdout)\n\(run.stderr.suffix(4000))\nserver: \(serverErrors.suffix(2000))")

            let summary = try #require(try parseJSON(run.stdout) as? [String: Any], "\(run.stdout)\(run.stderr.suffix(4000))")
            #expect(summary["spec_valid"] as? Bool == true)
            #expect(summary["passed"] as? Bool == true)
            #expect((summary["untested_operations"] as? [String])?.isEmpty == true)
            // Enough cases that the success paths and the refusals were both seen.
            let statuses = summary["statuses"] as? [String: Int] ?? [:]
            #expect((summary["cases"] as? Int ?? 0) >= 200, "\(summary)")
            for status in ["200", "400", "401"] {
                #expect((statuses[status] ?? 0) > 0, "no \(status) answer among \(statuses)")
            }
            #expect(!statuses.keys.contains { $0.hasPrefix("5") }, "\(statuses)")
            print("openapi_check: \(summary["cases"] ?? 0) cases in \(summary["seconds"] ?? 0) s, statuses \(statuses)")
        }
    }
}

import Foundation
import Testing

/// `--parameters FILE|-` on `instance create` and `instance update`: the
/// cockpit's / `cf create-service -c` instance parameters JSON, checked like
/// the equivalent flags.
@Suite(.serialized, .boundedParallelism) struct InstanceParametersTests {
    func write(_ cli: CLI, _ json: String) -> String {
        let path = cli.directory + "/parameters-\(UUID().uuidString).json"
        FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        return path
    }

    func show(_ cli: CLI, _ name: String) async throws -> [String: Any] {
        try #require(try await parseJSON(cli.run("instance", "show", name, "--json").stdout) as? [String: Any])
    }

    @Test func createAndUpdateTakeInstanceParameters() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let file = write(cli, #"{"roles": ["ESBMessaging.send"], "grant-types": ["client_credentials", "password"]}"#)
        #expect(await cli.run("instance", "create", "basic", "--customer", "ACME", "--parameters", file).code == 0)
        #expect(try await show(cli, "basic")["grant_types"] as? [String] == ["client_credentials", "password"])

        // From stdin, with other flags alongside.
        let code = #"{"grant-types": ["client_credentials", "authorization_code"], "redirect-uris": ["https://app.example/cb"]}"#
        let created = await cli.run(["instance", "create", "web", "--customer", "ACME", "--token-format", "opaque", "--parameters", "-"], stdin: code)
        #expect(created.code == 0, "\(created.stderr)")
        let web = try await show(cli, "web")
        #expect(web["redirect_uris"] as? [String] == ["https://app.example/cb"])
        #expect(web["token_format"] as? String == "opaque")

        #expect(await cli.run("instance", "create", "ops", "--customer", "ACME", "--plan", "api", "--parameters",
            write(cli, #"{"roles": ["MonitoringDataRead"]}"#)).code == 0)
        #expect(try await show(cli, "ops")["roles"] as? [String] == ["MonitoringDataRead"])

        // An update's lists replace the instance's; other flags still apply.
        let updated = await cli.run("instance", "update", "ops", "--token-ttl", "600", "--parameters",
            write(cli, #"{"roles": ["WorkspacePackagesRead", "MessagePayloadsRead"]}"#))
        #expect(updated.code == 0, "\(updated.stderr)")
        let ops = try await show(cli, "ops")
        #expect(ops["roles"] as? [String] == ["WorkspacePackagesRead", "MessagePayloadsRead"])
        #expect(ops["token_ttl"] as? Int == 600)
        #expect(await cli.run("instance", "update", "basic", "--parameters", write(cli, #"{"grant-types": ["client_credentials"]}"#)).code == 0)
        #expect(try await show(cli, "basic")["grant_types"] as? [String] == ["client_credentials"])
    }

    @Test func badParametersAreUsageErrorsAndChangeNothing() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        #expect(await cli.run("instance", "create", "ops", "--customer", "ACME", "--plan", "api").code == 0)
        #expect(await cli.run("instance", "create", "flows", "--customer", "ACME").code == 0)
        let create = ["instance", "create", "x", "--customer", "ACME", "--parameters"]
        let createAPI = ["instance", "create", "x", "--customer", "ACME", "--plan", "api", "--parameters"]
        let cases: [([String], String?, String)] = [
            (create + [write(cli, #"{"roles": ["ESBMessaging.send"], "scopes": ["x"]}"#)], nil, "unknown instance parameter 'scopes'"),
            (create + [write(cli, #"{"roles": ["Admin"]}"#)], nil, "unknown role 'Admin'"),
            (create + [write(cli, #"{"grant-types": ["implicit"]}"#)], nil, "unknown grant type 'implicit'"),
            (create + [write(cli, #"{"roles": "ESBMessaging.send"}"#)], nil, "'roles' must be an array of strings"),
            (create + [write(cli, #"{"redirect-uris": [42]}"#)], nil, "'redirect-uris' must be an array of strings"),
            (create + [write(cli, #"["ESBMessaging.send"]"#)], nil, "must be a JSON object"),
            (create + [write(cli, #"{"roles": ["a"], "roles": ["b"]}"#)], nil, "not valid JSON"),
            (create + ["-"], "roles: ESBMessaging.send", "not valid JSON"),
            (create + [cli.directory + "/missing.json"], nil, "cannot open instance parameters file"),
            (createAPI + [write(cli, #"{"grant-types": ["client_credentials", "password"]}"#)], nil, "password grant"),
            (create + [write(cli, #"{"grant-types": ["authorization_code"]}"#)], nil, "needs at least one --redirect-uri"),
            (create + [write(cli, #"{"roles": ["ESBMessaging.send"]}"#), "--role", "ESBMessaging.send"], nil, "given both in --parameters and with --role"),
            (create + ["-", "--secret-stdin"], "{}", "both read stdin"),
            (["instance", "update", "ops", "--parameters", write(cli, #"{"grant-types": ["password"]}"#)], nil, "password grant"),
            (["instance", "update", "ops", "--parameters", write(cli, #"{"roles": ["ESBMessaging.send"]}"#)], nil, "unknown role"),
            (["instance", "update", "flows", "--add-role", "ESBMessaging.send", "--parameters", write(cli, #"{"roles": []}"#)], nil, "given both"),
            (["instance", "update", "flows", "--parameters", write(cli, #"{"roles": []}"#)], nil, "at least one role"),
        ]
        let before = await cli.run("instance", "list", "--json").stdout
        let events = await cli.run("audit", "list", "--json").stdout
        for (arguments, stdin, message) in cases {
            let result = await cli.run(arguments, stdin: stdin)
            let line = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(result.code == 2, "\(arguments): exit \(result.code), \(line)")
            #expect(line.contains(message), "\(arguments): \(line)")
            #expect(!line.isEmpty && !line.contains("\n") && result.stdout.isEmpty, "\(arguments): \(result.stderr)")
        }
        #expect(await cli.run("instance", "list", "--json").stdout == before)
        #expect(await cli.run("audit", "list", "--json").stdout == events)
    }
}

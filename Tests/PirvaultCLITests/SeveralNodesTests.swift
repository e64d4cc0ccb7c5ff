import Foundation
import PirvaultTestSupport
import Testing

/// Several `pirvault serve` nodes on one PostgreSQL vault (docs/several-nodes.md): they
/// agree from the next request on, share one audit log, lose nothing when a
/// node is killed, and ride out a database outage without a restart.
@Suite(.serialized) struct SeveralNodesTests {
    /// Every node names the same public issuer, as behind a load balancer.
    static let issuer = "http://pirvault.test"

    /// A CLI whose vault is a new database on `postgres`, initialised with a key file.
    static func cliWithPostgresVault(_ postgres: TestPostgres) throws -> CLI {
        var cli = CLI()
        cli.environment["PIRVAULT_PATH"] = postgres.url(database: try postgres.createDatabase("nodes"))
        cli.environment["PGPASSWORD"] = postgres.superuserPassword
        let created = cli.run("init", "--key-file", cli.keyPath, "--generate-key")
        guard created.code == 0 else { throw CLI.CLIError(created.stderr) }
        cli.environment["PIRVAULT_KEY_FILE"] = cli.keyPath
        return cli
    }

    /// A node: its own folder for logs, the shared vault and key.
    static func startNode(_ cli: CLI, port: Int? = nil) throws -> ServeTests.RunningServer {
        var node = CLI()
        node.environment = cli.environment
        return try ServeTests.RunningServer(cli: node, port: port, extraArguments: ["--issuer", issuer])
    }

    static func bearer(_ token: String) -> [String] { ["Authorization: Bearer \(token)"] }

    @Test func nodesAgreeFromTheNextRequestOn() throws {
        let cli = try Self.cliWithPostgresVault(TestPostgres.shared)
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        let nodes = try (0..<3).map { _ in try Self.startNode(cli) }
        defer { for node in nodes { _ = node.stop() } }
        let (a, b, c) = (nodes[0].baseURL, nodes[1].baseURL, nodes[2].baseURL)

        // A token from one node works at every node: gateway, introspection, /authorize.
        let token = try #require(ServeTests.fetchToken(cli, a, id: acme.id, secret: acme.secret).token)
        #expect(ServeTests.curl(cli, b + "/http/orders/7", headers: Self.bearer(token)).status == 200)
        let introspected = ServeTests.curl(
            cli, c + "/oauth/introspect", ["user": "\(acme.id):\(acme.secret)", "data": "token=\(token)"])
        #expect(introspected.body.contains("\"active\":true"), "\(introspected)")
        let authorized = ServeTests.curl(
            cli, c + "/authorize", headers: Self.bearer(token) + ["X-Original-URI: /http/orders/8"])
        #expect(authorized.status == 200)

        // RFC 7009 revocation at one node: the others refuse the token on their next request.
        let revoked = ServeTests.curl(cli, b + "/oauth/revoke", ["user": "\(acme.id):\(acme.secret)", "data": "token=\(token)"])
        #expect(revoked.status == 200)
        for node in [a, c] {
            #expect(ServeTests.curl(cli, node + "/http/orders/7", headers: Self.bearer(token)).status == 401)
        }

        // Signing-key rotation by the CLI: every node publishes the new key at once, and a
        // token signed with it by one node verifies at the others.
        let kid = try #require(cli.run("keys", "rotate-signing").stdout.split(separator: " ").last.map(String.init))
        for node in [a, b, c] {
            #expect(ServeTests.curl(cli, node + "/token_keys").body.contains(kid.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let fresh = try #require(ServeTests.fetchToken(cli, c, id: acme.id, secret: acme.secret).token)
        #expect(ServeTests.curl(cli, a + "/http/orders/9", headers: Self.bearer(fresh)).status == 200)

        // Instance revocation by the CLI: warm nodes refuse the token and the secret at once.
        #expect(cli.run("credentials", "revoke", "acme").code == 0)
        for node in [a, b, c] {
            #expect(ServeTests.curl(cli, node + "/http/orders/9", headers: Self.bearer(fresh)).status == 401)
            #expect(ServeTests.fetchToken(cli, node, id: acme.id, secret: acme.secret).status == 401)
        }
        #expect(cli.run("audit", "verify").code == 0)
    }

    @Test func theFailedAuthenticationLimitCountsAcrossNodes() throws {
        let cli = try Self.cliWithPostgresVault(TestPostgres.shared)
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let nodes = try (0..<2).map { _ in try Self.startNode(cli) }
        defer { for node in nodes { _ = node.stop() } }
        // Ten wrong secrets, five at each node: each node alone has seen only five.
        for attempt in 0..<10 {
            let answer = ServeTests.fetchToken(cli, nodes[attempt % 2].baseURL, id: acme.id, secret: "wrong-\(attempt)")
            #expect(answer.status == 401)
        }
        for node in nodes {
            #expect(ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 429)
        }
    }

    /// Each acknowledged answer of `acks` is in the audit log.
    static func expectNothingLost(_ cli: CLI, acks: [String]) throws -> (tokens: Int, calls: Int) {
        let rows = try parseJSON(cli.run("audit", "list", "--json").stdout) as? [[String: Any]] ?? []
        var allowed: [String: String] = [:]
        for row in rows where row["outcome"] as? String == "allowed" {
            allowed[row["request_id"] as? String ?? ""] = (row["event"] as? String == "token.issue" ? row["jti"] as? String : "call")
        }
        var counts = (tokens: 0, calls: 0)
        for path in acks {
            for ack in LoadClient.acknowledgements(path) {
                let expected = ack.kind == "token" ? ack.value : "call"
                #expect(allowed[ack.requestID] == expected, "acknowledged \(ack) is not in the audit log")
                if ack.kind == "token" { counts.tokens += 1 } else { counts.calls += 1 }
            }
        }
        return counts
    }

    static func waitForAcknowledgements(_ path: String, moreThan count: Int, seconds: Double = 20) {
        let deadline = Date().addingTimeInterval(seconds)
        while LoadClient.acknowledgedBytes(path) <= count && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    @Test func aNodeKilledUnderLoadLosesNoAcknowledgedRequest() throws {
        let cli = try Self.cliWithPostgresVault(TestPostgres.shared)
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let port = try LoopbackPort.free()
        var first = try Self.startNode(cli, port: port)
        let second = try Self.startNode(cli)
        let acks = [cli.directory + "/acks-1", cli.directory + "/acks-2"]
        let loads = [
            try LoadClient(cli: cli, baseURL: first.baseURL, client: acme, flow: "/http/orders/1", acks: acks[0], workers: 3),
            try LoadClient(cli: cli, baseURL: second.baseURL, client: acme, flow: "/http/orders/2", acks: acks[1], workers: 3),
        ]
        for round in 0..<3 {
            Self.waitForAcknowledgements(acks[0], moreThan: LoadClient.acknowledgedBytes(acks[0]))
            Thread.sleep(forTimeInterval: 0.2 + 0.1 * Double(round))
            first.crash()
            first = try Self.startNode(cli, port: port)
        }
        Self.waitForAcknowledgements(acks[0], moreThan: LoadClient.acknowledgedBytes(acks[0]))
        let summaries = try loads.map { try $0.stop() }
        #expect(first.stop() == 0)
        #expect(second.stop() == 0)
        let counted = try Self.expectNothingLost(cli, acks: acks)
        #expect(counted.tokens > 0 && counted.calls > 0)
        let verify = cli.run("audit", "verify")
        #expect(verify.code == 0, "\(verify.stderr)")
        print("several nodes, 3 SIGKILLs of one node: \(counted.tokens) tokens and \(counted.calls) calls acknowledged, 0 lost; \(summaries)")
    }

    @Test func aDatabaseOutageGives503AndRecoversWithoutARestart() throws {
        let postgres = try TestPostgres()  // its own server: this test stops it
        defer { postgres.shutdown() }
        let cli = try Self.cliWithPostgresVault(postgres)
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let node = try Self.startNode(cli)
        let acks = cli.directory + "/acks"
        let load = try LoadClient(cli: cli, baseURL: node.baseURL, client: acme, flow: "/http/orders/1", acks: acks, workers: 3)
        Self.waitForAcknowledgements(acks, moreThan: 0)

        try postgres.stop()
        Thread.sleep(forTimeInterval: 0.5)
        let during = ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret)
        #expect(during.status == 503, "a node that cannot commit must answer 503, not \(during.status)")
        let beforeRestart = LoadClient.acknowledgedBytes(acks)
        Thread.sleep(forTimeInterval: 1)
        try postgres.start()

        Self.waitForAcknowledgements(acks, moreThan: beforeRestart)
        #expect(LoadClient.acknowledgedBytes(acks) > beforeRestart, "no 200 after the database came back")
        #expect(ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 200)
        let summary = try load.stop()
        #expect(node.stop() == 0)
        let counted = try Self.expectNothingLost(cli, acks: [acks])
        #expect(cli.run("audit", "verify").code == 0)
        print("database outage: 503 during it, 200 after it without a restart; \(counted) acknowledged, 0 lost; \(summary)")
    }
}

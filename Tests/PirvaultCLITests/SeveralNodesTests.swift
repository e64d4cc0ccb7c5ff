import Foundation
import PirvaultTestSupport
import Testing

/// Several `pirvault serve` nodes on one PostgreSQL vault (docs/several-nodes.md): they
/// agree from the next request on, share one audit log, lose nothing when a
/// node is killed, and ride out a database outage without a restart.
@Suite(.serialized, .boundedParallelism) struct SeveralNodesTests {
    /// Every node names the same public issuer, as behind a load balancer.
    static let issuer = "http://pirvault.test"

    /// A CLI whose vault is a new database on `postgres`, initialised with a key file.
    static func cliWithPostgresVault(_ postgres: TestPostgres) async throws -> CLI {
        var cli = CLI()
        cli.environment["PIRVAULT_PATH"] = postgres.url(database: try await postgres.createDatabase("nodes"))
        cli.environment["PGPASSWORD"] = postgres.superuserPassword
        let created = await cli.run("init", "--key-file", cli.keyPath, "--generate-key")
        guard created.code == 0 else { throw CLI.CLIError(created.stderr) }
        cli.environment["PIRVAULT_KEY_FILE"] = cli.keyPath
        return cli
    }

    /// Runs `body` with a PostgreSQL server of its own, which the test may
    /// stop or freeze, holding a new vault, and the CLI for that vault; both
    /// are removed when `body` returns.
    static func withOwnPostgres<T>(_ body: (TestPostgres, CLI, Deferred) async throws -> T) async throws -> T {
        let postgres = try await TestPostgres()
        return try await withDeferred { deferred in
            deferred { await postgres.shutdown() }
            let cli = try await cliWithPostgresVault(postgres)
            defer { cli.removeDirectory() }
            return try await body(postgres, cli, deferred)
        }
    }

    /// A node: its own folder for logs, the shared vault and key.
    static func startNode(_ cli: CLI, port: Int? = nil) async throws -> ServeTests.RunningServer {
        var node = CLI()
        node.environment = cli.environment
        return try await ServeTests.RunningServer(cli: node, port: port, extraArguments: ["--issuer", issuer])
    }

    static func bearer(_ token: String) -> [String] { ["Authorization: Bearer \(token)"] }

    @Test func nodesAgreeFromTheNextRequestOn() async throws {
        let cli = try await Self.cliWithPostgresVault(TestPostgres.shared())
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        var nodes: [ServeTests.RunningServer] = []
        for _ in 0..<3 { nodes.append(try await Self.startNode(cli)) }
        try await withDeferred { deferred in
            deferred { for node in nodes { _ = await node.stop() } }
            let (a, b, c) = (nodes[0].baseURL, nodes[1].baseURL, nodes[2].baseURL)

            // A token from one node works at every node: gateway, introspection, /authorize.
            let token = try #require(await ServeTests.fetchToken(cli, a, id: acme.id, secret: acme.secret).token)
            #expect(await ServeTests.curl(cli, b + "/http/orders/7", headers: Self.bearer(token)).status == 200)
            let introspected = await ServeTests.curl(
                cli, c + "/oauth/introspect", ["user": "\(acme.id):\(acme.secret)", "data": "token=\(token)"])
            #expect(introspected.body.contains("\"active\":true"), "\(introspected)")
            let authorized = await ServeTests.curl(
                cli, c + "/authorize", headers: Self.bearer(token) + ["X-Original-URI: /http/orders/8"])
            #expect(authorized.status == 200)

            // RFC 7009 revocation at one node: the others refuse the token on their next request.
            let revoked = await ServeTests.curl(cli, b + "/oauth/revoke", ["user": "\(acme.id):\(acme.secret)", "data": "token=\(token)"])
            #expect(revoked.status == 200)
            for node in [a, c] {
                #expect(await ServeTests.curl(cli, node + "/http/orders/7", headers: Self.bearer(token)).status == 401)
            }

            // Signing-key rotation by the CLI: every node publishes the new key at once, and a
            // token signed with it by one node verifies at the others.
            let rotation = await cli.run("keys", "rotate-signing", "--publish-ahead", "0s")
            let kid = try #require(rotation.stdout.split(separator: " ").dropFirst(3).first.map(String.init), "\(rotation.stdout)")
            for node in [a, b, c] {
                #expect(await ServeTests.curl(cli, node + "/token_keys").body.contains(kid))
            }
            let fresh = try #require(await ServeTests.fetchToken(cli, c, id: acme.id, secret: acme.secret).token)
            #expect(await ServeTests.curl(cli, a + "/http/orders/9", headers: Self.bearer(fresh)).status == 200)

            // Instance revocation by the CLI: warm nodes refuse the token and the secret at once.
            #expect(await cli.run("credentials", "revoke", "acme").code == 0)
            for node in [a, b, c] {
                #expect(await ServeTests.curl(cli, node + "/http/orders/9", headers: Self.bearer(fresh)).status == 401)
                #expect(await ServeTests.fetchToken(cli, node, id: acme.id, secret: acme.secret).status == 401)
            }
            #expect(await cli.run("audit", "verify").code == 0)
        }
    }

    /// A staged signing key takes over on every node at the moment stored
    /// with it: before it, both nodes sign with the old key; from it on,
    /// both with the new one, with no reload in between.
    @Test func nodesSwitchToTheNextSigningKeyAtTheSameMoment() async throws {
        let cli = try await Self.cliWithPostgresVault(TestPostgres.shared())
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        var nodes: [ServeTests.RunningServer] = []
        for _ in 0..<2 { nodes.append(try await Self.startNode(cli)) }
        try await withDeferred { deferred in
            deferred { for node in nodes { _ = await node.stop() } }
            let first = try #require(await ServeTests.fetchToken(cli, nodes[0].baseURL, id: acme.id, secret: acme.secret).token)
            let oldKid = try #require(try ServeTests.header(of: first)["kid"] as? String)
            let rotation = await cli.run("keys", "rotate-signing", "--publish-ahead", "4s")
            #expect(rotation.code == 0, "\(rotation.stderr)")
            // "new RS256 kid <kid> signs from <time>; ..."
            let words = rotation.stdout.split(separator: " ")
            let newKid = try #require(words.firstIndex(of: "kid").map { String(words[$0 + 1]) })
            let switchTime = try #require(
                words.firstIndex(of: "from").flatMap { rfc3339(String(words[$0 + 1]).trimmingCharacters(in: CharacterSet(charactersIn: ";\n"))) })
            // Tokens from both nodes, alternately, from before the switch until after it.
            var seen: [(node: Int, issuedAt: Date, kid: String)] = []
            let end = switchTime.addingTimeInterval(2)
            while Date() < end {
                for (index, node) in nodes.enumerated() {
                    let before = Date()
                    let token = try #require(await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).token)
                    let kid = try #require(ServeTests.header(of: token)["kid"] as? String)
                    seen.append((index, before, kid))
                    // Asked before the switch and signed after it is possible; signed before it and asked after is not.
                    if kid == oldKid { #expect(before < switchTime, "node \(index) signed with the old key after the switch") }
                    if kid == newKid { #expect(Date() >= switchTime, "node \(index) signed with the new key before the switch") }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            for index in nodes.indices {
                #expect(seen.contains { $0.node == index && $0.kid == oldKid }, "node \(index) signed with the old key first")
                #expect(seen.contains { $0.node == index && $0.kid == newKid }, "node \(index) took up the new key")
            }
            #expect(Set(seen.map(\.kid)) == [oldKid, newKid])
        }
    }

    @Test func theFailedAuthenticationLimitCountsAcrossNodes() async throws {
        let cli = try await Self.cliWithPostgresVault(TestPostgres.shared())
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        var nodes: [ServeTests.RunningServer] = []
        for _ in 0..<2 { nodes.append(try await Self.startNode(cli)) }
        await withDeferred { deferred in
            deferred { for node in nodes { _ = await node.stop() } }
            // Ten wrong secrets, five at each node: each node alone has seen only five.
            for attempt in 0..<10 {
                let answer = await ServeTests.fetchToken(cli, nodes[attempt % 2].baseURL, id: acme.id, secret: "wrong-\(attempt)")
                #expect(answer.status == 401)
            }
            for node in nodes {
                #expect(await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 429)
            }
        }
    }

    /// Each acknowledged answer of `acks` is in the audit log.
    static func expectNothingLost(_ cli: CLI, acks: [String]) async throws -> (tokens: Int, calls: Int) {
        let rows = try parseJSON(await cli.run("audit", "list", "--json").stdout) as? [[String: Any]] ?? []
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

    static func waitForAcknowledgements(_ path: String, moreThan count: Int, seconds: Double = 20) async throws {
        _ = try await poll(every: .milliseconds(20), for: .seconds(seconds)) { LoadClient.acknowledgedBytes(path) > count }
    }

    @Test func aNodeKilledUnderLoadLosesNoAcknowledgedRequest() async throws {
        let cli = try await Self.cliWithPostgresVault(TestPostgres.shared())
        defer { cli.removeDirectory() }
        let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let port = try LoopbackPort.free()
        var first = try await Self.startNode(cli, port: port)
        let second = try await Self.startNode(cli)
        let acks = [cli.directory + "/acks-1", cli.directory + "/acks-2"]
        let loads = [
            try LoadClient(cli: cli, baseURL: first.baseURL, client: acme, flow: "/http/orders/1", acks: acks[0], workers: 3),
            try LoadClient(cli: cli, baseURL: second.baseURL, client: acme, flow: "/http/orders/2", acks: acks[1], workers: 3),
        ]
        for round in 0..<3 {
            try await Self.waitForAcknowledgements(acks[0], moreThan: LoadClient.acknowledgedBytes(acks[0]))
            try await Task.sleep(for: .seconds(0.2 + 0.1 * Double(round)))
            await first.crash()
            first = try await Self.startNode(cli, port: port)
        }
        try await Self.waitForAcknowledgements(acks[0], moreThan: LoadClient.acknowledgedBytes(acks[0]))
        var summaries: [String] = []
        for load in loads { summaries.append(try await load.stop()) }
        #expect(await first.stop() == 0)
        #expect(await second.stop() == 0)
        let counted = try await Self.expectNothingLost(cli, acks: acks)
        #expect(counted.tokens > 0 && counted.calls > 0)
        let verify = await cli.run("audit", "verify")
        #expect(verify.code == 0, "\(verify.stderr)")
        print("several nodes, 3 SIGKILLs of one node: \(counted.tokens) tokens and \(counted.calls) calls acknowledged, 0 lost; \(summaries)")
    }

    @Test func aDatabaseOutageGives503AndRecoversWithoutARestart() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, cli, deferred in
            let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
            let node = try await Self.startNode(cli)
            let acks = cli.directory + "/acks"
            let load = try LoadClient(cli: cli, baseURL: node.baseURL, client: acme, flow: "/http/orders/1", acks: acks, workers: 3)
            try await Self.waitForAcknowledgements(acks, moreThan: 0)

            try await postgres.stop()
            try await Task.sleep(for: .milliseconds(500))
            let during = await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret)
            #expect(during.status == 503, "a node that cannot commit must answer 503, not \(during.status)")
            let beforeRestart = LoadClient.acknowledgedBytes(acks)
            try await Task.sleep(for: .seconds(1))
            try await postgres.start()

            try await Self.waitForAcknowledgements(acks, moreThan: beforeRestart)
            #expect(LoadClient.acknowledgedBytes(acks) > beforeRestart, "no 200 after the database came back")
            #expect(await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 200)
            let summary = try await load.stop()
            #expect(await node.stop() == 0)
            let counted = try await Self.expectNothingLost(cli, acks: [acks])
            #expect(await cli.run("audit", "verify").code == 0)
            print("database outage: 503 during it, 200 after it without a restart; \(counted) acknowledged, 0 lost; \(summary)")
        }
    }
}

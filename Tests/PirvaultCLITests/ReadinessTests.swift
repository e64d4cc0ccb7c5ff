import Foundation
import PirvaultTestSupport
import Testing

/// `GET /readyz` follows whether the node can commit (a PostgreSQL stop, the
/// audit log's head row locked by another session, SQLite's write lock held
/// by another process), `/healthz` stays 200 throughout, and a node started
/// while its PostgreSQL is down listens, answers 503, and serves once the
/// database answers, without a restart (issue 19).
@Suite(.serialized, .boundedParallelism) struct ReadinessTests {
    static func status(_ cli: CLI, _ url: String) async -> Int { await ServeTests.curl(cli, url).status }

    /// Polls `path` on `server` until it answers `status` (at most `seconds`).
    static func waitFor(_ status: Int, _ path: String, _ cli: CLI, _ server: ServeTests.RunningServer, seconds: Int)
        async throws -> Bool
    {
        try await poll(every: .milliseconds(100), for: .seconds(seconds)) {
            await Self.status(cli, server.baseURL + path) == status
        }
    }

    @Test func readyzIs503WhilePostgreSQLIsStoppedAnd200After() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, cli, deferred in
            let node = try await SeveralNodesTests.startNode(cli)
            deferred { _ = await node.stop() }
            #expect(await Self.status(cli, node.baseURL + "/readyz") == 200)

            try await postgres.stop()
            #expect(try await Self.waitFor(503, "/readyz", cli, node, seconds: 5), "/readyz stayed 200 with PostgreSQL stopped")
            #expect(await Self.status(cli, node.baseURL + "/healthz") == 200)
            try await postgres.start()
            #expect(try await Self.waitFor(200, "/readyz", cli, node, seconds: 15), "/readyz did not recover")
            #expect(try await node.waitForLog("audit commits succeed again"))
            let failing = node.log.split(separator: "\n").filter { $0.contains("audit commits are failing") }
            #expect(failing.count == 1, "\(failing)")
        }
    }

    @Test func readyzIs503WhileAnotherSessionHoldsTheAuditLogHead() async throws {
        let postgres = try await TestPostgres.shared()
        let cli = try await SeveralNodesTests.cliWithPostgresVault(postgres)
        defer { cli.removeDirectory() }
        let database = try StallTests.databaseName(cli)
        var node = CLI()
        node.environment = cli.environment
        let server = try await ServeTests.RunningServer(
            cli: node, extraArguments: ["--issuer", SeveralNodesTests.issuer, "--vault-timeout", "1s"])
        try await withDeferred { deferred in
            deferred { _ = await server.stop() }
            #expect(await Self.status(cli, server.baseURL + "/readyz") == 200)
            let holder = Task {
                try await postgres.psql(
                    "BEGIN; SELECT size FROM audit_log_head WHERE singleton = 1 FOR UPDATE; SELECT pg_sleep(8); COMMIT;",
                    database: database)
            }
            deferred { _ = try? await holder.value }
            #expect(try await Self.waitFor(503, "/readyz", cli, server, seconds: 6), "/readyz stayed 200 while the head row was locked")
            #expect(await Self.status(cli, server.baseURL + "/healthz") == 200)
            _ = try await holder.value
            #expect(try await Self.waitFor(200, "/readyz", cli, server, seconds: 5), "/readyz did not recover after the lock went")
        }
    }

    @Test func readyzIs503WhileAnotherProcessHoldsTheSQLiteWriteLock() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let server = try await ServeTests.RunningServer(cli: cli, extraArguments: ["--vault-timeout", "1s"])
        try await withDeferred { (deferred: Deferred) async throws in
            deferred { _ = await server.stop() }
            #expect(await Self.status(cli, server.baseURL + "/readyz") == 200)
            let holder = try SQLiteLockHolder(cli, seconds: 5)
            deferred { _ = await holder.finish() }
            #expect(try await Self.waitFor(503, "/readyz", cli, server, seconds: 4), "/readyz stayed 200 under a foreign write lock")
            #expect(await holder.finish().status == 0)
            #expect(try await Self.waitFor(200, "/readyz", cli, server, seconds: 5))
        }
    }

    @Test func aNodeStartedWhilePostgreSQLIsDownServesOnceItAnswers() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, cli, deferred in
            let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
            try await postgres.stop()

            let node = try await SeveralNodesTests.startNode(cli)
            deferred { _ = await node.stop() }
            #expect(try await node.waitForLog("the vault cannot be opened yet"))
            #expect(node.log.contains("cannot reach the vault database"), "\(node.log)")
            #expect(await Self.status(cli, node.baseURL + "/healthz") == 200)
            #expect(await Self.status(cli, node.baseURL + "/readyz") == 503)
            #expect(await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 503)
            #expect(await Self.status(cli, node.baseURL + "/token_keys") == 503)

            try await postgres.start()
            #expect(
                try await poll(every: .milliseconds(200), for: .seconds(20)) {
                    await ServeTests.fetchToken(cli, node.baseURL, id: acme.id, secret: acme.secret).status == 200
                }, "no token once the database answered")
            #expect(node.process.isRunning, "served by the same process, not a restart")
            #expect(await Self.status(cli, node.baseURL + "/readyz") == 200)
            #expect(node.log.contains("the vault is open; serving"))
            #expect(node.log.split(separator: "\n").filter { $0.contains("cannot be opened yet") }.count == 1)
            #expect(await node.stop() == 0)
            #expect(await cli.run("audit", "verify").code == 0)
        }
    }

    /// A wrong key cannot be told from a right one before the database
    /// answers: the node waits like any other, then ends with the unlock
    /// error in one line and exit 1 (docs/reliability.md).
    @Test func aWrongKeyWithPostgreSQLDownFailsInOneLineOnceItAnswers() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, vaultCLI, deferred in
            var cli = vaultCLI
            let wrongKey = cli.directory + "/wrong.key"
            _ = FileManager.default.createFile(
                atPath: wrongKey, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }),
                attributes: [.posixPermissions: 0o600])
            cli.environment["PIRVAULT_KEY_FILE"] = wrongKey
            let upNow = await cli.run("serve", "--listen", "127.0.0.1:\(try LoopbackPort.free())", "--issuer", SeveralNodesTests.issuer)
            #expect(upNow.code == 1)
            #expect(upNow.stderr.split(separator: "\n").count == 1, "\(upNow.stderr)")
            #expect(upNow.stdout.isEmpty, "it must not listen with a wrong key: \(upNow.stdout)")

            try await postgres.stop()
            let node = try await SeveralNodesTests.startNode(cli)
            #expect(await Self.status(cli, node.baseURL + "/readyz") == 503)
            try await postgres.start()
            let ended = try await poll(every: .milliseconds(100), for: .seconds(20)) { !node.process.isRunning }
            #expect(ended, "a node with a wrong key kept running once the database answered")
            #expect(await node.process.exit().status == 1)
            let lastLine = node.log.split(separator: "\n").last.map(String.init) ?? ""
            #expect(lastLine == upNow.stderr.trimmingCharacters(in: .newlines), "\(node.log)")
            #expect(!node.log.contains(postgres.superuserPassword))
        }
    }
}

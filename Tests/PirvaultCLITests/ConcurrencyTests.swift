import Foundation
import Testing

@Suite(.boundedParallelism) struct ConcurrencyTests {
    /// Two writers hammering one vault: SQLite's busy timeout makes the second
    /// wait for the first's write lock, so neither sees "database is locked".
    @Test func twoProcessesCreating200InstancesEachBothSucceed() async throws {
        let cli = try await CLI.withVault()
        let failures = await withTaskGroup { group in
            for writer in 0..<2 {
                group.addTask {
                    var failed: [String] = []
                    for i in 0..<200 {
                        let result = await cli.run("instance", "create", "w\(writer)-\(i)", "--customer", "customer-\(writer)")
                        if result.code != 0 { failed.append(result.stderr) }
                    }
                    return failed
                }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(failures.count == 0, "\(failures.prefix(3))")
        let list = try #require(try await parseJSON(cli.run("instance", "list", "--json").stdout) as? [[String: Any]])
        #expect(list.count == 400)
        let audit = try #require(try await parseJSON(cli.run("audit", "list", "--json", "--event", "instance.create").stdout) as? [[String: Any]])
        #expect(audit.count == 400)
    }

    /// CLI writers (create, rotate, revoke) against a vault that a loaded
    /// server is using: no "database is locked", each rotation and revocation
    /// refused on the very next request, and no audit row lost on either side.
    @Test func cliWritersAgainstALoadedServer() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let loaded = try await ServeTests().createClient(cli, "loaded", ["orders/*"])
        let server = try await ServeTests.RunningServer(cli: cli)
        let acksPath = cli.directory + "/acks"
        let load = try LoadClient(cli: cli, baseURL: server.baseURL, client: loaded, flow: "/http/orders/1", acks: acksPath)
        let baseURL = server.baseURL
        let writers = 2, rounds = 15
        let problems = await withTaskGroup { group in
            for writer in 0..<writers {
                group.addTask {
                    // Each writer notes its own failed checks; the group gathers them.
                    var failures: [String] = []
                    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
                        if !condition { failures.append(message()) }
                    }
                    for round in 0..<rounds {
                        let name = "w\(writer)-\(round)"
                        let created = await cli.run("instance", "create", name, "--customer", "writer-\(writer)", "--flow", "orders/*")
                        check(created.code == 0, "\(name) create: \(created.stderr)")
                        guard let first = try? serviceKeyCredentials(created.stdout) else { continue }
                        let early = await ServeTests.fetchToken(cli, baseURL, id: first.id, secret: first.secret)
                        check(early.status == 200, "\(name): a new instance's token was refused (\(early.status))")
                        check(await call(cli, baseURL, early.token) == 200, "\(name): a new token's call was refused")

                        let rotated = await cli.run("credentials", "rotate", name, "--grace", "0s")
                        check(rotated.code == 0, "\(name) rotate: \(rotated.stderr)")
                        check(await call(cli, baseURL, early.token) == 401, "\(name): a token of a secret rotated with --grace 0s still worked")
                        // Failed client authentications count per address too (10 a minute), so only the first rounds try the old secret.
                        if round == 0 {
                            let old = await ServeTests.fetchToken(cli, baseURL, id: first.id, secret: first.secret)
                            check(old.status == 401, "\(name): the rotated-out secret still obtained a token (\(old.status))")
                        }
                        guard let second = try? serviceKeyCredentials(rotated.stdout) else { continue }
                        let late = await ServeTests.fetchToken(cli, baseURL, id: second.id, secret: second.secret)
                        var lateWorks = late.status == 200
                        if lateWorks { lateWorks = await call(cli, baseURL, late.token) == 200 }
                        check(lateWorks, "\(name): the new secret did not work at once")

                        let revoked = await cli.run("credentials", "revoke", name)
                        check(revoked.code == 0, "\(name) revoke: \(revoked.stderr)")
                        check(await call(cli, baseURL, late.token) == 401, "\(name): a revoked instance's token still worked")
                        if round == 0 {
                            let after = await ServeTests.fetchToken(cli, baseURL, id: second.id, secret: second.secret)
                            check(after.status == 401, "\(name): a revoked instance still obtained a token (\(after.status))")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        let summary = try await load.stop()
        #expect(await server.stop() == 0)
        #expect(problems.isEmpty, "\(problems.count) problems, first: \(problems.prefix(5))")
        #expect(!problems.contains { $0.contains("locked") })

        // Nothing lost: each acknowledged load request and each CLI change has its audit row.
        let acknowledged = LoadClient.acknowledgements(acksPath)
        #expect(acknowledged.count > 100, "the server was not under load: \(summary)")
        let audit = try #require(try await parseJSON(cli.run("audit", "list", "--json").stdout) as? [[String: Any]])
        let audited = Set(audit.filter { $0["outcome"] as? String == "allowed" }.compactMap { $0["request_id"] as? String })
        let lost = acknowledged.filter { !audited.contains($0.requestID) }
        #expect(lost.isEmpty, "acknowledged requests missing from the audit log: \(lost.prefix(5))")
        for (event, count) in [("instance.create", writers * rounds + 1), ("credentials.rotate", writers * rounds), ("credentials.revoke", writers * rounds)] {
            #expect(audit.filter { $0["event"] as? String == event }.count == count, "\(event)")
        }
        #expect(await cli.run("audit", "verify").code == 0)
        print("concurrency: \(writers) CLI writers x \(rounds) create/rotate/revoke rounds during load \(summary); \(acknowledged.count) acknowledged, 0 lost")
    }

    /// The status of a gateway call with `token` (0 if there was none).
    func call(_ cli: CLI, _ baseURL: String, _ token: String?) async -> Int {
        guard let token else { return 0 }
        return await ServeTests.curl(cli, baseURL + "/http/orders/1", headers: ["Authorization: Bearer \(token)"]).status
    }
}

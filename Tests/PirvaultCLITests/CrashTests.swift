import Foundation
import PirvaultTestSupport
import Testing

/// Crash safety: `pirvault serve` and CLI writers killed with SIGKILL at random
/// moments lose nothing they acknowledged and leave a vault that opens, whose
/// instances decrypt and whose audit log verifies.
@Suite(.serialized, .boundedParallelism) struct CrashTests {
    static let kills = 20

    /// Python load client against a server that is killed and restarted
    /// `kills` times on the same port. Afterwards every 200 the client saw is
    /// in the audit log: each token's jti, each gateway call's request id.
    @Test func serverKilledUnderLoadLosesNoAcknowledgedRequest() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let keys = try await createInstances(cli, names: ["acme-orders", "globex-orders", "initech-orders"])
        let client = try serviceKeyCredentials(keys["acme-orders"]!)
        let seed = UInt64.random(in: 0..<UInt64.max)
        var random = SeededGenerator(seed: seed)

        let port = try LoopbackPort.free()
        var server = try await ServeTests.RunningServer(cli: cli, port: port)
        let acksPath = cli.directory + "/acks"
        let load = try LoadClient(cli: cli, baseURL: server.baseURL, client: client, flow: "/http/orders/1", acks: acksPath)

        for kill in 0..<Self.kills {
            // Under load: wait for the (re)started server's first acknowledged answer, then kill at a random moment.
            let before = LoadClient.acknowledgedBytes(acksPath)
            _ = try await poll(every: .milliseconds(10), for: .seconds(20)) { LoadClient.acknowledgedBytes(acksPath) != before }
            try #require(LoadClient.acknowledgedBytes(acksPath) > before, "seed \(seed): no answer acknowledged before kill \(kill)")
            try await Task.sleep(for: .seconds(Double.random(in: 0.05...0.4, using: &random)))
            await server.crash()
            server = try await ServeTests.RunningServer(cli: cli, port: port)
        }
        try await Task.sleep(for: .milliseconds(300))
        let summary = try await load.stop()
        #expect(await server.stop() == 0)

        let acknowledged = LoadClient.acknowledgements(acksPath)
        let tokens = acknowledged.filter { $0.kind == "token" }
        let calls = acknowledged.filter { $0.kind == "call" }
        #expect(!tokens.isEmpty && !calls.isEmpty)

        let issued = try await auditRows(cli, event: "token.issue")
        let called = try await auditRows(cli, event: "gateway.call")
        var jtiByRequest: [String: String] = [:]
        for row in issued where row["outcome"] as? String == "allowed" {
            jtiByRequest[row["request_id"] as? String ?? ""] = row["jti"] as? String
        }
        let allowedCalls = Set(called.filter { $0["outcome"] as? String == "allowed" }.compactMap { $0["request_id"] as? String })
        let lostTokens = tokens.filter { jtiByRequest[$0.requestID] != $0.value }
        let lostCalls = calls.filter { !allowedCalls.contains($0.requestID) }
        #expect(lostTokens.isEmpty, "seed \(seed): acknowledged tokens missing from the audit log: \(lostTokens.prefix(5))")
        #expect(lostCalls.isEmpty, "seed \(seed): acknowledged calls missing from the audit log: \(lostCalls.prefix(5))")

        try await expectVaultIntact(cli, keys)
        print(
            "crash test (seed \(seed)): \(Self.kills) SIGKILLs survived; \(tokens.count) tokens and \(calls.count) calls acknowledged,"
                + " 0 missing from \(issued.count + called.count) audit rows; load client: \(summary)")
    }

    /// `instance create` killed at random points of its run: afterwards the
    /// vault opens, every instance that exists decrypts, and each has exactly
    /// one `instance.create` audit event (change and audit row commit together).
    @Test func instanceCreateKilledLeavesAConsistentVault() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let keys = try await createInstances(cli, names: ["steady"])
        let tally = try await killRepeatedly(cli, { ["instance", "create", "crash-\($0)", "--customer", "C"] }, timing: ["instance", "create", "timing", "--customer", "C"]) {
            await cli.run("instance", "show", "crash-\($0)").code == 0
        }
        let list = try #require(try await parseJSON(cli.run("instance", "list", "--json").stdout) as? [[String: Any]])
        let names = list.compactMap { $0["name"] as? String }
        let creations = try await auditRows(cli, event: "instance.create").compactMap { $0["instance"] as? String }
        #expect(creations.sorted() == names.sorted(), "every instance has exactly one instance.create event, and no event lacks its instance")
        for name in names where keys[name] == nil {
            _ = try await currentServiceKey(cli, name)
        }
        try await expectVaultIntact(cli, keys)
        print("instance create: \(tally)")
    }

    /// `credentials rotate` killed at random points: the instance's current
    /// secret always decrypts and authenticates, and the number of
    /// `credentials.rotate` events equals the number of rotations that took effect.
    @Test func credentialsRotateKilledLeavesAConsistentVault() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        var keys = try await createInstances(cli, names: ["rotated", "bystander"])
        var current = keys["rotated"]!
        let tally = try await killRepeatedly(cli, { _ in ["credentials", "rotate", "rotated"] }, timing: ["credentials", "rotate", "bystander"]) { _ in
            let key = try await currentServiceKey(cli, "rotated")
            defer { current = key }
            return key != current
        }
        keys["rotated"] = current
        keys["bystander"] = await cli.run("instance", "key", "bystander").stdout
        #expect(try await auditRows(cli, event: "credentials.rotate").count == tally.committed + 1)
        try await expectVaultIntact(cli, keys)
        print("credentials rotate: \(tally)")
    }

    /// `keys rotate-vault-key` re-wraps every data key and signing key in one
    /// transaction; killed at any point, the vault still opens with its key
    /// file and every secret and the signing key still decrypt.
    @Test func rotateVaultKeyKilledLeavesAConsistentVault() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let keys = try await createInstances(cli, names: (0..<100).map { "customer-\($0)" })
        var rotations = 0
        let tally = try await killRepeatedly(cli, { _ in ["keys", "rotate-vault-key"] }, timing: ["keys", "rotate-vault-key"]) { _ in
            #expect(await cli.run("keys", "jwks").code == 0)
            let count = try await auditRows(cli, event: "keys.rotate_vault_key").count
            defer { rotations = count }
            return count > rotations
        }
        try await expectVaultIntact(cli, keys)
        print("keys rotate-vault-key: \(tally)")
    }

    /// What the kills of one command hit: runs killed before their change
    /// committed, killed after it (before exiting), and runs that finished first.
    struct KillTally: CustomStringConvertible {
        var killedBeforeCommit = 0
        var killedAfterCommit = 0
        var finished = 0
        var committed: Int { killedAfterCommit + finished }
        var description: String {
            "\(killedBeforeCommit + killedAfterCommit) of \(CrashTests.kills) runs killed (\(killedBeforeCommit) before their commit,"
                + " \(killedAfterCommit) after it), \(finished) finished first; vault consistent after each"
        }
    }

    /// Runs `arguments(round)` `kills` times, each sent SIGKILL after a random
    /// delay between 0.3 and 1.3 times an uninterrupted run of `timing` (the
    /// change is written near the end of a run, after start-up and unlock, so
    /// kills land in the unlock, the transaction and the output); after each run
    /// `tookEffect(round)` checks the vault and tells whether the change is visible.
    func killRepeatedly(
        _ cli: CLI, _ arguments: (Int) -> [String], timing: [String], tookEffect: (Int) async throws -> Bool
    ) async throws -> KillTally {
        let start = Date()
        let timed = await cli.run(timing)
        guard timed.code == 0 else { throw CLI.CLIError(timed.stderr) }
        let duration = Date().timeIntervalSince(start)
        var random = SeededGenerator(seed: UInt64.random(in: 0..<UInt64.max))
        var tally = KillTally()
        for round in 0..<Self.kills {
            let killed = try await cli.runKilled(arguments(round), after: Double.random(in: (0.3 * duration)...(1.3 * duration), using: &random))
            let committed = try await tookEffect(round)
            switch (killed, committed) {
            case (true, false): tally.killedBeforeCommit += 1
            case (true, true): tally.killedAfterCommit += 1
            case (false, _):
                #expect(committed, "an uninterrupted run did not take effect")
                tally.finished += 1
            }
        }
        return tally
    }

    // MARK: helpers

    /// Creates the instances (flows `orders/*`) and returns their service keys.
    func createInstances(_ cli: CLI, names: [String]) async throws -> [String: String] {
        var keys: [String: String] = [:]
        for name in names {
            let created = await cli.run("instance", "create", name, "--customer", name.uppercased(), "--flow", "orders/*")
            guard created.code == 0 else { throw CLI.CLIError(created.stderr) }
            keys[name] = created.stdout
        }
        return keys
    }

    func auditRows(_ cli: CLI, event: String) async throws -> [[String: Any]] {
        let listed = await cli.run("audit", "list", "--json", "--event", event)
        guard listed.code == 0 else { throw CLI.CLIError(listed.stderr) }
        return try #require(try parseJSON(listed.stdout) as? [[String: Any]])
    }

    /// The audit log verifies, and every instance still exists, its service
    /// key decrypts to exactly what it was, and its secret still obtains a token.
    func expectVaultIntact(_ cli: CLI, _ keys: [String: String]) async throws {
        let verify = await cli.run("audit", "verify")
        #expect(verify.code == 0, "\(verify.stderr)")
        for (name, serviceKey) in keys {
            #expect(try await currentServiceKey(cli, name) == serviceKey, "\(name) changed")
        }
    }

    /// The instance's service key as `instance key` prints it, after checking
    /// that it decrypts and that its secret obtains a token.
    func currentServiceKey(_ cli: CLI, _ name: String) async throws -> String {
        let key = await cli.run("instance", "key", name)
        guard key.code == 0 else { throw CLI.CLIError("\(name) lost or unreadable: \(key.stderr)") }
        let secret = try serviceKeyCredentials(key.stdout)
        let token = await cli.run(["token", "issue", "--client-id", secret.id], stdin: secret.secret + "\n")
        #expect(token.code == 0, "\(name)'s secret does not authenticate: \(token.stderr)")
        return key.stdout
    }
}

/// `Tests/interop/load_client.py` as a process: workers fetching tokens and
/// calling a flow, writing down every 200 answer.
struct LoadClient {
    struct Acknowledgement: CustomStringConvertible {
        let kind: String
        let requestID: String
        let value: String
        var description: String { "\(kind) \(requestID) \(value)" }
    }

    let process: ChildProcess
    let acks: String
    let summary: String

    init(cli: CLI, baseURL: String, client: (id: String, secret: String), flow: String, acks: String, workers: Int = 4) throws {
        self.acks = acks
        summary = acks + ".summary"
        FileManager.default.createFile(atPath: summary, contents: nil)
        var environment = cli.environment
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment["CLIENT_ID"] = client.id
        environment["CLIENT_SECRET"] = client.secret
        process = try ChildProcess(
            "/usr/bin/env", ["python3", ServeTests.interop + "/load_client.py", baseURL, flow, acks, "120", String(workers)],
            environment: environment, stdout: summary)
    }

    /// Asks the workers to finish (the stop file), waits, and returns their summary.
    func stop() async throws -> String {
        FileManager.default.createFile(atPath: acks + ".stop", contents: nil)
        _ = await process.exit()
        return try String(contentsOfFile: summary, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The size of the acknowledgement file, which grows with every acknowledged answer.
    static func acknowledgedBytes(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// The complete lines of the acknowledgement file.
    static func acknowledgements(_ path: String) -> [Acknowledgement] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3 else { return nil }
            return Acknowledgement(kind: String(fields[0]), requestID: String(fields[1]), value: String(fields[2]))
        }
    }
}

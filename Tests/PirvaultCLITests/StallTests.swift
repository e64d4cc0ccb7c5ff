import Foundation
import PirvaultTestSupport
import Testing

/// A database that stalls — a lock held by someone else, a server that stops
/// answering, sessions a DBA terminates — gives 503 within the server's
/// deadline: never a hang, never an unaudited 200, and the nodes serve again
/// by themselves once it ends; a `serve` that is itself stopped for a while
/// answers what queued meanwhile (DESIGN §5 and §7; docs/reliability.md).
@Suite(.serialized, .boundedParallelism) struct StallTests {
    /// `serve --vault-timeout`'s default: every answer must come within it plus one second.
    static let deadline = 3.0

    struct Answer: CustomStringConvertible {
        let node: Int
        let sent: Date
        let elapsed: Double
        let status: String
        let requestID: String
        let jti: String
        var answered: Date { sent.addingTimeInterval(elapsed) }
        var description: String { "node \(node) \(status) after \(elapsed) s (\(requestID))" }
    }

    /// Tests/interop/deadline_client.py: workers asking each node for tokens back to back.
    struct DeadlineClient {
        let process: ChildProcess
        let log: String

        init(_ cli: CLI, nodes: [String], client: (id: String, secret: String)) throws {
            log = cli.directory + "/answers-" + UUID().uuidString.prefix(8)
            var environment = cli.environment
            environment["CLIENT_ID"] = client.id
            environment["CLIENT_SECRET"] = client.secret
            // The client waits far past the deadline, so that a hang shows as a late answer or a timeout.
            process = try ChildProcess(
                "/usr/bin/env", ["python3", ServeTests.interop + "/deadline_client.py", log, "180", "30", "3"] + nodes,
                environment: environment)
        }

        var answers: [Answer] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let field = line.split(separator: " ").map(String.init)
                guard field.count == 6, let node = Int(field[0]), let sent = Double(field[1]), let elapsed = Double(field[2])
                else { return nil }
                return Answer(
                    node: node, sent: Date(timeIntervalSince1970: sent), elapsed: elapsed, status: field[3],
                    requestID: field[4], jti: field[5])
            }
        }

        /// Waits until each node has answered 200 after `time`, for at most `seconds`.
        func waitForSuccess(after time: Date, nodes: Int, seconds: Double = 10) async throws {
            _ = try await poll(every: .milliseconds(50), for: .seconds(seconds)) {
                let answers = answers
                return (0..<nodes).allSatisfy { node in answers.contains { $0.node == node && $0.status == "200" && $0.answered > time } }
            }
        }

        func stop() async -> [Answer] {
            _ = FileManager.default.createFile(atPath: log + ".stop", contents: nil)
            _ = await process.exit()
            return answers
        }
    }

    /// The lock's window from its holder's output: lines `from T` and `until T`, T in Unix seconds.
    static func lockWindow(_ output: String) -> ClosedRange<Date>? {
        var times: [String: Date] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let seconds = Double(words[1]) { times[String(words[0])] = Date(timeIntervalSince1970: seconds) }
        }
        guard let from = times["from"], let until = times["until"], from <= until else { return nil }
        return from...until
    }

    /// `count` nodes serving `cli`'s vault and a client asking each of them
    /// for tokens (as a customer of its own), every node answering 200
    /// before it returns; `deferred` stops them all.
    static func nodesUnderLoad(_ cli: CLI, count: Int, _ deferred: Deferred) async throws
        -> (nodes: [ServeTests.RunningServer], client: DeadlineClient)
    {
        let acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        var started: [ServeTests.RunningServer] = []
        for _ in 0..<count { started.append(try await SeveralNodesTests.startNode(cli)) }
        let nodes = started
        deferred { for node in nodes { _ = await node.stop() } }
        let client = try DeadlineClient(cli, nodes: nodes.map(\.baseURL), client: acme)
        deferred { _ = await client.stop() }
        try await client.waitForSuccess(after: Date(), nodes: count)
        return (nodes, client)
    }

    /// The PostgreSQL database that `cli`'s vault URL names.
    static func databaseName(_ cli: CLI) throws -> String {
        try #require(cli.environment["PIRVAULT_PATH"]?.split(separator: "/").last.map(String.init))
    }

    /// Every answer is 200 or 503, within the deadline plus one second.
    static func expectWithinDeadline(_ answers: [Answer], _ label: String) {
        let outOfBounds = answers.filter { !["200", "503"].contains($0.status) || $0.elapsed > deadline + 1 }
        #expect(outOfBounds.isEmpty, "\(label): \(outOfBounds.count) answers not 200 or 503 within \(deadline + 1) s, first \(outOfBounds.prefix(5))")
    }

    /// What every stall must show: answers within the deadline, 503 or 200;
    /// 503s while it lasted; and a 200 from every node within 5 s of its end.
    static func expectBoundedAnswers(_ answers: [Answer], stall: ClosedRange<Date>, nodes: Int, _ label: String) {
        expectWithinDeadline(answers, label)
        let during = answers.filter { stall.contains($0.sent) && $0.answered < stall.upperBound }
        #expect(during.contains { $0.status == "503" }, "\(label): no 503 while the database stalled")
        #expect(!during.contains { $0.status == "200" && $0.sent > stall.lowerBound.addingTimeInterval(deadline + 1) },
            "\(label): a 200 while nothing could commit")
        for node in 0..<nodes {
            let back = answers.filter { $0.node == node && $0.status == "200" && $0.answered > stall.upperBound }.map(\.answered).min()
            #expect(back.map { $0.timeIntervalSince(stall.upperBound) <= 5 } == true, "\(label): node \(node) not back within 5 s")
        }
        let counts = Dictionary(grouping: during, by: \.status).mapValues(\.count)
        print("\(label): \(counts) answers while it lasted, slowest \(during.map(\.elapsed).max() ?? 0) s")
    }

    /// Every 200 is in the audit log, with its request id and jti, and the log verifies.
    static func expectEvery200Audited(_ cli: CLI, _ answers: [Answer]) async throws {
        let rows = try parseJSON(await cli.run("audit", "list", "--json", "--event", "token.issue").stdout) as? [[String: Any]] ?? []
        var issued: [String: String] = [:]
        for row in rows where row["outcome"] as? String == "allowed" {
            issued[row["request_id"] as? String ?? ""] = row["jti"] as? String
        }
        let ok = answers.filter { $0.status == "200" }
        #expect(!ok.isEmpty)
        for answer in ok { #expect(issued[answer.requestID] == answer.jti, "\(answer) is not in the audit log") }
        let verify = await cli.run("audit", "verify")
        #expect(verify.code == 0, "\(verify.stderr)")
    }

    /// Two nodes on PostgreSQL: another session holds the audit log's head
    /// row for 40 s, then the server's processes are SIGSTOPped for 15 s
    /// (what a network black hole looks like to the nodes).
    @Test func aStalledPostgreSQLGives503WithinTheDeadlineOnEveryNode() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, cli, deferred in
            let database = try Self.databaseName(cli)
            let (nodes, client) = try await Self.nodesUnderLoad(cli, count: 2, deferred)

            // The lock's own times, from the session that holds it: when psql
            // started or ended is seconds off on a busy machine.
            let locking = try await postgres.psql(
                """
                BEGIN; SELECT size FROM audit_log_head WHERE singleton = 1 FOR UPDATE;
                SELECT 'from ' || extract(epoch FROM clock_timestamp()); SELECT pg_sleep(40);
                SELECT 'until ' || extract(epoch FROM clock_timestamp()); COMMIT;
                """,
                database: database)
            let lock = try #require(Self.lockWindow(locking), "\(locking)")
            try await client.waitForSuccess(after: lock.upperBound, nodes: 2)

            let frozen = Date()
            try postgres.suspend()
            try await Task.sleep(for: .seconds(15))
            try postgres.resume()
            let thawed = Date()
            try await client.waitForSuccess(after: thawed, nodes: 2)

            let answers = await client.stop()
            Self.expectBoundedAnswers(answers, stall: lock, nodes: 2, "head row locked 40 s")
            Self.expectBoundedAnswers(answers, stall: frozen...thawed, nodes: 2, "PostgreSQL stopped 15 s")
            #expect(!answers.contains { $0.answered > thawed && $0.status != "200" }, "a refusal after the database came back")
            for node in nodes { #expect(await node.stop() == 0) }
            try await Self.expectEvery200Audited(cli, answers)
        }
    }

    /// One node on SQLite: another process holds the vault's write lock for
    /// 15 s (SQLite's own lock wait would last 30 s).
    @Test func aForeignSQLiteWriteLockGives503WithinTheDeadline() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        try await withDeferred { deferred in
            let (nodes, client) = try await Self.nodesUnderLoad(cli, count: 1, deferred)
            let node = nodes[0]

            let holder = try SQLiteLockHolder(cli, seconds: 15)
            let finished = await holder.finish()
            #expect(finished.status == 0)
            let lock = try #require(finished.window)
            try await client.waitForSuccess(after: lock.upperBound, nodes: 1)

            let answers = await client.stop()
            Self.expectBoundedAnswers(answers, stall: lock, nodes: 1, "SQLite write lock held 15 s")
            #expect(await node.stop() == 0)
            try await Self.expectEvery200Audited(cli, answers)
        }
    }

    /// A DBA terminates every session of the vault's database three times
    /// while two nodes serve: a few requests get 503, none waits past the
    /// deadline, and the nodes connect again by themselves.
    @Test func terminatedSessionsCostAFewAnswersAndTheNodesReconnect() async throws {
        try await SeveralNodesTests.withOwnPostgres { postgres, cli, deferred in
            let database = try Self.databaseName(cli)
            let (nodes, client) = try await Self.nodesUnderLoad(cli, count: 2, deferred)

            var terminated = 0
            for _ in 0..<3 {
                let count = try await postgres.psql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    database: database)
                terminated += Int(count) ?? 0
                try await Task.sleep(for: .milliseconds(500))
            }
            let after = Date()
            try await client.waitForSuccess(after: after, nodes: 2)
            let answers = await client.stop()
            #expect(terminated >= 6, "terminated \(terminated) sessions")
            Self.expectWithinDeadline(answers, "sessions terminated")
            // At most one batch per node's writer per termination fails: three workers each.
            let refused = answers.filter { $0.status == "503" }.count
            #expect(refused <= 3 * 2 * 3, "\(refused) refusals for \(terminated) terminated sessions")
            print("sessions terminated 3 times (\(terminated) sessions): \(refused) × 503 in \(answers.count) answers")
            for node in nodes { #expect(await node.stop() == 0) }
            try await Self.expectEvery200Audited(cli, answers)
        }
    }

    /// `serve` itself SIGSTOPped for 5 s: what the clients sent meanwhile
    /// waits in the kernel's queues and is answered, and audited, once it
    /// continues; nothing is lost or left hanging.
    @Test func aStoppedServerAnswersWhatQueuedOnceItContinues() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        try await withDeferred { deferred in
            let (nodes, client) = try await Self.nodesUnderLoad(cli, count: 1, deferred)
            let node = nodes[0]

            node.process.signal(SIGSTOP)
            let stopped = Date()
            try await Task.sleep(for: .seconds(5))
            node.process.signal(SIGCONT)
            let continued = Date()
            try await client.waitForSuccess(after: continued, nodes: 1)
            let answers = await client.stop()
            let lost = answers.filter { !["200", "503"].contains($0.status) }
            #expect(lost.isEmpty, "\(lost.count) requests not answered, first \(lost.prefix(5))")
            let waited = answers.filter { $0.sent < continued.addingTimeInterval(-1) && $0.answered > continued }
            #expect(waited.count == 3, "each of the 3 workers had a request waiting through the stop: \(waited)")
            #expect(waited.allSatisfy { $0.status == "200" && $0.sent >= stopped.addingTimeInterval(-0.5) }, "\(waited)")
            #expect(await node.stop() == 0)
            try await Self.expectEvery200Audited(cli, answers)
        }
    }
}

/// Another process holding the SQLite vault's write lock (`BEGIN IMMEDIATE`
/// in Python's sqlite3) for a while; it prints when it held the lock and
/// when it let go, which the machine's load cannot shift as it shifts when
/// the process is seen to start and end.
struct SQLiteLockHolder {
    let process: ChildProcess
    let output: String

    init(_ cli: CLI, seconds: Int) throws {
        output = cli.directory + "/lock-holder-" + UUID().uuidString.prefix(8)
        process = try ChildProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import sqlite3, sys, time
                db = sqlite3.connect(sys.argv[1], isolation_level=None)
                db.execute("BEGIN IMMEDIATE")
                print("from", time.time(), flush=True)
                time.sleep(float(sys.argv[2]))
                print("until", time.time(), flush=True)
                db.execute("COMMIT")
                """,
                cli.vaultPath, String(seconds),
            ], environment: cli.environment, stdout: output)
    }

    /// Waits until it has let go: its exit status, and when it held the lock.
    func finish() async -> (status: Int32, window: ClosedRange<Date>?) {
        let status = await process.exit().status
        return (status, StallTests.lockWindow((try? String(contentsOfFile: output, encoding: .utf8)) ?? ""))
    }
}

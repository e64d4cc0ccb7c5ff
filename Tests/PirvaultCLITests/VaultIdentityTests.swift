import Foundation
import PirvaultTestSupport
import Testing

/// The SQLite vault file changed under a running server, as an operator
/// might change it (issue 19): a backup renamed over it, a backup copied
/// over it in place, the file truncated. Within a second the server stops
/// answering 200 and answers 503, logs one line that says what happened,
/// and writes nothing more into the file that is now at the path.
@Suite(.boundedParallelism) struct VaultIdentityTests {
    /// The line `CommitHealth` logs when commits start failing.
    static let failingLine = "audit commits are failing"

    /// A vault with one client, a backup of it made with `vault copy` while
    /// it is served, and the server; the client has had a token after the backup.
    struct Served {
        let cli: CLI
        let client: (id: String, secret: String)
        let server: ServeTests.RunningServer
        let backup: String
    }

    static func serve(growAfterBackup: Bool = false) async throws -> Served {
        let cli = try await CLI.withVault()
        let client = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let server = try await ServeTests.RunningServer(cli: cli)
        #expect(await ServeTests.fetchToken(cli, server.baseURL, id: client.id, secret: client.secret).status == 200)
        let backup = cli.directory + "/backup.db"
        let copied = await cli.run("vault", "copy", "--to", backup)
        try #require(copied.code == 0, "\(copied.stderr)")
        if growAfterBackup {
            // Instances made after the backup, then a delete, whose scrub
            // checkpoints the WAL into the file: the live file is now larger.
            for index in 0..<12 {
                #expect(await cli.run("instance", "create", "later-\(index)", "--customer", "ACME").code == 0)
            }
            #expect(await cli.run("instance", "delete", "later-0").code == 0)
        }
        #expect(await ServeTests.fetchToken(cli, server.baseURL, id: client.id, secret: client.secret).status == 200)
        return Served(cli: cli, client: client, server: server, backup: backup)
    }

    /// Token requests for `seconds` after a change made at `changed`:
    /// none sent a second or more after it may get 200, and those get 503.
    static func expectRefusedWithinASecond(_ served: Served, changedAt changed: ContinuousClock.Instant, seconds: Int = 2)
        async throws
    {
        var answers: [(after: Duration, status: Int)] = []
        while ContinuousClock.now - changed < .seconds(seconds) {
            let sent = ContinuousClock.now - changed
            let status = await ServeTests.fetchToken(
                served.cli, served.server.baseURL, id: served.client.id, secret: served.client.secret
            ).status
            answers.append((sent, status))
            try await Task.sleep(for: .milliseconds(50))
        }
        let late = answers.filter { $0.after >= .seconds(1) }
        #expect(!late.isEmpty)
        #expect(late.allSatisfy { $0.status == 503 }, "answers a second or more after the change: \(late.map(\.status))")
        #expect(!answers.contains { $0.status == 200 && $0.after >= .seconds(1) })
        let readiness = await ServeTests.curl(served.cli, served.server.baseURL + "/readyz")
        #expect(readiness.status == 503)
        #expect(await ServeTests.curl(served.cli, served.server.baseURL + "/healthz").status == 200)
        print("vault file changed: \(answers.count) requests in \(seconds) s, statuses \(answers.map(\.status))")
    }

    /// The server logged exactly one line about it, with `phrase` in it.
    static func expectOneLogLine(_ server: ServeTests.RunningServer, saying phrase: String) async throws {
        #expect(try await server.waitForLog(Self.failingLine, seconds: 5))
        let lines = server.log.split(separator: "\n").filter { $0.contains(Self.failingLine) }
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains(phrase) == true, "\(lines)")
        #expect(lines.first?.contains("docs/reliability.md") == true)
    }

    static func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func aBackupRenamedOverTheVaultIsNotServedFromAndStaysIntact() async throws {
        let served = try await Self.serve()
        defer { served.cli.removeDirectory() }
        let vault = served.cli.vaultPath
        #expect(rename(served.backup, vault) == 0)  // mv backup.db vault.db
        let changed = ContinuousClock.now
        let renamedIn = try #require(Self.contents(vault))
        try await Self.expectRefusedWithinASecond(served, changedAt: changed)
        try await Self.expectOneLogLine(served.server, saying: "was replaced by another file")

        // The backup now at the path is whole: verified while the server
        // still runs, and byte for byte what was renamed into place.
        let whileServing = await served.cli.run("audit", "verify")
        #expect(whileServing.code == 0, "\(whileServing.stderr)")
        #expect(Self.contents(vault) == renamedIn)
        #expect(await served.server.stop() == 0)
        #expect(Self.contents(vault) == renamedIn, "the server wrote into the file renamed into place")
        let afterStop = await served.cli.run("audit", "verify")
        #expect(afterStop.code == 0, "\(afterStop.stderr)")
        // And it serves again once started on it.
        let restarted = try await ServeTests.RunningServer(cli: served.cli)
        #expect(await ServeTests.fetchToken(served.cli, restarted.baseURL, id: served.client.id, secret: served.client.secret).status == 200)
        #expect(await restarted.stop() == 0)
    }

    @Test func aBackupCopiedOverTheVaultInPlaceIsNotServedFromOrWrittenInto() async throws {
        let served = try await Self.serve(growAfterBackup: true)
        defer { served.cli.removeDirectory() }
        let vault = served.cli.vaultPath
        let sizes = try [vault, served.backup].map { try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        try #require(sizes[0] > sizes[1], "the live file (\(sizes[0]) bytes) must be larger than the backup (\(sizes[1]))")
        let inode = try FileManager.default.attributesOfItem(atPath: vault)[.systemFileNumber] as? Int
        // cp backup.db vault.db: the same file, truncated and rewritten.
        let copied = await served.cli.runExecutable("/bin/cp", [served.backup, vault])
        #expect(copied.code == 0, "\(copied.stderr)")
        let changed = ContinuousClock.now
        #expect(try FileManager.default.attributesOfItem(atPath: vault)[.systemFileNumber] as? Int == inode)
        let copiedIn = try #require(Self.contents(vault))
        try await Self.expectRefusedWithinASecond(served, changedAt: changed)
        try await Self.expectOneLogLine(served.server, saying: "shrank from \(sizes[0]) to \(sizes[1]) bytes")
        #expect(await served.server.stop() == 0)
        #expect(Self.contents(vault) == copiedIn, "the server wrote into the file copied into place")
    }

    @Test func aTruncatedVaultIsNotServedFromOrWrittenInto() async throws {
        let served = try await Self.serve()
        defer { served.cli.removeDirectory() }
        let vault = served.cli.vaultPath
        #expect(truncate(vault, 0) == 0)  // : > vault.db
        let changed = ContinuousClock.now
        try await Self.expectRefusedWithinASecond(served, changedAt: changed)
        try await Self.expectOneLogLine(served.server, saying: "shrank from")
        #expect(await served.server.stop() == 0)
        // Not checkpointed into on the way out either: still empty.
        #expect(Self.contents(vault)?.count == 0)
    }
}

import Foundation
import Testing

/// The audit commands through the built binary, and an export checked by a
/// verifier pirvault did not write (Python hashlib + cryptography).
@Suite(.boundedParallelism) struct AuditCLITests {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/verify_export.py").path

    func populated() async throws -> CLI {
        var cli = try await CLI.withVault()
        cli.environment["PIRVAULT_CHECKPOINT_EVERY"] = "3"
        for i in 0..<5 {
            #expect(await cli.run("instance", "create", "i\(i)", "--customer", i % 2 == 0 ? "Even Corp" : "Odd Ltd").code == 0)
        }
        return cli
    }

    @Test func anExportVerifiesOfflineWithPirvaultAndWithAnIndependentVerifier() async throws {
        let cli = try await populated()
        let keyFile = cli.directory + "/audit.pub"
        let key = await cli.run("audit", "public-key")
        #expect(key.code == 0)
        try key.stdout.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let exportFile = cli.directory + "/odd.jsonl"
        let exported = await cli.run("audit", "export", "--format", "jsonl", "--customer", "Odd Ltd", "--output", exportFile)
        #expect(exported.code == 0, "\(exported.stderr)")
        #expect(exported.stdout.contains("exported 2 events"))

        // Offline: no vault, no key file, only the public key.
        var offline = CLI()
        offline.environment["PIRVAULT_PATH"] = offline.directory + "/none.db"
        let verified = await offline.run("audit", "verify", "--export", exportFile, "--public-key", keyFile)
        #expect(verified.code == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("2 events"))

        var python = CLI()
        python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let independent = await python.runExecutable("/usr/bin/env", ["python3", Self.interop, exportFile, keyFile])
        #expect(independent.code == 0, "\(independent.stdout)\(independent.stderr)")
        #expect(independent.stdout.hasPrefix("OK 2 events"))

        // One changed field: both verifiers refuse, naming the line.
        let doctored = cli.directory + "/doctored.jsonl"
        let text = try String(contentsOfFile: exportFile, encoding: .utf8)
        try text.replacingOccurrences(of: "Odd Ltd", with: "Odd Inc").write(toFile: doctored, atomically: true, encoding: .utf8)
        let refused = await offline.run("audit", "verify", "--export", doctored, "--public-key", keyFile)
        #expect(refused.code == 1)
        #expect(refused.stderr.contains("line 1"))
        #expect(await python.runExecutable("/usr/bin/env", ["python3", Self.interop, doctored, keyFile]).code == 1)
    }

    @Test func verifyListExportAndPruneThroughTheCLI() async throws {
        let cli = try await populated()
        let verify = await cli.run("audit", "verify")
        #expect(verify.code == 0)
        #expect(verify.stdout.hasPrefix("audit log OK: 6 events"))

        let list = await cli.run("audit", "list", "--json", "--customer", "Even Corp", "--event", "instance.create", "--limit", "2")
        let events = try #require(try parseJSON(list.stdout) as? [[String: Any]])
        #expect(events.map { $0["instance"] as? String } == ["i4", "i2"])
        #expect(events.allSatisfy { $0["seq"] is Int })
        #expect(await cli.run("audit", "list", "--since", "1h").stdout.contains("instance.create"))
        #expect(await !cli.run("audit", "list", "--until", "2000-01-01T00:00:00Z").stdout.contains("instance.create"))

        let csv = await cli.run("audit", "export", "--format", "csv")
        #expect(csv.stdout.hasPrefix("seq,time,event,outcome"))
        let empty = await cli.run("audit", "export", "--format", "jsonl", "--customer", "nobody")
        #expect(empty.code == 0)
        #expect(empty.stdout.split(separator: "\n").count == 1)
        #expect(empty.stdout.hasPrefix("{\"checkpoint\":"))

        let prune = await cli.run("audit", "prune", "--before", "2999-01-01T00:00:00Z")
        #expect(prune.code == 0)
        #expect(await cli.run("audit", "verify").code == 0)
        #expect(await cli.run("audit", "export", "--format", "jsonl", "--format", "xml").code == 2)
        #expect(await cli.run("audit", "export", "--format", "xml").code == 2)
        #expect(await cli.run("audit", "verify", "--export", "x.jsonl").code == 2)
    }

    @Test func aTamperedVaultFailsVerificationNamingTheIndex() async throws {
        let cli = try await populated()
        let sqlite = await cli.runExecutable(
            "/usr/bin/env",
            ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_events SET instance='ghost' WHERE seq=2\"); c.commit()", cli.vaultPath])
        #expect(sqlite.code == 0)
        let verify = await cli.run("audit", "verify")
        #expect(verify.code == 1)
        #expect(verify.stderr == "pirvault: audit log verification failed: the event at index 2 was altered or moved: its columns differ from its signed content\n")
    }
}

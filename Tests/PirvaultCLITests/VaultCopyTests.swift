import Foundation
import Testing

/// `vault copy` between SQLite files, through the built binary.
@Suite(.boundedParallelism) struct VaultCopyTests {
    @Test func aCopiedFileIsTheSameVaultAndItsSecretsAndTokensStillWork() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let target = source.cli.directory + "/copy.db"
        let copied = await source.copy(from: source.cli, to: target)
        #expect(copied.code == 0, "\(copied.stderr)")
        let face = try await VaultFace(source.cli)
        #expect(
            copied.stdout
                == "copied vault \(face.vaultID) to \(target): 2 instances, \(face.auditEvents) audit events, root \(face.checkpoint["root_hash"]!); verified\n"
        )
        try await source.expectSameVault(source: source.cli, copy: source.at(target))
    }

    @Test func anExistingTargetFileIsRefusedAndLeftAsItWas() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let occupied = source.cli.directory + "/occupied.db"
        try Data("not yours".utf8).write(to: URL(fileURLWithPath: occupied))
        let refused = await source.copy(from: source.cli, to: occupied)
        #expect(refused.code == 1)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.hasPrefix("pirvault: a file already exists at \(occupied)"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(FileManager.default.contents(atPath: occupied) == Data("not yours".utf8))

        // A target that holds a vault already (this one) is refused the same way.
        let itself = await source.copy(from: source.cli, to: source.cli.vaultPath)
        #expect(itself.code == 1)
        #expect(itself.stderr.split(separator: "\n").count == 1)
        #expect(await source.cli.run("audit", "verify").code == 0)
    }

    @Test func aCopyThatFailsPartWayLeavesNoFileAndIsAudited() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        try await source.orphanCredential()
        let target = source.cli.directory + "/copy.db"
        let failed = await source.copy(from: source.cli, to: target)
        #expect(failed.code == 1)
        #expect(failed.stderr.split(separator: "\n").count == 1)
        for suffix in ["", "-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: target + suffix)) }
        let events = try #require(
            try await parseJSON(source.cli.run("audit", "list", "--json", "--event", "vault.copy").stdout) as? [[String: Any]]
        )
        #expect(events.map { $0["outcome"] as? String } == ["error", "allowed"])
    }

    @Test func aPasswordInTheTargetURLIsAUsageErrorAndNeverEchoed() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let refused = await source.copy(from: source.cli, to: "postgres://vault:Hunter2Secret@127.0.0.1:1/vault")
        #expect(refused.code == 2)
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(!refused.stderr.contains("Hunter2Secret"))
        #expect(await !source.cli.run("audit", "list", "--json").stdout.contains("Hunter2Secret"))
    }
}

/// `vault info` of a file vault and of its copy.
@Suite(.boundedParallelism) struct VaultInfoTests {
    @Test func infoNamesBackendLocationIdentityAndLogOfBothVaults() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let target = source.cli.directory + "/copy.db"
        #expect(await source.copy(from: source.cli, to: target).code == 0)
        var infos: [[String: Any]] = []
        for (cli, location) in [(source.cli, source.cli.vaultPath), (source.at(target), target)] {
            let info = await cli.run("vault", "info", "--json")
            #expect(info.code == 0, "\(info.stderr)")
            let object = try #require(try parseJSON(info.stdout) as? [String: Any])
            #expect(
                Set(object.keys) == [
                    "backend", "location", "schema_version", "vault_id", "unlock_method", "subdomain", "runtime_xsappname",
                    "management_xsappname", "instances", "audit_events", "checkpoint", "signing_keys",
                ])
            #expect(object["backend"] as? String == "sqlite")
            #expect(object["location"] as? String == location)
            #expect((object["schema_version"] as? Int ?? 0) >= 5)  // 5 added vault_key_links, which the copy carries
            #expect(object["unlock_method"] as? String == "key-file")
            #expect(object["instances"] as? Int == 2)
            let checkpoint = try #require(object["checkpoint"] as? [String: Any])
            #expect(checkpoint["tree_size"] as? Int == object["audit_events"] as? Int)
            #expect((checkpoint["root_hash"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 32)
            infos.append(object)
        }
        #expect(infos[0]["vault_id"] as? String == infos[1]["vault_id"] as? String)
        #expect(infos[0]["audit_events"] as? Int == infos[1]["audit_events"] as? Int)
        #expect(infos[0]["schema_version"] as? Int == infos[1]["schema_version"] as? Int)
        for field in ["subdomain", "runtime_xsappname", "management_xsappname"] {
            #expect(infos[0][field] as? String == infos[1][field] as? String, "\(field) differs in the copy")
        }
        // The copy signs with the same keys, in the same states: its tokens verify with the source's key set.
        let kids = infos.map { (($0["signing_keys"] as? [[String: Any]]) ?? []).map { "\($0["kid"] ?? "") \($0["state"] ?? "")" } }
        #expect(!kids[0].isEmpty && kids[0] == kids[1])

        let text = await source.cli.run("vault", "info")
        #expect(text.code == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("FIELD") == true)
        #expect(lines.contains { $0.hasPrefix("backend") && $0.hasSuffix("sqlite") })
        #expect(lines.contains { $0.hasPrefix("vault id") && $0.hasSuffix(infos[0]["vault_id"] as? String ?? "?") })
    }
}

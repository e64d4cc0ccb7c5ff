import Foundation
import PirvaultTestSupport
import Testing

/// `vault copy` into and out of PostgreSQL, against the test process's
/// throw-away server (never skipped: a missing server fails the test).
@Suite(.boundedParallelism) struct VaultCopyPostgresTests {
    let server: TestPostgres
    let password: [String: String]

    init() async throws {
        server = try await TestPostgres.shared()
        password = ["PGPASSWORD": server.superuserPassword]
    }

    @Test func aRoundTripThroughPostgresKeepsRootsKeysAndSecrets() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let url = server.url(database: try await server.createDatabase("copy_round_trip"))
        let withPassword = source.at(source.cli.vaultPath, environment: password)
        let intoPostgres = await source.copy(from: withPassword, to: url)
        #expect(intoPostgres.code == 0, "\(intoPostgres.stderr)")
        #expect(intoPostgres.stdout.hasPrefix("copied vault ") && intoPostgres.stdout.hasSuffix("; verified\n"))
        #expect(intoPostgres.stdout.contains(" to \(url)?sslmode=disable: 2 instances, "))
        #expect(!intoPostgres.stdout.contains(server.superuserPassword))
        let postgres = source.at(url, environment: password)
        let info = try #require(try await parseJSON(postgres.run("vault", "info", "--json").stdout) as? [String: Any])
        #expect(info["backend"] as? String == "postgresql")
        #expect(info["location"] as? String == url + "?sslmode=disable")
        #expect(try await VaultFace(postgres) == VaultFace(source.cli))  // same roots, public key, log and instances

        // Identity columns continue after the copied ids, and the log's head is its size.
        #expect(await postgres.run("instance", "create", "gamma", "--customer", "Gamma").code == 0)
        let database = String(url.split(separator: "/").last!)
        #expect(
            try await server.psql(
                "SELECT max(id) = 3 AND (SELECT id FROM instances WHERE name = 'gamma') = 3 FROM instances",
                database: database) == "t")
        #expect(
            try await server.psql("SELECT size = (SELECT count(*) FROM audit_events) FROM audit_log_head", database: database)
                == "t")

        let back = source.cli.directory + "/back.db"
        let outOfPostgres = await source.copy(from: postgres, to: back)
        #expect(outOfPostgres.code == 0, "\(outOfPostgres.stderr)")
        try await source.expectSameVault(source: postgres, copy: source.at(back))
        #expect(try await VaultFace(source.at(back)).publicKey == VaultFace(source.cli).publicKey)
    }

    @Test func aDatabaseWithOtherTablesOrAVaultIsRefusedAndLeftUnchanged() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        let from = source.at(source.cli.vaultPath, environment: password)
        let other = try await server.createDatabase("copy_occupied")
        _ = try await server.psql("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('keep me')", database: other)
        let refused = await source.copy(from: from, to: server.url(database: other))
        #expect(refused.code == 1)
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(refused.stderr.contains("holds tables that are not a pirvault vault"))
        #expect(
            try await server.psql(
                "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'", database: other)
                == "notes")
        #expect(try await server.psql("SELECT body FROM notes", database: other) == "keep me")

        let vault = server.url(database: try await server.createDatabase("copy_vault"))
        #expect(await source.copy(from: from, to: vault).code == 0)
        let before = try await VaultFace(source.at(vault, environment: password))
        let again = await source.copy(from: from, to: vault)
        #expect(again.code == 1)
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(again.stderr.contains("a vault already exists"))
        #expect(try await VaultFace(source.at(vault, environment: password)) == before)
    }

    @Test func aCopyThatFailsPartWayLeavesAnEmptyDatabase() async throws {
        let source = try await CopySource.populated()
        defer { source.cli.removeDirectory() }
        try await source.orphanCredential()
        let database = try await server.createDatabase("copy_rollback")
        let failed = await source.copy(
            from: source.at(source.cli.vaultPath, environment: password), to: server.url(database: database))
        #expect(failed.code == 1)
        #expect(failed.stderr.split(separator: "\n").count == 1)
        #expect(
            try await server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: database) == "0")
    }
}

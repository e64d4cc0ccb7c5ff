import Foundation
import PirvaultTestSupport
import Testing

/// `vault copy` into and out of PostgreSQL, against the test process's
/// throw-away server (never skipped: a missing server fails the test).
struct VaultCopyPostgresTests {
    let server: TestPostgres
    let password: [String: String]

    init() throws {
        server = try TestPostgres.shared
        password = ["PGPASSWORD": server.superuserPassword]
    }

    @Test func aRoundTripThroughPostgresKeepsRootsKeysAndSecrets() throws {
        let source = try CopySource.populated()
        defer { source.cli.removeDirectory() }
        let url = server.url(database: try server.createDatabase("copy_round_trip"))
        let withPassword = source.at(source.cli.vaultPath, environment: password)
        let intoPostgres = source.copy(from: withPassword, to: url)
        #expect(intoPostgres.code == 0, "\(intoPostgres.stderr)")
        #expect(intoPostgres.stdout.hasPrefix("copied vault ") && intoPostgres.stdout.hasSuffix("; verified\n"))
        #expect(intoPostgres.stdout.contains(" to \(url)?sslmode=disable: 2 instances, "))
        #expect(!intoPostgres.stdout.contains(server.superuserPassword))
        let postgres = source.at(url, environment: password)
        let info = try #require(try parseJSON(postgres.run("vault", "info", "--json").stdout) as? [String: Any])
        #expect(info["backend"] as? String == "postgresql")
        #expect(info["location"] as? String == url + "?sslmode=disable")
        #expect(try VaultFace(postgres) == VaultFace(source.cli))  // same roots, public key, log and instances

        // Identity columns continue after the copied ids, and the log's head is its size.
        #expect(postgres.run("instance", "create", "gamma", "--customer", "Gamma").code == 0)
        let database = String(url.split(separator: "/").last!)
        #expect(
            try server.psql(
                "SELECT max(id) = 3 AND (SELECT id FROM instances WHERE name = 'gamma') = 3 FROM instances",
                database: database) == "t")
        #expect(
            try server.psql("SELECT size = (SELECT count(*) FROM audit_events) FROM audit_log_head", database: database)
                == "t")

        let back = source.cli.directory + "/back.db"
        let outOfPostgres = source.copy(from: postgres, to: back)
        #expect(outOfPostgres.code == 0, "\(outOfPostgres.stderr)")
        try source.expectSameVault(source: postgres, copy: source.at(back))
        #expect(try VaultFace(source.at(back)).publicKey == VaultFace(source.cli).publicKey)
    }

    @Test func aDatabaseWithOtherTablesOrAVaultIsRefusedAndLeftUnchanged() throws {
        let source = try CopySource.populated()
        defer { source.cli.removeDirectory() }
        let from = source.at(source.cli.vaultPath, environment: password)
        let other = try server.createDatabase("copy_occupied")
        _ = try server.psql("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('keep me')", database: other)
        let refused = source.copy(from: from, to: server.url(database: other))
        #expect(refused.code == 1)
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(refused.stderr.contains("holds tables that are not a pirvault vault"))
        #expect(
            try server.psql(
                "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'", database: other)
                == "notes")
        #expect(try server.psql("SELECT body FROM notes", database: other) == "keep me")

        let vault = server.url(database: try server.createDatabase("copy_vault"))
        #expect(source.copy(from: from, to: vault).code == 0)
        let before = try VaultFace(source.at(vault, environment: password))
        let again = source.copy(from: from, to: vault)
        #expect(again.code == 1)
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(again.stderr.contains("a vault already exists"))
        #expect(try VaultFace(source.at(vault, environment: password)) == before)
    }

    @Test func aCopyThatFailsPartWayLeavesAnEmptyDatabase() throws {
        let source = try CopySource.populated()
        defer { source.cli.removeDirectory() }
        try source.orphanCredential()
        let database = try server.createDatabase("copy_rollback")
        let failed = source.copy(
            from: source.at(source.cli.vaultPath, environment: password), to: server.url(database: database))
        #expect(failed.code == 1)
        #expect(failed.stderr.split(separator: "\n").count == 1)
        #expect(
            try server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: database) == "0")
    }
}

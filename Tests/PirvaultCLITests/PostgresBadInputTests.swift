import Foundation
import PirvaultTestSupport
import Testing

/// Naming a PostgreSQL vault wrongly: each mistake gets one line on stderr,
/// exit 2 (the command line can fix it) or 1 (the database refused or is
/// unreachable), changes nothing, and never prints the password.
@Suite(.boundedParallelism) struct PostgresBadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let vault: @Sendable (TestPostgres, String) -> String  // (server, an existing vault's database) -> --vault
        let password: String?  // PGPASSWORD; nil: the server's own
        let exitCode: Int32
        let mentions: String
        var testDescription: String { name }
    }

    static let secretWord = "hunter2-not-the-password"

    static let cases: [Case] = [
        Case(
            name: "a password in the URL", vault: { pg, db in "postgres://postgres:\(secretWord)@127.0.0.1:\(pg.port)/\(db)" },
            password: nil, exitCode: 2, mentions: "PGPASSWORD"),
        Case(
            name: "a wrong password", vault: { pg, db in pg.url(database: db) }, password: secretWord, exitCode: 1,
            mentions: "PGPASSWORD"),
        Case(
            name: "an unreachable port", vault: { _, db in "postgres://postgres@127.0.0.1:1/\(db)" }, password: nil,
            exitCode: 1, mentions: "cannot reach"),
        Case(
            name: "a database that does not exist", vault: { pg, _ in pg.url(database: "no_such_database") }, password: nil,
            exitCode: 1, mentions: "does not exist"),
        Case(
            name: "TLS required but not offered", vault: { pg, db in pg.url(database: db) + "?sslmode=require" },
            password: nil, exitCode: 1, mentions: "TLS"),
        Case(
            name: "an unknown sslmode", vault: { pg, db in pg.url(database: db) + "?sslmode=prefer" }, password: nil,
            exitCode: 2, mentions: "sslmode"),
    ]

    @Test(arguments: cases) func refusedInOneLine(_ badInput: Case) async throws {
        let postgres = try await TestPostgres.shared()
        let cli = try await SeveralNodesTests.cliWithPostgresVault(postgres)
        defer { cli.removeDirectory() }
        #expect(await cli.run("instance", "create", "acme", "--customer", "ACME").code == 0)
        let database = try #require(cli.environment["PIRVAULT_PATH"]?.split(separator: "/").last.map(String.init))
        let before = await cli.run("audit", "list", "--json").stdout

        var wrong = cli
        wrong.environment["PIRVAULT_PATH"] = badInput.vault(postgres, database)
        wrong.environment["PGPASSWORD"] = badInput.password ?? postgres.superuserPassword
        for arguments in [["instance", "list"], ["instance", "create", "other", "--customer", "X"]] {
            let result = await wrong.run(arguments)
            #expect(result.code == badInput.exitCode, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "not one line: \(result.stderr)")
            #expect(result.stderr.contains(badInput.mentions), "\(result.stderr)")
            #expect(!result.stderr.contains(Self.secretWord) && !result.stderr.contains(postgres.superuserPassword))
            #expect(result.stdout.isEmpty)
        }
        // Nothing changed: the same instances and the same audit log.
        #expect(await cli.run("audit", "list", "--json").stdout == before)
        #expect(await !cli.run("instance", "list").stdout.contains("other"))
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let postgres = try await TestPostgres.shared()
        let cli = try await SeveralNodesTests.cliWithPostgresVault(postgres)
        defer { cli.removeDirectory() }
        let database = try #require(cli.environment["PIRVAULT_PATH"]?.split(separator: "/").last.map(String.init))
        _ = try await postgres.psql(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', 'now')",
            database: database)
        let result = await cli.run("instance", "list")
        #expect(result.code == 1)
        #expect(result.stderr.contains("upgrade pirvault"), "\(result.stderr)")
    }

    @Test func initRefusesADatabaseWithOtherTables() async throws {
        let postgres = try await TestPostgres.shared()
        let database = try await postgres.createDatabase("foreign")
        _ = try await postgres.psql("CREATE TABLE orders (id integer)", database: database)
        var cli = CLI()
        defer { cli.removeDirectory() }
        cli.environment["PIRVAULT_PATH"] = postgres.url(database: database)
        cli.environment["PGPASSWORD"] = postgres.superuserPassword
        let result = await cli.run("init", "--key-file", cli.keyPath, "--generate-key")
        #expect(result.code == 1)
        #expect(result.stderr.contains("not a pirvault vault"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.keyPath), "a key that unlocks nothing was left behind")
        #expect(try await postgres.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: database)
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }
}

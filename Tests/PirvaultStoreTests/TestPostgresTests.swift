import Foundation
import PirvaultTestSupport
import Testing

/// The throw-away PostgreSQL server the PostgreSQL store tests run against.
struct TestPostgresTests {
    @Test func theSharedServerAnswersOverTCP() throws {
        let server = try TestPostgres.shared
        #expect(try server.psql("SELECT 1", database: "postgres") == "1")
        #expect(try server.psql("SHOW listen_addresses", database: "postgres") == "127.0.0.1")
        #expect(try server.psql("SHOW fsync; SHOW synchronous_commit", database: "postgres") == "on\non")
        #expect(server.url(database: "db", user: "alice") == "postgres://alice@127.0.0.1:\(server.port)/db")
    }

    @Test func aCreatedRoleLogsInWithItsPasswordAndNotWithAnother() throws {
        let server = try TestPostgres.shared
        let role = "role_" + UUID().uuidString.prefix(8).lowercased()
        try server.createRole(role, password: "right 'horse' battery")
        let database = try server.createDatabase("login", owner: role)
        #expect(
            try server.psql("SELECT current_user", database: database, user: role, password: "right 'horse' battery")
                == role)
        let refusal = #expect(throws: TestPostgresError.self) {
            try server.psql("SELECT 1", database: database, user: role, password: "wrong")
        }
        #expect("\(refusal.map { "\($0)" } ?? "")".contains("password authentication failed"))
        #expect(throws: TestPostgresError.self) {
            try server.psql("SELECT 1", database: database, user: role, password: "")
        }
    }

    @Test func databasesAreIndependent() throws {
        let server = try TestPostgres.shared
        let first = try server.createDatabase("independent")
        let second = try server.createDatabase("independent")
        #expect(first != second)
        _ = try server.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)", database: first)
        #expect(try server.psql("SELECT count(*) FROM t", database: first) == "1")
        #expect(try server.psql("SELECT to_regclass('t') IS NULL", database: second) == "t")
    }

    /// A server of its own: stopping the shared one would break the other tests.
    @Test func stopAndStartKeepThePortAndTheData() throws {
        let server = try TestPostgres()
        defer { server.shutdown() }
        let database = try server.createDatabase("outage")
        _ = try server.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (42)", database: database)
        try server.stop()
        #expect(throws: TestPostgresError.self) { try server.psql("SELECT 1", database: database) }
        try server.start()
        #expect(try server.psql("SELECT x FROM t", database: database) == "42")
    }

    @Test func aFailingStatementThrowsWithTheServersMessageAndNoPassword() throws {
        let server = try TestPostgres.shared
        let error = #expect(throws: TestPostgresError.self) {
            try server.psql("SELECT * FROM no_such_table", database: "postgres")
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("no_such_table"))
        #expect(!message.contains(server.superuserPassword))
    }

    @Test func aMissingInstallationNamesTheDebianPackage() {
        let message = TestPostgresError.notInstalled.description
        #expect(message.contains("postgresql package") && message.contains("scripts/install-deps.sh"))
    }
}

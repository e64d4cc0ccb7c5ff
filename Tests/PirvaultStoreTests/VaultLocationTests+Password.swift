import Foundation
import Testing

@testable import PirvaultStore

/// The database password: `PGPASSWORD`, then `PGPASSFILE` or `~/.pgpass`, as libpq reads them.
extension VaultLocationTests {
    /// A home folder with `.pgpass` holding `lines` at `mode`.
    static func home(pgpass lines: [String]?, mode: Int = 0o600) throws -> String {
        let home = temporaryDirectory()
        if let lines {
            try writeFile(home + "/.pgpass", lines, mode: mode)
        }
        return home
    }

    static func writeFile(_ path: String, _ lines: [String], mode: Int) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static let tcp = PostgresLocation(user: "alice", host: "db.example.com", database: "vault")

    static func password(
        _ location: PostgresLocation = tcp, pgpass lines: [String]?, environment: [String: String] = [:]
    ) throws -> String? {
        let home = try home(pgpass: lines)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let lookup = try location.password(environment: environment, homeDirectory: home)
        #expect(lookup.warning == nil)
        return lookup.password
    }

    @Test func pgpasswordComesFirst() throws {
        let lines = ["db.example.com:5432:vault:alice:from-file"]
        #expect(try Self.password(pgpass: lines, environment: ["PGPASSWORD": "from-env"]) == "from-env")
        #expect(try Self.password(pgpass: lines, environment: ["PGPASSWORD": ""]) == "from-file")
        #expect(try Self.password(pgpass: nil) == nil)
    }

    @Test func theFirstMatchingLineWinsAndWildcardsMatchAnything() throws {
        let lines = [
            "# db.example.com:5432:vault:alice:commented-out",
            "",
            "other.example.com:5432:vault:alice:other-host",
            "db.example.com:5433:vault:alice:other-port",
            "db.example.com:5432:other:alice:other-database",
            "db.example.com:5432:vault:bob:other-user",
            "*:*:vault:alice:first",
            "db.example.com:5432:vault:alice:second",
        ]
        #expect(try Self.password(pgpass: lines) == "first")
        #expect(try Self.password(pgpass: Array(lines.prefix(6))) == nil)
        #expect(try Self.password(pgpass: ["*:*:*:*:any"]) == "any")
        #expect(try Self.password(pgpass: ["db.example.com:5432:vault:alice:"]) == nil)
        #expect(try Self.password(pgpass: ["db.example.com:5432:vault:alice"]) == nil)
    }

    @Test func backslashEscapesAColonABackslashAndAStar() throws {
        #expect(try Self.password(pgpass: ["db.example.com:5432:vault:alice:pa\\:ss\\\\word:ignored"]) == "pa:ss\\word")
        let ipv6 = PostgresLocation(user: "alice", host: "::1", database: "vault")
        #expect(try Self.password(ipv6, pgpass: ["\\:\\:1:5432:vault:alice:loopback"]) == "loopback")
        #expect(try Self.password(pgpass: ["db.example.com:5432:\\*:alice:literal-star"]) == nil)
        let starred = PostgresLocation(user: "alice", host: "db.example.com", database: "*")
        #expect(try Self.password(starred, pgpass: ["db.example.com:5432:\\*:alice:literal-star"]) == "literal-star")
    }

    @Test func aSocketMatchesLocalhostOrItsDirectory() throws {
        let socket = PostgresLocation(user: "alice", socketDirectory: "/var/run/postgresql", database: "vault")
        #expect(
            try Self.password(
                socket, pgpass: ["db.example.com:5432:vault:alice:tcp", "localhost:5432:vault:alice:local"]) == "local")
        #expect(try Self.password(socket, pgpass: ["/var/run/postgresql:5432:vault:alice:directory"]) == "directory")
        let loopback = PostgresLocation(user: "alice", host: "127.0.0.1", database: "vault")
        #expect(try Self.password(loopback, pgpass: ["localhost:5432:vault:alice:local"]) == nil)
    }

    @Test func pgpassfileReplacesTheHomeFile() throws {
        let home = try Self.home(pgpass: ["*:*:*:*:home"])
        defer { try? FileManager.default.removeItem(atPath: home) }
        let other = home + "/elsewhere"
        try Self.writeFile(other, ["*:*:*:*:elsewhere"], mode: 0o600)
        let lookup = try Self.tcp.password(environment: ["PGPASSFILE": other], homeDirectory: home)
        #expect(lookup.password == "elsewhere")
        let missing = try Self.tcp.password(environment: ["PGPASSFILE": home + "/missing"], homeDirectory: home)
        #expect(missing.password == nil && missing.warning == nil)
    }

    @Test func aFileOnlyItsOwnerCanReadIsUsed() throws {
        #expect(try Self.password(pgpass: ["*:*:*:*:private"], environment: [:]) == "private")
        let home = try Self.home(pgpass: ["*:*:*:*:read-only"], mode: 0o400)
        defer { try? FileManager.default.removeItem(atPath: home) }
        #expect(try Self.tcp.password(environment: [:], homeDirectory: home).password == "read-only")
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660])
    func aFileOthersCanReadIsIgnoredWithOneWarning(mode: Int) throws {
        let home = try Self.home(pgpass: ["*:*:*:*:exposed"], mode: mode)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let lookup = try Self.tcp.password(environment: [:], homeDirectory: home)
        #expect(lookup.password == nil)
        #expect(lookup.warning?.description == "~/.pgpass is readable by others; chmod 600 it")
        let other = home + "/exposed"
        try Self.writeFile(other, ["*:*:*:*:exposed"], mode: mode)
        let named = try Self.tcp.password(environment: ["PGPASSFILE": other], homeDirectory: home)
        #expect(named.warning?.description == "\(other) is readable by others; chmod 600 it")
    }

    @Test func aFolderIsNotAPasswordFile() throws {
        let home = try Self.home(pgpass: nil)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/.pgpass", withIntermediateDirectories: false)
        let lookup = try Self.tcp.password(environment: [:], homeDirectory: home)
        #expect(lookup.password == nil && lookup.warning == nil)
    }

    @Test func aLookupNeverPrintsThePassword() throws {
        let lookup = try Self.tcp.password(environment: ["PGPASSWORD": "s3cret-pw"], homeDirectory: "/nonexistent")
        #expect(lookup.password == "s3cret-pw")
        #expect(!"\(lookup)".contains("s3cret-pw"))
    }
}

import Foundation
import Testing

@testable import PirvaultStore

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "pirvault-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let sampleHeader = VaultHeaderRecord(
    vaultID: "test-vault", unlockMethod: .keyFile, kdfOpslimit: nil, kdfMemlimit: nil, kdfSalt: nil,
    sealedVaultKey: [1, 2, 3], sealedVerifierKey: [4, 5, 6], createdAt: "2026-11-21T00:00:00.000000Z")

struct MigrationTests {
    let directory = temporaryDirectory()
    var path: String { directory + "/vault.db" }

    @Test func embedsTheMigrationsFolderInOrder() {
        #expect(!Migration.sqlite.isEmpty)
        #expect(Migration.sqlite.map(\.version) == Array(1...Migration.sqlite.count))
        #expect(Migration.sqlite[0].name == "initial")
        #expect(Migration.sqlite[0].sql.contains("CREATE TABLE vault_header"))
    }

    @Test func createAppliesEveryMigrationAndRecordsItsChecksum() throws {
        let store = try SQLiteStore.create(at: path, header: sampleHeader)
        let recorded = try store.db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version") {
            Migration(version: Int($0.int(0)), name: $0.string(1), sql: $0.string(2))
        }
        #expect(recorded.map(\.version) == Migration.sqlite.map(\.version))
        #expect(recorded.map(\.sql) == Migration.sqlite.map(\.checksum))
        #expect(try store.header() == sampleHeader)
    }

    @Test func newFilesArePrivateAndInWALMode() throws {
        let store = try SQLiteStore.create(at: path, header: sampleHeader)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try store.db.scalarText("PRAGMA journal_mode") == "wal")
        try store.write { try store.appendAudit(AuditRecord(seq: 0, time: .now(), event: "e", outcome: "allowed", canonical: [1], leafHash: [2])) }
        let walMode = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? Int
        #expect(walMode == 0o600)
    }

    @Test func refusesToOverwriteAnExistingFile() throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data("precious".utf8))
        #expect(throws: StoreError.vaultExists(path: path)) { try SQLiteStore.create(at: path, header: sampleHeader) }
        #expect(FileManager.default.contents(atPath: path) == Data("precious".utf8))
    }

    @Test func appliesPendingMigrationsOnOpen() throws {
        let first = Array(Migration.sqlite.prefix(1))
        _ = try SQLiteStore.create(at: path, header: sampleHeader, migrations: first)
        let extra = Migration(version: first.count + 1, name: "extra", sql: "CREATE TABLE extra (x INTEGER) STRICT;")
        let store = try SQLiteStore.open(at: path, migrations: first + [extra])
        #expect(try store.db.query("SELECT count(*) FROM schema_migrations") { $0.int(0) }.first == 2)
        #expect(throws: Never.self) { try store.db.execute("INSERT INTO extra VALUES (1)") }
    }

    @Test func refusesAnEditedAppliedMigration() throws {
        let original = Migration(version: 1, name: "initial", sql: Migration.sqlite[0].sql)
        _ = try SQLiteStore.create(at: path, header: sampleHeader, migrations: [original])
        let edited = Migration(version: 1, name: "initial", sql: original.sql + "\n-- edited")
        #expect(throws: StoreError.migrationChanged(version: 1, name: "initial")) {
            try SQLiteStore.open(at: path, migrations: [edited])
        }
    }

    @Test func refusesAVaultWithANewerSchema() throws {
        let newer = Migration.sqlite + [Migration(version: Migration.sqlite.count + 1, name: "future", sql: "CREATE TABLE future (x INTEGER);")]
        _ = try SQLiteStore.create(at: path, header: sampleHeader, migrations: newer)
        #expect(throws: StoreError.schemaTooNew(found: newer.count, supported: Migration.sqlite.count)) {
            try SQLiteStore.open(at: path)
        }
    }

    @Test func refusesFilesThatAreNotVaults() throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 8192))
        #expect(throws: StoreError.notAVault(path: path)) { try SQLiteStore.open(at: path) }

        let otherPath = directory + "/other.db"
        _ = FileManager.default.createFile(atPath: otherPath, contents: nil)
        let other = try Connection(path: otherPath)
        try other.execute("CREATE TABLE someone_elses (x INTEGER)")
        #expect(throws: StoreError.notAVault(path: otherPath)) { try SQLiteStore.open(at: otherPath) }
    }

    @Test func reportsAMissingVault() {
        #expect(throws: StoreError.vaultMissing(path: path)) { try SQLiteStore.open(at: path) }
    }

    @Test func aFailedCreateLeavesNoFileBehind() throws {
        let broken = [Migration(version: 1, name: "broken", sql: "CREATE TABLE oops (")]
        #expect(throws: StoreError.self) { try SQLiteStore.create(at: path, header: sampleHeader, migrations: broken) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

struct AuditStoreTests {
    let directory = temporaryDirectory()

    @Test func storesEventsAtTheirLeafIndexAndFilters() throws {
        let store = try SQLiteStore.create(at: directory + "/v.db", header: sampleHeader)
        try store.write {
            for i in 0..<5 {
                try store.appendAudit(
                    AuditRecord(
                        seq: try store.auditLogSize(), time: Timestamp(seconds: 1000 + Int64(i)), event: i % 2 == 0 ? "a" : "b", outcome: "allowed",
                        customer: "c\(i % 2)", canonical: [UInt8(i)], leafHash: [UInt8(i)]))
            }
        }
        var seen: [Int64] = []
        try store.forEachAuditEvent(AuditFilter(newestFirst: false)) { seen.append($0.seq) }
        #expect(seen == [0, 1, 2, 3, 4])
        seen = []
        try store.forEachAuditEvent(AuditFilter(since: Timestamp(seconds: 1001), customer: "c1", limit: 1)) {
            seen.append($0.seq)
        }
        #expect(seen == [3])
    }

    @Test func aRolledBackTransactionLeavesNoRow() throws {
        let store = try SQLiteStore.create(at: directory + "/v.db", header: sampleHeader)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try store.write {
                try store.appendAudit(AuditRecord(seq: 0, time: .now(), event: "x", outcome: "allowed", canonical: [], leafHash: []))
                throw Boom()
            }
        }
        var count = 0
        try store.forEachAuditEvent(AuditFilter()) { _ in count += 1 }
        #expect(count == 0)
    }
}

struct TimestampTests {
    @Test func formatsRFC3339WithMicroseconds() {
        #expect(Timestamp(microseconds: 1_763_717_400_123_456).rfc3339 == "2025-11-21T09:30:00.123456Z")
        #expect(Timestamp(microseconds: 0).rfc3339 == "1970-01-01T00:00:00.000000Z")
    }

    @Test func parsesRFC3339Forms() {
        #expect(Timestamp(rfc3339: "2025-11-21T09:30:00Z")?.microseconds == 1_763_717_400_000_000)
        #expect(Timestamp(rfc3339: "2025-11-21T09:30:00.5Z")?.microseconds == 1_763_717_400_500_000)
        #expect(Timestamp(rfc3339: "2025-11-21T10:30:00+01:00")?.microseconds == 1_763_717_400_000_000)
        #expect(Timestamp(rfc3339: "2025-11-21T09:30:00.123456Z")?.rfc3339 == "2025-11-21T09:30:00.123456Z")
    }

    @Test(arguments: ["", "2025-11-21", "2025-13-01T00:00:00Z", "2025-02-31T00:00:00Z", "2025-11-21T09:30:00",
                      "2025-11-21T09:30:00Zjunk", "2025-11-21T25:00:00Z", "2025-11-21T09:30:00.Z"])
    func rejectsMalformedTimes(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}

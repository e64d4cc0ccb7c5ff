import Foundation
import Testing

import PirvaultPostgres
@testable import PirvaultStore

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "pirvault-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let sampleHeader = VaultHeaderRecord(
    vaultID: "test-vault", unlockMethod: .keyFile, kdfOpslimit: nil, kdfMemlimit: nil, kdfSalt: nil,
    sealedVaultKey: [1, 2, 3], sealedVerifierKey: [4, 5, 6], createdAt: "2026-11-21T00:00:00.000000Z",
    subdomain: "acme-prod", appIndex: 17, subdomainChosen: true)

/// SQLite's own cases; StoreConformanceTests has those both backends share
/// (pending, edited and newer migrations, a missing vault).
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
        #expect(try store.read { try $0.header() } == sampleHeader)
    }

    @Test func newFilesArePrivateAndInWALMode() throws {
        let store = try SQLiteStore.create(at: path, header: sampleHeader)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try store.db.scalarText("PRAGMA journal_mode") == "wal")
        try store.write { tx in try tx.appendAudit(AuditRecord(seq: 0, time: .now(), event: .gatewayCall, outcome: .allowed, canonical: [1], leafHash: [2])) }
        let walMode = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? Int
        #expect(walMode == 0o600)
    }

    @Test func refusesToOverwriteAnExistingFile() throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data("precious".utf8))
        #expect(throws: StoreError.vaultExists(path: path)) { try SQLiteStore.create(at: path, header: sampleHeader) }
        #expect(FileManager.default.contents(atPath: path) == Data("precious".utf8))
    }

    @Test func refusesFilesThatAreNotVaults() throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 8192))
        #expect(throws: StoreError.notAVault(path: path)) { try SQLiteStore.open(at: path) }

        let otherPath = directory + "/other.db"
        _ = FileManager.default.createFile(atPath: otherPath, contents: nil)
        let other = try Connection(path: otherPath, lockTimeout: .seconds(1))
        try other.execute("CREATE TABLE someone_elses (x INTEGER)")
        #expect(throws: StoreError.notAVault(path: otherPath)) { try SQLiteStore.open(at: otherPath) }
    }

    @Test func aFailedCreateLeavesNoFileBehind() throws {
        let broken = [Migration(version: 1, name: "broken", sql: "CREATE TABLE oops (")]
        #expect(throws: StoreError.self) { try SQLiteStore.create(at: path, header: sampleHeader, migrations: broken) }
        #expect(!FileManager.default.fileExists(atPath: path))
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

import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultTestSupport

@testable import PirvaultCore
@testable import PirvaultStore

/// A fresh folder with a key file, and a vault in it (SQLite) or in a new
/// database of the test PostgreSQL server.
struct Fixture {
    let backend: Backend
    let directory: String
    let keyPath: String
    /// The vault's location: a file path or a `postgres://` URL.
    let vaultPath: String
    let key: SecretBytes
    let vault: Vault

    init(clock: Clock = .system, backend: Backend = .sqlite, signing: SigningAlgorithm = .rs256) throws {
        self.backend = backend
        directory = NSTemporaryDirectory() + "pirvault-core-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        keyPath = directory + "/vault.key"
        vaultPath = backend == .sqlite ? directory + "/vault.db" : try backend.freshLocation("core")
        key = try KeyFile.generate(at: keyPath)
        vault = try Vault.create(at: vaultPath, unlock: .keyFile(key), stores: .all, signing: signing, clock: clock)
    }

    func reopen(clock: Clock = .system) throws -> Vault { try Vault.open(at: vaultPath, unlock: .keyFile(key), stores: .all, clock: clock) }

    /// A raw SQLite connection to the vault file, for tampering (SQLite only;
    /// `execute` and `query` work on either backend).
    func raw() throws -> Connection {
        precondition(backend == .sqlite, "raw() is the SQLite file; use execute or query")
        return try Connection(path: vaultPath, lockTimeout: .seconds(30))
    }

    /// Runs SQL both dialects share on the vault's database, outside pirvault.
    func execute(_ sql: String) throws { try backend.execute(sql, at: vaultPath) }

    /// The first column of each row of `sql`, as text.
    func query(_ sql: String) throws -> [String] { try backend.query(sql, at: vaultPath) }

    func auditEvents(_ vault: Vault? = nil) throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        try (vault ?? self.vault).forEachAuditEvent(AuditFilter(newestFirst: false)) { events.append($0) }
        return events
    }
}

/// The byte sequence appears somewhere in the file.
func file(_ path: String, contains needle: [UInt8]) -> Bool {
    guard let data = FileManager.default.contents(atPath: path), !needle.isEmpty else { return false }
    return data.range(of: Data(needle)) != nil
}

extension Fixture {
    /// Flips one bit of a sealed column in the rows `condition` selects.
    func flipBit(table: String, column: String, where condition: String, at offset: Int = 30) throws {
        try backend.flipBit(table: table, column: column, where: condition, at: offset, location: vaultPath)
    }
}

import Synchronization

/// A clock that stands still until a test moves it.
final class TestClock: Sendable {
    private let current: Mutex<Timestamp>

    init(_ start: Timestamp = Timestamp(seconds: 1_800_000_000)) { current = Mutex(start) }

    var clock: Clock { Clock { [self] in current.withLock { $0 } } }
    var now: Timestamp { current.withLock { $0 } }

    func advance(seconds: Int64) { current.withLock { $0 = $0.adding(seconds: seconds) } }
}

extension Fixture {
    /// Creates an instance and returns its client id and secret.
    func client(_ spec: InstanceSpec) throws -> (id: String, secret: String) {
        let key = try vault.createInstance(spec)
        return (key.clientID, key.clientSecret)
    }

    func issue(_ client: (id: String, secret: String), scopes: [String] = [], format: TokenFormat? = nil) throws -> IssuedToken {
        try vault.issueToken(TokenRequest(clientID: client.id, secret: client.secret, scopes: scopes, format: format))
    }

    func refusal(of token: String, flow: String? = nil) throws -> Refusal? {
        try vault.verifyToken(token, flow: flow).refusal
    }
}

func base64url(_ text: String) -> String { Base64.encode(Array(text.utf8), .urlSafeNoPadding) }

func decodeSegment(_ token: String, _ index: Int) throws -> JSONValue {
    let part = token.split(separator: ".", omittingEmptySubsequences: false)[index]
    return try JSONValue.parse(Base64.decode(part, .urlSafeNoPadding)!)
}

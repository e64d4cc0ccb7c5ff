import Foundation
import PirvaultCrypto
import PirvaultJSON

@testable import PirvaultCore
@testable import PirvaultStore

/// A fresh folder with a key file and a vault in it.
struct Fixture {
    let directory: String
    let keyPath: String
    let vaultPath: String
    let key: SecretBytes
    let vault: Vault

    init(clock: Clock = .system) throws {
        directory = NSTemporaryDirectory() + "pirvault-core-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        keyPath = directory + "/vault.key"
        vaultPath = directory + "/vault.db"
        key = try KeyFile.generate(at: keyPath)
        vault = try Vault.create(at: vaultPath, unlock: .keyFile(key), clock: clock)
    }

    func reopen() throws -> Vault { try Vault.open(at: vaultPath, unlock: .keyFile(key)) }

    /// A raw SQLite connection to the vault file, for tampering.
    func raw() throws -> Connection { try Connection(path: vaultPath) }

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
        let raw = try raw()
        let rows = try raw.query("SELECT rowid, \(column) FROM \(table) WHERE \(condition)") { ($0.int(0), $0.blob(1)!) }
        for (rowid, var bytes) in rows {
            bytes[offset] ^= 0x01
            try raw.run("UPDATE \(table) SET \(column) = ? WHERE rowid = ?", [.blob(bytes), .integer(rowid)])
        }
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

import PirvaultCrypto

/// One numbered schema step from the package's `migrations/` folder.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the SQL text, recorded when applied so a later edit is caught.
    public var checksum: String { SHA256.hash(Array(sql.utf8)).hexString }
}

import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// What `vault info` shows: where the vault lives and what it holds, never a
/// key, secret or password.
public struct VaultInfo: Sendable, Equatable {
    /// The latest signed tree head.
    public struct Checkpoint: Sendable, Equatable {
        public var treeSize: Int64
        public var rootHash: [UInt8]
        public var createdAt: Timestamp

        /// The root hash in standard base64, as checkpoints print it.
        public var rootHashBase64: String { PublicBase64.encode(rootHash, .standard) }
    }

    /// `sqlite` or `postgresql`.
    public var backend: String
    /// The file path or the URL without password.
    public var location: String
    public var schemaVersion: Int
    public var vaultID: String
    /// `key-file` or `passphrase`.
    public var unlockMethod: String
    public var instances: Int
    /// The audit log's tree size (pruned events included).
    public var auditEvents: Int64
    /// nil in a vault that has no checkpoint yet.
    public var checkpoint: Checkpoint?

    /// `vault info --json`: snake_case keys, `checkpoint` null when there is none.
    public var jsonObject: JSONValue {
        .object([
            ("backend", .string(backend)),
            ("location", .string(location)),
            ("schema_version", .integer(Int64(schemaVersion))),
            ("vault_id", .string(vaultID)),
            ("unlock_method", .string(unlockMethod)),
            ("instances", .integer(Int64(instances))),
            ("audit_events", .integer(auditEvents)),
            (
                "checkpoint",
                checkpoint.map {
                    .object([
                        ("tree_size", .integer($0.treeSize)), ("root_hash", .string($0.rootHashBase64)),
                        ("created_at", .string($0.createdAt.rfc3339)),
                    ])
                } ?? .null
            ),
        ])
    }
}

extension Vault {
    /// The vault's backend, location, identity and sizes, read from one snapshot.
    @available(*, noasync)
    public func info() throws -> VaultInfo {
        try read { tx in
            VaultInfo(
                backend: store.backend, location: store.location, schemaVersion: try tx.schemaVersion(),
                vaultID: vaultID, unlockMethod: unlockMethod.rawValue, instances: try tx.instanceCount(),
                auditEvents: try tx.auditLogSize(),
                checkpoint: try tx.latestCheckpoint().map {
                    VaultInfo.Checkpoint(treeSize: $0.treeSize, rootHash: $0.rootHash, createdAt: $0.createdAt)
                })
        }
    }
}

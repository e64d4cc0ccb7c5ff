import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

/// What `vault info` shows: where the vault lives and what it holds, never a
/// key, secret or password.
public struct VaultInfo: Sendable {
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
    public var tenant: Tenant
    /// The published signing keys and their schedule (as of `time`).
    public var signingKeys: SigningKeySchedule
    public var time: Timestamp

    /// `vault info --json`: snake_case keys, `checkpoint` null when there is none.
    public var jsonObject: JSONValue {
        .object([
            ("backend", .string(backend)),
            ("location", .string(location)),
            ("schema_version", .integer(Int64(schemaVersion))),
            ("vault_id", .string(vaultID)),
            ("unlock_method", .string(unlockMethod)),
            ("subdomain", .string(tenant.subdomain)),
            ("runtime_xsappname", .string(tenant.runtimeXsappname)),
            ("management_xsappname", .string(tenant.managementXsappname)),
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
            (
                "signing_keys",
                .array(
                    signingKeys.entries.map { key in
                        .object(omittingNils: [
                            ("kid", .string(key.kid)), ("alg", .string(key.algorithm.rawValue)),
                            ("key", .string(key.publicKey.keyDescription)),
                            ("state", .string(key.state(at: time).rawValue)),
                            ("signs_from", .string(key.activatesAt.rfc3339)),
                            ("signs_until", key.retiredAt.map { .string($0.rfc3339) }),
                            ("published_until", key.publishedUntil.map { .string($0.rfc3339) }),
                        ])
                    })
            ),
        ])
    }
}

extension Vault {
    /// The vault's backend, location, identity and sizes, read from one snapshot.
    @available(*, noasync)
    public func info() throws -> VaultInfo {
        let now = clock.now()
        return try read { tx in
            VaultInfo(
                backend: store.backend, location: store.location, schemaVersion: try tx.schemaVersion(),
                vaultID: vaultID, unlockMethod: unlockMethod.rawValue, instances: try tx.instanceCount(),
                auditEvents: try tx.auditLogSize(),
                checkpoint: try tx.latestCheckpoint().map {
                    VaultInfo.Checkpoint(treeSize: $0.treeSize, rootHash: $0.rootHash, createdAt: $0.createdAt)
                }, tenant: try tx.tenant(), signingKeys: try signingKeySchedule(at: now, in: tx), time: now)
        }
    }
}

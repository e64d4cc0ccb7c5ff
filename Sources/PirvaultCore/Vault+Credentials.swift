import PirvaultCrypto
import PirvaultStore

extension Vault {
    public static let defaultGraceSeconds: Int64 = 86_400

    /// Gives instance `name` a new secret. The previous secret keeps working
    /// for `graceSeconds` (0: it stops at once, and so do tokens obtained with
    /// it); any older one stops now, so at most two secrets are ever valid.
    @available(*, noasync)
    public func rotateCredentials(
        named name: String, graceSeconds: Int64 = defaultGraceSeconds,
        secret: SecretSource = .generated(bytes: SecretSource.defaultByteCount)
    ) throws -> ServiceKey {
        guard graceSeconds >= 0 else { throw VaultError.invalidInput("the grace period cannot be negative") }
        let newSecret = try secret.makeSecret()
        return try write { tx in
            var record = try record(named: name, in: tx)
            guard record.status == .active else {
                throw VaultError.conflict("instance '\(name)' is revoked; its credentials cannot be rotated — create a new instance instead")
            }
            let dataKey = try openDataKey(of: record)
            let now = clock.now()
            try tx.deleteExpiredCredentials(instanceID: record.id, before: now)
            let graceEnd = now.adding(seconds: graceSeconds)
            for credential in try tx.credentials(instanceID: record.id) {
                if credential.expiresAt == nil {
                    try tx.expireCredential(id: credential.id, at: graceEnd)
                } else if let end = credential.expiresAt, end > now {
                    try tx.expireCredential(id: credential.id, at: now)
                }
            }
            try addCredential(to: record, dataKey: dataKey, secret: newSecret, createdAt: now.rfc3339, in: tx)
            record.updatedAt = now.rfc3339
            try tx.updateInstance(record)
            try tx.audit(
                AuditEvent(
                    time: now, event: .credentialsRotate, outcome: .allowed,
                    reason: graceSeconds == 0 ? "previous secret stopped at once" : "previous secret valid until \(graceEnd.rfc3339)",
                    customer: record.customer, instance: record.name, clientID: record.clientID))
            return ServiceKey(
                clientID: record.clientID, clientSecret: newSecret, url: record.url, tokenURL: record.tokenURL,
                createDate: now.rfc3339)
        }
    }

    /// Revokes instance `name`: every secret stops now, and every outstanding
    /// token fails at once (the credential generation they carry is bumped).
    @available(*, noasync)
    public func revokeCredentials(named name: String) throws {
        try write { tx in
            var record = try record(named: name, in: tx)
            guard record.status == .active else {
                throw VaultError.conflict("instance '\(name)' is already revoked")
            }
            let now = clock.now()
            for credential in try tx.credentials(instanceID: record.id) where credential.expiresAt.map({ $0 > now }) ?? true {
                try tx.expireCredential(id: credential.id, at: now)
            }
            record.status = .revoked
            record.credentialGeneration += 1
            record.updatedAt = now.rfc3339
            try tx.updateInstance(record)
            try tx.audit(
                AuditEvent(
                    time: now, event: .credentialsRevoke, outcome: .allowed,
                    reason: "all secrets and tokens revoked (generation \(record.credentialGeneration))",
                    customer: record.customer, instance: record.name, clientID: record.clientID))
        }
    }
}

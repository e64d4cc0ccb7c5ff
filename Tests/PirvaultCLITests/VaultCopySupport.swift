import Foundation
import Testing

/// A vault with something in every copied table, and the checks that a copy
/// of it is the same vault: shared by the SQLite and PostgreSQL copy tests.
struct CopySource {
    let cli: CLI
    /// A client whose secret was rotated (its old credential row is still in its grace period).
    let rotated: (id: String, secret: String)
    /// A client with opaque tokens.
    let opaque: (id: String, secret: String)
    /// Issued before the copy; must verify on the copy.
    let jwt: String
    let opaqueToken: String

    /// Two customers, two instances (one rotated), issued, revoked and
    /// opaque tokens, a rotated signing key and vault key, pruned audit
    /// bodies and several checkpoints.
    static func populated() async throws -> CopySource {
        var cli = try await CLI.withVault()
        cli.environment["PIRVAULT_CHECKPOINT_EVERY"] = "3"
        let first = try await serviceKeyCredentials(cli.run("instance", "create", "acme-dev", "--customer", "ACME").stdout)
        let opaque = try serviceKeyCredentials(
            await cli.run("instance", "create", "beta-prod", "--customer", "Beta", "--token-format", "opaque").stdout)
        let revoked = try await issue(cli, first)
        #expect(await cli.run("token", "revoke", revoked).code == 0)
        #expect(await cli.run("audit", "prune", "--before", "2999-01-01T00:00:00Z").code == 0)
        let rotated = try await serviceKeyCredentials(cli.run("credentials", "rotate", "acme-dev").stdout)
        #expect(await cli.run("keys", "rotate-signing").code == 0)
        #expect(await cli.run("keys", "rotate-vault-key").code == 0)  // a vault_key_links row and epoch 2
        return CopySource(
            cli: cli, rotated: rotated, opaque: opaque, jwt: try await issue(cli, rotated),
            opaqueToken: try await issue(cli, opaque))
    }

    static func issue(_ cli: CLI, _ client: (id: String, secret: String)) async throws -> String {
        let issued = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret)
        guard issued.code == 0 else { throw CLI.CLIError("token issue failed: \(issued.stderr)") }
        return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Adds a credential row whose instance does not exist (the sqlite3
    /// shell leaves foreign keys unchecked): copying it fails on the target
    /// after customers and instances went in.
    func orphanCredential() async throws {
        let inserted = await cli.runExecutable(
            "/usr/bin/sqlite3",
            [
                cli.vaultPath,
                "INSERT INTO credentials (instance_id, sealed_secret, verifier, created_at) VALUES (999, x'00', x'00', 'x')",
            ])
        guard inserted.code == 0 else { throw CLI.CLIError("sqlite3 failed: \(inserted.stderr)") }
    }

    /// `vault copy --to target` from `from` (this vault, or one copied from it).
    func copy(from: CLI, to target: String) async -> CLI.Result { await from.run("vault", "copy", "--to", target) }

    /// The same CLI pointed at another vault location (same key file and environment).
    func at(_ location: String, environment extra: [String: String] = [:]) -> CLI {
        var other = cli
        other.environment["PIRVAULT_PATH"] = location
        other.environment.merge(extra) { $1 }
        return other
    }
}

/// What must be equal in a vault and its copy, read without changing either.
struct VaultFace: Equatable {
    let vaultID: String
    let unlockMethod: String
    let auditEvents: Int
    let checkpoint: [String: String]
    let publicKey: String
    let auditList: String
    let instances: String

    init(_ cli: CLI) async throws {
        let info = await cli.run("vault", "info", "--json")
        guard info.code == 0, let object = try parseJSON(info.stdout) as? [String: Any],
            let checkpoint = object["checkpoint"] as? [String: Any]
        else { throw CLI.CLIError("vault info failed: \(info.stderr)") }
        vaultID = object["vault_id"] as? String ?? ""
        unlockMethod = object["unlock_method"] as? String ?? ""
        auditEvents = object["audit_events"] as? Int ?? -1
        self.checkpoint = [
            "tree_size": "\(checkpoint["tree_size"] ?? "")", "root_hash": checkpoint["root_hash"] as? String ?? "",
            "created_at": checkpoint["created_at"] as? String ?? "",
        ]
        publicKey = await cli.run("audit", "public-key").stdout
        auditList = await cli.run("audit", "list", "--json").stdout
        instances = await cli.run("instance", "list", "--json").stdout
    }
}

extension CopySource {
    /// The copy at `copy` is this vault: same face, a verifying log, and
    /// every old secret and token still working there.
    func expectSameVault(source: CLI, copy: CLI) async throws {
        let original = try await VaultFace(source)
        let copied = try await VaultFace(copy)
        #expect(copied == original)
        #expect(original.auditList.contains("\"vault.copy\""))
        #expect(await copy.run("audit", "verify").code == 0)
        let verified = await copy.run("token", "verify", jwt)
        #expect(verified.code == 0, "\(verified.stderr)")
        #expect(await copy.run("token", "verify", opaqueToken).code == 0)
        #expect(await copy.run("token", "issue", "--client-id", rotated.id, stdin: rotated.secret).code == 0)
        #expect(await copy.run("token", "issue", "--client-id", opaque.id, stdin: opaque.secret).code == 0)
    }
}

import Foundation
import Testing

/// Tokens through the built binary, checked by an independent JOSE library.
@Suite(.boundedParallelism) struct TokenCLITests {
    static let interopScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("interop/verify_jwt.py").path

    func createClient(_ cli: CLI, _ name: String, _ extra: [String] = []) async throws -> (id: String, secret: String) {
        try await serviceKeyCredentials(cli.run(["instance", "create", name, "--customer", "ACME"] + extra).stdout)
    }

    func runPython(_ arguments: [String], stdin: String = "") async throws -> CLI.Result {
        var python = CLI()
        python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        python.environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        return await python.runExecutable("/usr/bin/env", ["python3"] + arguments, stdin: stdin)
    }

    @Test func joserfcVerifiesIssuedTokensWithOnlyTheJWKS() async throws {
        let cli = try await CLI.withVault()
        let client = try await createClient(cli, "acme")
        let issued = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret)
        #expect(issued.code == 0)
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)

        // Rotate the signing key: the old token must still verify against the published JWKS.
        #expect(await cli.run("keys", "rotate-signing", "--publish-ahead", "0s").code == 0)
        let second = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let jwksFile = cli.directory + "/jwks.json"
        try await cli.run("keys", "jwks").stdout.write(toFile: jwksFile, atomically: true, encoding: .utf8)

        let verified = try await runPython([Self.interopScript, jwksFile, "http://127.0.0.1:8080", token, second])
        #expect(verified.code == 0, "\(verified.stderr)")
        let lines = verified.stdout.split(separator: "\n")
        try #require(lines.count == 2)
        let first = try #require(try parseJSON(String(lines[0])) as? [String: Any])
        let claims = try #require(first["claims"] as? [String: Any])
        #expect(claims["client_id"] as? String == client.id)
        #expect((claims["ext_attr"] as? [String: String])?["customer"] == "ACME")
        #expect(first["kid"] as? String != (try parseJSON(String(lines[1])) as? [String: Any])?["kid"] as? String)

        // A JWKS from another vault must not verify this vault's tokens.
        let other = try await CLI.withVault()
        let otherJWKS = other.directory + "/jwks.json"
        try await other.run("keys", "jwks").stdout.write(toFile: otherJWKS, atomically: true, encoding: .utf8)
        #expect(try await runPython([Self.interopScript, otherJWKS, "http://127.0.0.1:8080", token]).code != 0)
    }

    @Test func issueVerifyRevokeThroughTheCLI() async throws {
        let cli = try await CLI.withVault()
        let client = try await createClient(cli, "acme", ["--flow", "orders/*"])
        let json = await cli.run("token", "issue", "--client-id", client.id, "--json", stdin: client.secret + "\n")
        #expect(json.code == 0)
        let response = try #require(try parseJSON(json.stdout) as? [String: Any])
        #expect(Set(response.keys) == ["access_token", "token_type", "expires_in", "scope", "jti"])
        #expect(response["token_type"] as? String == "bearer")
        let token = try #require(response["access_token"] as? String)

        let allowed = await cli.run("token", "verify", token, "--flow", "/http/orders/7", "--json")
        #expect(allowed.code == 0)
        let verdict = try #require(try parseJSON(allowed.stdout) as? [String: Any])
        #expect(Set(verdict.keys) == ["active", "reason", "client_id", "customer", "instance", "scope", "exp", "jti"])
        #expect(verdict["active"] as? Bool == true)

        let denied = await cli.run("token", "verify", "-", "--flow", "/http/invoices/1", "--json", stdin: token)
        #expect(denied.code == 1)
        #expect((try parseJSON(denied.stdout) as? [String: Any])?["active"] as? Bool == false)

        let plain = await cli.run("token", "verify", token, "--flow", "/http/invoices/1")
        #expect(plain.code == 1)
        #expect(plain.stderr.contains("not among the flows allowed"))
        #expect(!plain.stderr.contains(token))

        #expect(await cli.run("token", "revoke", "-", stdin: token).code == 0)
        let revoked = await cli.run("token", "verify", token)
        #expect(revoked.code == 1)
        #expect(revoked.stderr.contains("revoked"))

        let wrong = await cli.run("token", "issue", "--client-id", client.id, stdin: "not-the-secret")
        #expect(wrong.code == 1)
        #expect(wrong.stderr == "pirvault: invalid_client: wrong client secret\n")
        let noStdin = await cli.run("token", "issue", "--client-id", client.id, "--scope", "Admin", stdin: client.secret)
        #expect(noStdin.code == 1)
        #expect(noStdin.stderr.contains("invalid_scope"))
        #expect(!noStdin.stderr.contains(client.secret))
    }

    @Test func rotateAndRevokeThroughTheCLI() async throws {
        let cli = try await CLI.withVault()
        let client = try await createClient(cli, "acme")
        let token = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let rotated = await cli.run("credentials", "rotate", "acme", "--grace", "0s")
        #expect(rotated.code == 0)
        let newSecret = try #require(((try parseJSON(rotated.stdout) as? [String: Any])?["oauth"] as? [String: String])?["clientsecret"])
        #expect(newSecret != client.secret)
        #expect(await cli.run("token", "verify", token).code == 1)
        #expect(await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).code == 1)
        #expect(await cli.run("token", "issue", "--client-id", client.id, stdin: newSecret).code == 0)
        #expect(await cli.run("credentials", "rotate", "acme", "--grace", "soon").code == 2)

        #expect(await cli.run("credentials", "revoke", "acme").code == 0)
        let after = await cli.run("token", "issue", "--client-id", client.id, stdin: newSecret)
        #expect(after.code == 1)
        #expect(after.stderr.contains("revoked"))
        #expect(await cli.run("instance", "show", "acme", "--json").stdout.contains("\"revoked\""))
    }

    @Test func vaultKeysRotateAndTheUnlockSecretChanges() async throws {
        var cli = try await CLI.withVault()
        let client = try await createClient(cli, "acme")
        #expect(await cli.run("keys", "rotate-vault-key").code == 0)
        #expect(await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).code == 0)
        let newKey = cli.directory + "/new.key"
        #expect(await cli.run("keys", "change-passphrase", "--new-key-file", newKey, "--generate-key").code == 0)
        #expect(await cli.run("instance", "list").code == 1)
        cli.environment["PIRVAULT_KEY_FILE"] = newKey
        let key = await cli.run("instance", "key", "acme")
        #expect(key.code == 0)
        #expect(key.stdout.contains(client.secret))
    }
}

import Foundation
import PirvaultTestSupport
import Testing

/// The built binary, end to end: outputs scripts rely on, exit codes, and
/// one-line errors without secrets.
@Suite(.boundedParallelism) struct EndToEndTests {
    @Test func registersListsShowsAndDeletesAnInstance() async throws {
        let cli = try await CLI.withVault()
        let mode = try FileManager.default.attributesOfItem(atPath: cli.vaultPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: cli.keyPath)[.posixPermissions] as? Int == 0o600)

        let created = await cli.run("instance", "create", "acme-orders", "--customer", "ACME Corp", "--flow", "orders/*")
        #expect(created.code == 0)
        #expect(created.stderr.isEmpty)
        let key = try #require(try parseJSON(created.stdout) as? [String: Any])
        let oauth = try #require(key["oauth"] as? [String: String])
        #expect(Set(oauth.keys) == ["clientid", "clientsecret", "url", "tokenurl", "createdate"])
        let secret = try #require(oauth["clientsecret"])
        let clientID = try #require(oauth["clientid"])

        let list = await cli.run("instance", "list", "--json")
        #expect(list.code == 0)
        let rows = try #require(try parseJSON(list.stdout) as? [[String: Any]])
        #expect(rows.count == 1)
        let row = rows[0]
        for field in ["name", "customer", "clientid", "plan", "roles", "grant_types", "redirect_uris", "flows",
                      "token_ttl", "token_format", "status", "url", "tokenurl", "created_at", "updated_at"] {
            #expect(row[field] != nil, "missing \(field)")
        }
        #expect(row["clientid"] as? String == clientID)
        #expect(row["flows"] as? [String] == ["orders/*"])
        #expect(row["status"] as? String == "active")
        #expect(!list.stdout.contains(secret))

        let table = await cli.run("instance", "list")
        #expect(table.stdout.hasPrefix("NAME"))
        #expect(table.stdout.contains("acme-orders"))

        let show = await cli.run("instance", "show", "acme-orders", "--json")
        #expect(show.code == 0)
        #expect(!show.stdout.contains(secret))
        #expect((try parseJSON(show.stdout) as? [String: Any])?["customer"] as? String == "ACME Corp")

        let again = await cli.run("instance", "key", "acme-orders")
        #expect(again.code == 0)
        let againOAuth = try #require((try parseJSON(again.stdout) as? [String: Any])?["oauth"] as? [String: String])
        #expect(againOAuth["clientsecret"] == secret)

        let updated = await cli.run("instance", "update", "acme-orders", "--add-flow", "products/*", "--token-ttl", "600", "--json")
        #expect(updated.code == 0)
        #expect((try parseJSON(updated.stdout) as? [String: Any])?["token_ttl"] as? Int == 600)

        let audit = await cli.run("audit", "list", "--json")
        let events = try #require(try parseJSON(audit.stdout) as? [[String: Any]])
        #expect(events.map { $0["event"] as? String } == ["instance.update", "instance.key", "instance.create", "vault.init"])
        #expect(!audit.stdout.contains(secret))

        #expect(await cli.run("instance", "delete", "acme-orders").code == 0)
        #expect(await cli.run("instance", "list", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let gone = await cli.run("instance", "show", "acme-orders")
        #expect(gone.code == 1)
        #expect(gone.stderr.contains("no instance named"))
    }

    @Test func readsACustomSecretFromStdinOnly() async throws {
        let cli = try await CLI.withVault()
        let strong = "Xk9#mQ2$vL7&pR4!tZ8*wN3^bH6@cJ5%dF1qYs0"
        let created = await cli.run("instance", "create", "a", "--customer", "C", "--secret-stdin", stdin: strong + "\n")
        #expect(created.code == 0)
        #expect(created.stdout.contains(strong))
        let weak = await cli.run("instance", "create", "b", "--customer", "C", "--secret-stdin", stdin: "password123")
        #expect(weak.code == 2)
        #expect(weak.stderr.contains("entropy"))
        #expect(!weak.stderr.contains("password123"))
        let unknownFlag = await cli.run("instance", "create", "b", "--customer", "C", "--client-secret", strong)
        #expect(unknownFlag.code == 2)
    }

    @Test func unlocksWithAPassphraseFromFileOrEnvironment() async throws {
        var cli = CLI()
        let passphraseFile = cli.directory + "/pass"
        try "a long enough passphrase\n".write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        chmod(passphraseFile, 0o600)  // a passphrase file others can read is refused, like a key file
        #expect(await cli.run("init", "--passphrase-file", passphraseFile).code == 0)
        #expect(await cli.run("instance", "create", "a", "--customer", "C", "--passphrase-file", passphraseFile).code == 0)
        cli.environment["PIRVAULT_PASSPHRASE"] = "a long enough passphrase"
        #expect(await cli.run("instance", "list").code == 0)
        cli.environment["PIRVAULT_PASSPHRASE"] = "the wrong passphrase"
        let wrong = await cli.run("instance", "list")
        #expect(wrong.code == 1)
        #expect(wrong.stderr.contains("wrong key file or passphrase"))
        #expect(!wrong.stderr.contains("the wrong passphrase"))
    }

    @Test func importsServiceKeysFromAFileOrStdin() async throws {
        let cli = try await CLI.withVault()
        let key = #"{"oauth": {"clientid": "sb-1!b2|it-rt-t!b3", "clientsecret": "s3cr3t-Value-1234567890", "url": "https://t.example", "tokenurl": "https://t.example/oauth/token", "createdate": "2026-01-01T00:00:00Z"}}"#
        let file = cli.directory + "/key.json"
        try key.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await cli.run("instance", "import", file, "--name", "cloud", "--customer", "C").code == 0)
        let fromStdin = await cli.run("instance", "import", "-", "--name", "cloud2", "--customer", "C", stdin: key)
        #expect(fromStdin.code == 1)
        #expect(fromStdin.stderr.contains("already stored as instance 'cloud'"))
        let cert = await cli.run(
            "instance", "import", "-", "--name", "c3", "--customer", "C",
            stdin: #"{"oauth": {"clientid": "x", "certificate": "-----BEGIN", "key": "-----BEGIN", "tokenurl": "https://a/t"}}"#)
        #expect(cert.code == 2)
        #expect(cert.stderr.contains("certificate-type"))
    }

    /// Every failure: one line on stderr, the documented exit code, nothing on stdout.
    @Test func failuresAreOneLineWithTheRightExitCode() async throws {
        let cli = try await CLI.withVault()
        #expect(await cli.run("instance", "create", "dup", "--customer", "C").code == 0)
        let cases: [([String], Int32, String)] = [
            (["instance", "create", "dup", "--customer", "C"], 1, "already exists"),
            (["instance", "create", "x", "--customer", "C", "--plan", "gold"], 2, "'gold' is invalid for '--plan"),
            (["instance", "create", "x", "--customer", "C", "--role", "Admin"], 2, "unknown role"),
            (["instance", "create", "x", "--customer", "C", "--grant-type", "implicit"], 2, "'implicit' is invalid for '--grant-type"),
            (["instance", "create", "x", "--customer", "C", "--grant-type", "authorization_code"], 2, "redirect-uri"),
            (["instance", "create", "x", "--customer", "C", "--secret-length", "8"], 2, "out of range"),
            (["instance", "create", "x"], 2, "customer"),
            (["instance", "create", "x'; DROP TABLE instances;--", "--customer", "C"], 2, "invalid instance name"),
            (["instance", "show", "ghost"], 1, "no instance named"),
            (["instance", "list", "--vault", cli.directory + "/missing.db"], 1, "no vault at"),
            (["instance", "list", "--key-file", cli.directory + "/missing.key"], 2, "cannot open key file"),
            (["instance", "frobnicate"], 2, "Unexpected argument"),
            (["audit", "list", "--since", "yesterday"], 2, "invalid time"),
            (["init", "--key-file", cli.keyPath, "--generate-key"], 1, "already exists"),
        ]
        for (arguments, code, fragment) in cases {
            let result = await cli.run(arguments)
            #expect(result.code == code, "\(arguments): exit \(result.code), \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments)")
            #expect(result.stderr.hasPrefix("pirvault: "), "\(arguments)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Stack") && !result.stderr.contains("Fatal"))
        }
        let list = try #require(try await parseJSON(cli.run("instance", "list", "--json").stdout) as? [[String: Any]])
        #expect(list.count == 1)
    }

    @Test func aWrongKeyFileIsAuditedAndChangesNothingElse() async throws {
        var cli = try await CLI.withVault()
        let otherKey = cli.directory + "/other.key"
        var other = CLI()
        other.environment["PIRVAULT_PATH"] = cli.directory + "/other.db"
        #expect(await other.run("init", "--key-file", otherKey, "--generate-key").code == 0)
        cli.environment["PIRVAULT_KEY_FILE"] = otherKey
        let denied = await cli.run("instance", "create", "x", "--customer", "C")
        #expect(denied.code == 1)
        cli.environment["PIRVAULT_KEY_FILE"] = cli.keyPath
        let events = try #require(try await parseJSON(cli.run("audit", "list", "--json").stdout) as? [[String: Any]])
        #expect(events.first?["event"] as? String == "vault.unlock")
        #expect(events.first?["outcome"] as? String == "denied")
        #expect(await cli.run("instance", "show", "x").code == 1)
    }

    @Test func refusesAVaultWrittenByANewerSchema() async throws {
        let cli = try await CLI.withVault()
        let sqlite = try ChildProcess("/usr/bin/env", ["python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO schema_migrations VALUES (999, 'future', 'x', 'now')\"); c.commit()",
            cli.vaultPath])
        _ = await sqlite.exit()
        let result = await cli.run("instance", "list")
        #expect(result.code == 1)
        #expect(result.stderr.contains("newer than this pirvault"))
    }
}

import Foundation
import Testing

/// A full scenario with debug logging, then a byte search of everything
/// pirvault wrote — logs, every error message, audit exports, the SQLite file,
/// its WAL and shm — for every secret and token it handled.
@Suite(.boundedParallelism) struct SecretHygieneTests {
    /// What the scenario handled and where it may not appear.
    final class Scenario {
        var cli = CLI()
        /// Label → value of every secret and token the scenario handled.
        var needles: [(label: String, value: [UInt8])] = []
        /// Label → bytes that must not contain any needle.
        var haystacks: [(label: String, bytes: [UInt8])] = []

        func secret(_ label: String, _ value: String) { needles.append((label, Array(value.utf8))) }

        /// Runs pirvault; its stderr (and stdout, when it failed or prints no
        /// secret by design) goes on the search list.
        @discardableResult
        func run(_ arguments: [String], stdin: String? = nil, code: Int32 = 0, printsSecret: Bool = false) async -> CLI.Result {
            let result = await cli.run(arguments, stdin: stdin)
            #expect(result.code == code, "\(arguments.prefix(3)): \(result.stderr)")
            haystacks.append(("stderr of \(arguments.prefix(3))", Array(result.stderr.utf8)))
            if !printsSecret || result.code != 0 { haystacks.append(("stdout of \(arguments.prefix(3))", Array(result.stdout.utf8))) }
            return result
        }

        func file(_ label: String, _ path: String) throws {
            haystacks.append((label, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
    }

    @Test func noSecretOrTokenAppearsInLogsErrorsExportsOrTheVaultFiles() async throws {
        let s = Scenario()
        let cli = s.cli
        defer { cli.removeDirectory() }
        s.cli.environment["LOG_LEVEL"] = "debug"

        // Unlock secrets: a passphrase, later replaced by a key file.
        let passphrase = "hygiene passphrase " + UUID().uuidString
        s.secret("passphrase", passphrase)
        let passphraseFile = cli.directory + "/passphrase"
        FileManager.default.createFile(atPath: passphraseFile, contents: Data((passphrase + "\n").utf8), attributes: [.posixPermissions: 0o600])
        await s.run(["init", "--passphrase-file", passphraseFile])
        s.cli.environment["PIRVAULT_PASSPHRASE"] = passphrase

        // Instances: generated, custom (stdin) and imported secrets.
        let jwtClient = try await serviceKeyCredentials(s.run(["instance", "create", "jwt-client", "--customer", "ACME", "--flow", "orders/*"], printsSecret: true).stdout)
        s.secret("generated secret", jwtClient.secret)
        let opaqueClient = try serviceKeyCredentials(
            await s.run(["instance", "create", "opaque-client", "--customer", "GLOBEX", "--flow", "orders/*", "--token-format", "opaque"], printsSecret: true).stdout)
        s.secret("opaque instance secret", opaqueClient.secret)
        let custom = "Custom-" + UUID().uuidString + "-" + UUID().uuidString
        s.secret("custom secret", custom)
        await s.run(["instance", "create", "custom-client", "--customer", "ACME", "--secret-stdin"], stdin: custom + "\n", printsSecret: true)
        let imported = "imported-" + UUID().uuidString
        s.secret("imported secret", imported)
        let importFile = cli.directory + "/service-key.json"
        try #"{"oauth": {"clientid": "sb-9!b1|it-rt-cloud!b2", "clientsecret": "\#(imported)", "url": "https://t.example", "tokenurl": "https://t.example/oauth/token"}}"#
            .write(toFile: importFile, atomically: true, encoding: .utf8)
        await s.run(["instance", "import", importFile, "--name", "cloud", "--customer", "INITECH"])

        // Secrets the CLI refuses must not be echoed either.
        let weak = "weakweakweakweak" + String(UUID().uuidString.prefix(4))
        s.secret("weak custom secret", weak)
        await s.run(["instance", "create", "weak", "--customer", "ACME", "--secret-stdin"], stdin: weak + "\n", code: 2)
        let leaky = "leaky-" + UUID().uuidString
        s.secret("secret in a malformed service key", leaky)
        await s.run(["instance", "import", "-", "--name", "bad", "--customer", "C"], stdin: #"{"oauth": {"clientsecret": "\#(leaky)", "clientid": 5}}"#, code: 2)
        let wrong = "wrong-" + UUID().uuidString
        s.secret("wrong secret", wrong)
        await s.run(["token", "issue", "--client-id", jwtClient.id], stdin: wrong + "\n", code: 1)

        // Tokens from the CLI: verify, tamper, revoke.
        let cliToken = await s.run(["token", "issue", "--client-id", jwtClient.id], stdin: jwtClient.secret + "\n", printsSecret: true).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let opaqueToken = await s.run(["token", "issue", "--client-id", opaqueClient.id], stdin: opaqueClient.secret + "\n", printsSecret: true).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let tampered = String(cliToken.dropLast()) + (cliToken.last == "A" ? "B" : "A")
        for (label, token) in [("CLI JWT", cliToken), ("CLI opaque token", opaqueToken), ("tampered JWT", tampered)] { addToken(s, label, token) }
        await s.run(["token", "verify", "-", "--flow", "/http/orders/1"], stdin: cliToken + "\n")
        await s.run(["token", "verify", "-"], stdin: tampered + "\n", code: 1)
        await s.run(["token", "revoke", "-"], stdin: opaqueToken + "\n")
        await s.run(["token", "verify", "-"], stdin: opaqueToken + "\n", code: 1)

        // The server, logging at debug level, used over real HTTP.
        let server = try await ServeTests.RunningServer(cli: s.cli)
        let base = server.baseURL
        let httpToken = try #require(await ServeTests.fetchToken(cli, base, id: jwtClient.id, secret: jwtClient.secret).token)
        addToken(s, "HTTP JWT", httpToken)
        let form = await ServeTests.curl(
            cli, base + "/oauth/token",
            ["data": "grant_type=client_credentials&client_id=\(opaqueClient.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&client_secret=\(opaqueClient.secret)"])
        let httpOpaque = try #require((try parseJSON(form.body) as? [String: Any])?["access_token"] as? String)
        addToken(s, "HTTP opaque token", httpOpaque)
        #expect(await ServeTests.fetchToken(cli, base, id: jwtClient.id, secret: wrong).status == 401)
        #expect(await gateway(cli, base + "/http/orders/1", httpToken) == 200)
        #expect(await gateway(cli, base + "/http/orders/1", httpOpaque) == 200)
        #expect(await gateway(cli, base + "/http/invoices/1", httpToken) == 403)
        #expect(await gateway(cli, base + "/http/orders/1", tampered) == 401)
        let introspection = await ServeTests.curl(cli, base + "/oauth/introspect", ["user": "\(jwtClient.id):\(jwtClient.secret)", "data": "token=\(httpToken)"])
        #expect(introspection.body.contains("\"active\":true"))
        #expect(await ServeTests.curl(cli, base + "/oauth/revoke", ["user": "\(jwtClient.id):\(jwtClient.secret)", "data": "token=\(httpToken)"]).status == 200)
        #expect(await gateway(cli, base + "/http/orders/1", httpToken) == 401)

        // Rotation while serving: the new secret and its token.
        let rotated = try await serviceKeyCredentials(s.run(["credentials", "rotate", "jwt-client", "--grace", "0s"], printsSecret: true).stdout)
        s.secret("rotated secret", rotated.secret)
        let rotatedToken = try #require(await ServeTests.fetchToken(cli, base, id: rotated.id, secret: rotated.secret).token)
        addToken(s, "JWT of the rotated secret", rotatedToken)
        #expect(await gateway(cli, base + "/http/orders/1", rotatedToken) == 200)

        // Exports, a crypto-shredding delete, and a switch to a key file.
        await s.run(["audit", "export", "--format", "jsonl", "--output", cli.directory + "/audit.jsonl"])
        await s.run(["audit", "export", "--format", "csv", "--output", cli.directory + "/audit.csv"])
        await s.run(["audit", "list", "--json"])
        await s.run(["instance", "list", "--json"])
        await s.run(["instance", "show", "jwt-client", "--json"])
        await s.run(["keys", "jwks"])
        await s.run(["instance", "delete", "custom-client"])
        await s.run(["keys", "change-passphrase", "--new-key-file", cli.keyPath, "--generate-key"])
        let keyBytes = try Data(contentsOf: URL(fileURLWithPath: cli.keyPath))
        s.needles += [
            ("key file bytes", Array(keyBytes)), ("key file hex", Array(keyBytes.map { String(format: "%02x", $0) }.joined().utf8)),
            ("key file base64", Array(keyBytes.base64EncodedString().utf8)),
        ]

        // The vault files as they are while the server still has them open.
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: cli.vaultPath + suffix) {
            try s.file("vault\(suffix) while serving", cli.vaultPath + suffix)
            #expect(try mode(cli.vaultPath + suffix) == 0o600, "vault\(suffix)")
        }
        #expect(await server.stop() == 0)
        s.cli.environment["PIRVAULT_PASSPHRASE"] = nil
        s.cli.environment["PIRVAULT_KEY_FILE"] = cli.keyPath
        await s.run(["audit", "verify"])
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: cli.vaultPath + suffix) {
            try s.file("vault\(suffix) after stopping", cli.vaultPath + suffix)
        }
        for path in [cli.keyPath, cli.directory + "/audit.jsonl", cli.directory + "/audit.csv"] {
            #expect(try mode(path) == 0o600, "\(path)")
        }
        try s.file("audit.jsonl", cli.directory + "/audit.jsonl")
        try s.file("audit.csv", cli.directory + "/audit.csv")
        try s.file("server stdout", server.output)
        try s.file("server stderr (logs)", cli.directory + "/serve.err")

        let logs = try String(contentsOfFile: cli.directory + "/serve.err", encoding: .utf8)
        #expect(logs.contains("debug"), "the server did not log at debug level")
        #expect(s.needles.count >= 20 && s.haystacks.count >= 30)
        for needle in s.needles {
            for haystack in s.haystacks where contains(haystack.bytes, needle.value) {
                Issue.record("the \(needle.label) appears in \(haystack.label)")
            }
        }
        print("secret hygiene: \(s.needles.count) secrets and tokens searched for in \(s.haystacks.count) outputs and files, none found")
    }

    /// A token, and for a JWT its signature alone (a log printing only that would leak it too).
    func addToken(_ s: Scenario, _ label: String, _ token: String) {
        s.secret(label, token)
        let parts = token.split(separator: ".")
        if parts.count == 3 { s.secret(label + " signature", String(parts[2])) }
    }

    func gateway(_ cli: CLI, _ url: String, _ token: String) async -> Int {
        await ServeTests.curl(cli, url, headers: ["Authorization: Bearer \(token)"]).status
    }

    func mode(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1) & 0o777
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        Data(haystack).range(of: Data(needle)) != nil
    }
}

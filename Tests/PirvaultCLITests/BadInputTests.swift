import Foundation
import PirvaultTestSupport
import Testing

/// Hostile and malformed input, across the command line and HTTP: each one is
/// refused with its own clear error, and the vault's state (instances,
/// credentials, keys, a live token) is exactly what it was.
@Suite(.serialized, .boundedParallelism) struct BadInputTests {
    /// One command-line input: its arguments, stdin bytes, exit code and a
    /// phrase the one-line error must contain.
    struct CLICase {
        let arguments: [String]
        var stdin: [UInt8] = []
        let code: Int32
        let message: String
    }

    /// One HTTP request, sent as raw bytes: the statuses that are a correct
    /// refusal (nil: the server may close the connection without an answer)
    /// and a phrase the answer must contain.
    struct HTTPCase {
        let name: String
        let request: [UInt8]
        let statuses: Set<Int?>
        let answer: String
    }

    final class Setup {
        let cli: CLI
        /// The port the server will listen on, known before it starts so that
        /// CLI-issued tokens name the same issuer.
        let port: Int
        let acme: (id: String, secret: String)
        let globex: (id: String, secret: String)
        let acmeToken: String
        let globexToken: String
        let forged: [String: String]

        init() async throws {
            var cli = try await CLI.withVault()
            port = try LoopbackPort.free()
            cli.environment["PIRVAULT_ISSUER"] = "http://127.0.0.1:\(port)"
            self.cli = cli
            acme = try serviceKeyCredentials(await cli.run("instance", "create", "acme-orders", "--customer", "ACME", "--flow", "orders/*").stdout)
            globex = try serviceKeyCredentials(await cli.run("instance", "create", "globex-orders", "--customer", "GLOBEX", "--flow", "orders/*").stdout)
            acmeToken = await cli.run(["token", "issue", "--client-id", acme.id], stdin: acme.secret + "\n").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            globexToken = await cli.run(["token", "issue", "--client-id", globex.id], stdin: globex.secret + "\n").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            var python = cli
            python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let jwks = await cli.run("keys", "jwks").stdout
            let forging = await python.runExecutable(
                "/usr/bin/env", ["python3", ServeTests.interop + "/hostile_tokens.py"], stdin: acmeToken + "\n" + jwks)
            guard forging.code == 0, let forged = try parseJSON(forging.stdout) as? [String: String] else { throw CLI.CLIError(forging.stderr) }
            self.forged = forged
        }

        /// Instances, credentials, signing keys, the tenant and whether the reference token is live.
        func state() async -> String {
            await cli.run("instance", "list", "--json").stdout + cli.run("instance", "key", "acme-orders").stdout + cli.run("keys", "jwks").stdout
                + cli.run(["token", "verify", "-", "--json"], stdin: acmeToken + "\n").stdout + cli.run("vault", "binding", "--json").stdout
        }
    }

    @Test func hostileInputIsRefusedClearlyAndChangesNothing() async throws {
        let setup = try await Setup()
        let cli = setup.cli
        defer { cli.removeDirectory() }
        let files = try hostileFiles(cli)
        let before = await setup.state()
        defer { #expect(!FileManager.default.fileExists(atPath: files.newVault), "a refused init left a vault file") }
        var cliTried = 0, httpTried = 0

        for (index, c) in cliCases(setup, files).enumerated() {
            let result = await cli.run(c.arguments, stdinBytes: c.stdin)
            let line = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            let label = "CLI case \(index) \(c.arguments.prefix(4))"
            #expect(result.code == c.code, "\(label): exit \(result.code), stderr: \(line)")
            #expect(line.localizedCaseInsensitiveContains(c.message), "\(label): \(line)")
            #expect(!line.isEmpty && !line.contains("\n") && result.stdout.isEmpty, "\(label): not one line on stderr only: \(result.stderr)")
            #expect(!line.contains("Fatal error") && !line.contains("Stack dump"), "\(label) crashed")
            #expect(!line.contains(setup.acme.secret) && !line.contains(setup.acmeToken), "\(label) echoed a secret")
            #expect(await setup.state() == before, "\(label) changed the vault")
            cliTried += 1
        }

        let server = try await ServeTests.RunningServer(cli: cli, port: setup.port)
        let port = setup.port
        for c in httpCases(setup) {
            let answer = await Self.rawHTTP(port: port, c.request)
            #expect(c.statuses.contains(answer.status), "HTTP \(c.name): status \(answer.status.map(String.init) ?? "none"): \(answer.text.replacingOccurrences(of: "\r\n", with: " | ").suffix(300))")
            #expect(c.answer.isEmpty || answer.text.contains(c.answer), "HTTP \(c.name): \(answer.text.prefix(300))")
            #expect(!answer.text.contains(setup.acme.secret), "HTTP \(c.name) echoed a secret")
            #expect(await setup.state() == before, "HTTP \(c.name) changed the vault")
            httpTried += 1
        }
        // Still serving, and the genuine token still works after all of it.
        let healthy = await Self.rawHTTP(port: port, request("GET", "/http/orders/1", ["Authorization: Bearer \(setup.acmeToken)"]))
        #expect(healthy.status == 200, "\(healthy.text.prefix(300))")
        #expect(await server.stop() == 0)
        #expect(await cli.run("audit", "verify").code == 0)
        #expect(cliTried + httpTried >= 60)
        print("bad input: \(cliTried + httpTried) hostile inputs (\(cliTried) CLI, \(httpTried) HTTP) refused, vault state unchanged after each")
    }

    // MARK: the command line

    struct HostileFiles {
        let tenMegabytes, invalidUTF8, deepNesting, duplicateKeys, notJSON, textVault, emptyFile, looseKey, longKey, directory, newVault: String
    }

    func hostileFiles(_ cli: CLI) throws -> HostileFiles {
        let d = cli.directory
        func write(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) -> String {
            FileManager.default.createFile(atPath: d + "/" + name, contents: Data(bytes), attributes: [.posixPermissions: mode])
            return d + "/" + name
        }
        let key = #"{"oauth": {"clientid": "sb-1!b2|it-rt-x!b3", "clientsecret": "s3cr3t-Value-1234567890", "url": "https://t.example", "tokenurl": "https://t.example/oauth/token", "pad": ""#
        try FileManager.default.createDirectory(atPath: d + "/folder", withIntermediateDirectories: true)
        return HostileFiles(
            tenMegabytes: write("big.json", Array(key.utf8) + [UInt8](repeating: 0x61, count: 10 << 20) + Array("\"}}".utf8)),
            invalidUTF8: write("utf8.json", Array(#"{"oauth": {"clientid": "a"#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#"", "clientsecret": "x"}}"#.utf8)),
            deepNesting: write("deep.json", [UInt8](repeating: 0x5B, count: 100_000) + [UInt8](repeating: 0x5D, count: 100_000)),
            duplicateKeys: write("dup.json", Array(#"{"oauth": {"clientid": "a", "clientid": "b", "clientsecret": "s3cr3t-Value-1234567890", "tokenurl": "https://t.example/oauth/token"}}"#.utf8)),
            notJSON: write("key.txt", Array("clientid=a\nclientsecret=b\n".utf8)),
            textVault: write("notes.db", Array("this is not a vault\n".utf8)),
            emptyFile: write("empty", []),
            looseKey: write("loose.key", [UInt8](repeating: 7, count: 32), mode: 0o644),
            longKey: write("long.key", [UInt8](repeating: 7, count: 10 << 20)),
            directory: d + "/folder", newVault: d + "/new.db")
    }

    func cliCases(_ setup: Setup, _ f: HostileFiles) -> [CLICase] {
        let create = ["instance", "create", "x", "--customer", "C"]
        let utf8: (String) -> [UInt8] = { Array($0.utf8) }
        return [
            // Names and text fields.
            CLICase(arguments: ["instance", "create", "x'; DROP TABLE instances;--", "--customer", "C"], code: 2, message: "invalid instance name"),
            CLICase(arguments: ["instance", "create", "../../etc/passwd", "--customer", "C"], code: 2, message: "invalid instance name"),
            CLICase(arguments: ["instance", "create", "", "--customer", "C"], code: 2, message: "invalid instance name"),
            CLICase(arguments: ["instance", "create", String(repeating: "a", count: 300), "--customer", "C"], code: 2, message: "invalid instance name"),
            CLICase(arguments: ["instance", "create", "a\nb", "--customer", "C"], code: 2, message: "invalid instance name"),
            CLICase(arguments: ["instance", "create", "x", "--customer", "ACME\u{1B}[31mred"], code: 2, message: "invalid customer name"),
            CLICase(arguments: ["instance", "create", "x", "--customer", String(repeating: "C", count: 200)], code: 2, message: "invalid customer name"),
            CLICase(arguments: ["instance", "create", "x", "--customer", " padded "], code: 2, message: "invalid customer name"),
            CLICase(arguments: ["instance", "show", "acme-orders' OR '1'='1"], code: 1, message: "no instance named"),
            CLICase(arguments: ["instance", "delete", "%"], code: 1, message: "no instance named"),
            // Lifetimes, lengths, enumerations.
            CLICase(arguments: create + ["--token-ttl", "-5"], code: 2, message: "token-ttl"),
            CLICase(arguments: create + ["--token-ttl", "0"], code: 2, message: "out of range"),
            CLICase(arguments: create + ["--token-ttl", "99999999999999999999"], code: 2, message: "token-ttl"),
            CLICase(arguments: create + ["--token-ttl", "3600s"], code: 2, message: "token-ttl"),
            CLICase(arguments: create + ["--secret-length", "8"], code: 2, message: "out of range"),
            CLICase(arguments: create + ["--secret-length", "1000000"], code: 2, message: "out of range"),
            CLICase(arguments: create + ["--plan", "gold"], code: 2, message: "'gold' is invalid for '--plan"),
            CLICase(arguments: create + ["--role", "Admin"], code: 2, message: "unknown role"),
            CLICase(arguments: create + ["--grant-type", "implicit"], code: 2, message: "'implicit' is invalid for '--grant-type"),
            CLICase(arguments: create + ["--token-format", "jwe"], code: 2, message: "'jwe' is invalid for '--token-format"),
            CLICase(arguments: create + ["--grant-type", "authorization_code", "--redirect-uri", "javascript:alert(1)"], code: 2, message: "invalid redirect URI"),
            CLICase(arguments: create + ["--url", "file:///etc/passwd"], code: 2, message: "invalid url"),
            CLICase(arguments: create + ["--token-url", "http://attacker.example/token"], code: 2, message: "invalid token"),
            // Flow patterns that try to leave /http/.
            CLICase(arguments: create + ["--flow", "../admin/*"], code: 2, message: "flow"),
            CLICase(arguments: create + ["--flow", "orders/%2e%2e/admin"], code: 2, message: "flow"),
            CLICase(arguments: create + ["--flow", "orders//x"], code: 2, message: "flow"),
            CLICase(arguments: ["instance", "update", "acme-orders", "--add-flow", "/etc/passwd"], code: 2, message: "flow"),
            // Secrets on stdin.
            CLICase(arguments: create + ["--secret-stdin"], stdin: [], code: 2, message: "is empty"),
            CLICase(arguments: create + ["--secret-stdin"], stdin: [0xFF, 0xFE] + utf8(String(repeating: "Zq8", count: 20)), code: 2, message: "UTF-8"),
            CLICase(arguments: create + ["--secret-stdin"], stdin: utf8(String(repeating: "a", count: 40)), code: 2, message: "entropy"),
            CLICase(arguments: create + ["--secret-stdin"], stdin: [UInt8](repeating: 0x41, count: 10 << 20), code: 2, message: "longer than 4096 bytes"),
            CLICase(arguments: ["token", "issue", "--client-id", setup.acme.id], stdin: [], code: 2, message: "is empty"),
            CLICase(arguments: ["token", "issue", "--client-id", setup.acme.id], stdin: utf8("wrong-secret\n"), code: 1, message: "invalid_client"),
            CLICase(arguments: ["token", "issue", "--client-id", "' OR 1=1 --"], stdin: utf8(setup.acme.secret), code: 1, message: "invalid_client"),
            CLICase(arguments: ["token", "issue", "--client-id", setup.acme.id, "--scope", "Admin.all"], stdin: utf8(setup.acme.secret), code: 1, message: "scope"),
            CLICase(arguments: ["token", "issue", "--client-id", setup.acme.id, "--format", "xml"], stdin: utf8(setup.acme.secret), code: 2, message: "format"),
            // Service-key files.
            CLICase(arguments: ["instance", "import", f.tenMegabytes, "--name", "big", "--customer", "C"], code: 2, message: "larger than 1 MiB"),
            CLICase(arguments: ["instance", "import", "/dev/zero", "--name", "zero", "--customer", "C"], code: 2, message: "larger than 1 MiB"),
            CLICase(arguments: ["instance", "import", f.invalidUTF8, "--name", "u", "--customer", "C"], code: 2, message: "UTF-8"),
            CLICase(arguments: ["instance", "import", f.deepNesting, "--name", "deep", "--customer", "C"], code: 2, message: "nest"),
            CLICase(arguments: ["instance", "import", f.duplicateKeys, "--name", "dup", "--customer", "C"], code: 2, message: "duplicate"),
            CLICase(arguments: ["instance", "import", f.notJSON, "--name", "txt", "--customer", "C"], code: 2, message: "JSON"),
            CLICase(arguments: ["instance", "import", f.directory, "--name", "dir", "--customer", "C"], code: 2, message: "cannot read"),
            CLICase(arguments: ["instance", "import", "-", "--name", "empty", "--customer", "C"], stdin: [], code: 2, message: "JSON"),
            // Durations and times.
            CLICase(arguments: ["credentials", "rotate", "acme-orders", "--grace=-5s"], code: 2, message: "duration"),
            CLICase(arguments: ["credentials", "rotate", "acme-orders", "--grace", "1y"], code: 2, message: "duration"),
            CLICase(arguments: ["credentials", "rotate", "acme-orders", "--grace", "99999999999999999999d"], code: 2, message: "duration"),
            CLICase(arguments: ["credentials", "rotate", "ghost"], code: 1, message: "no instance named"),
            CLICase(arguments: ["audit", "list", "--since", "yesterday"], code: 2, message: "invalid time"),
            CLICase(arguments: ["audit", "list", "--since", "99999-01-01T00:00:00Z"], code: 2, message: "invalid time"),
            CLICase(arguments: ["audit", "list", "--limit", "-1"], code: 2, message: "limit"),
            CLICase(arguments: ["audit", "prune", "--before", "9999999999999d"], code: 2, message: "invalid time"),
            CLICase(arguments: ["audit", "export", "--format", "xml"], code: 2, message: "format"),
            CLICase(arguments: ["audit", "export", "--format", "jsonl", "--output", f.directory + "/missing/x.jsonl"], code: 1, message: "cannot write"),
            CLICase(arguments: ["audit", "verify", "--export", f.notJSON, "--public-key", f.notJSON], code: 2, message: "public key"),
            // Tokens handed to `token verify` and `token revoke` (on stdin).
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["alg_none"]!), code: 1, message: "alg"),
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["alg_hs256_public_key_bytes"]!), code: 1, message: "alg"),
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["alg_hs256_pem_value"]!), code: 1, message: "alg"),
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["alg_swapped"]!), code: 1, message: "refused without checking the signature"),
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["huge_exp"]!), code: 1, message: "signature"),
            CLICase(arguments: ["token", "verify", "-"], stdin: utf8(setup.forged["other_customer"]!), code: 1, message: "signature"),
            CLICase(arguments: ["token", "verify", "-"], stdin: [UInt8](repeating: 0x41, count: 1 << 20), code: 2, message: "longer than 16384 bytes"),
            CLICase(arguments: ["token", "verify", "-"], stdin: [0xFF, 0x2E, 0xFE, 0x2E, 0xFD], code: 2, message: "not valid UTF-8"),
            CLICase(arguments: ["token", "revoke", "-"], stdin: utf8(setup.forged["alg_none"]!), code: 1, message: "alg"),
            // Unlocking and vault files.
            CLICase(arguments: ["instance", "list", "--vault", f.textVault], code: 1, message: "not a pirvault vault"),
            CLICase(arguments: ["instance", "list", "--vault", "/dev/null"], code: 1, message: "vault"),
            CLICase(arguments: ["instance", "list", "--key-file", f.looseKey], code: 2, message: "accessible by other users"),
            CLICase(arguments: ["instance", "list", "--key-file", f.longKey], code: 2, message: "32 bytes"),
            CLICase(arguments: ["instance", "list", "--key-file", f.emptyFile], code: 2, message: "32 bytes"),
            CLICase(arguments: ["init", "--vault", f.newVault, "--passphrase-file", f.emptyFile], code: 2, message: "passphrase"),
            CLICase(arguments: ["init", "--key-file", setup.cli.keyPath, "--generate-key"], code: 1, message: "already exists"),
            // Signing keys and the tenant.
            CLICase(arguments: ["keys", "rotate-signing", "--alg", "HS256"], code: 2, message: "'HS256' is invalid for '--alg"),
            CLICase(arguments: ["keys", "rotate-signing", "--alg", "none"], code: 2, message: "'none' is invalid for '--alg"),
            CLICase(arguments: ["keys", "rotate-signing", "--rsa-bits", "1024"], code: 2, message: "--rsa-bits must be 2048, 3072 or 4096"),
            CLICase(arguments: ["keys", "rotate-signing", "--publish-ahead=-5m"], code: 2, message: "--publish-ahead must be a duration"),
            CLICase(arguments: ["keys", "rotate-signing", "--publish-ahead", "soon"], code: 2, message: "--publish-ahead must be a duration"),
            CLICase(arguments: ["init", "--vault", f.newVault, "--signing-alg", "PS256"], code: 2, message: "'PS256' is invalid for '--signing-alg"),
            CLICase(arguments: ["init", "--vault", f.newVault, "--rsa-bits", "512"], code: 2, message: "--rsa-bits must be"),
            CLICase(arguments: ["init", "--vault", f.newVault, "--subdomain", "Acme Prod"], code: 2, message: "subdomain 'Acme Prod' is not valid"),
            CLICase(arguments: ["vault", "set-subdomain", "acme-"], code: 2, message: "is not valid"),
            CLICase(arguments: ["vault", "set-subdomain", "acme.prod"], code: 2, message: "is not valid"),
            CLICase(arguments: ["vault", "binding", "--plan", "gold"], code: 2, message: "'gold' is invalid for '--plan"),
            CLICase(arguments: ["serve", "--listen", "nonsense"], code: 2, message: "host:port"),
            CLICase(arguments: ["serve", "--listen", "127.0.0.1:99999"], code: 2, message: "host:port"),
            CLICase(arguments: ["serve", "--upstream", "ftp://example.org"], code: 2, message: "http or https"),
            CLICase(arguments: ["instance", "frobnicate"], code: 2, message: "Unexpected argument"),
        ]
    }

    // MARK: HTTP

    func request(_ method: String, _ path: String, _ headers: [String] = [], body: [UInt8] = [], contentLength: Bool = true) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if contentLength && (!body.isEmpty || method == "POST") { head += "Content-Length: \(body.count)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    func form(_ body: String, _ headers: [String] = []) -> [UInt8] {
        request("POST", "/oauth/token", ["Content-Type: application/x-www-form-urlencoded"] + headers, body: Array(body.utf8))
    }

    func httpCases(_ setup: Setup) -> [HTTPCase] {
        let basic = "Authorization: Basic " + Data("\(setup.acme.id):\(setup.acme.secret)".utf8).base64EncodedString()
        let grant = "grant_type=client_credentials"
        let bearer = { (token: String) in ["Authorization: Bearer \(token)"] }
        var cases = [
            // Token endpoint: bodies, types, encodings, parameters.
            HTTPCase(name: "17 KiB token body", request: form(grant + "&pad=" + String(repeating: "a", count: 17 << 10), [basic]), statuses: [413], answer: ""),
            HTTPCase(name: "20 KiB header", request: form(grant, [basic, "X-Pad: " + String(repeating: "a", count: 20 << 10)]), statuses: [431], answer: ""),
            HTTPCase(name: "JSON body", request: request("POST", "/oauth/token", ["Content-Type: application/json", basic], body: Array(#"{"grant_type":"client_credentials"}"#.utf8)), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "no content type", request: request("POST", "/oauth/token", [basic], body: Array(grant.utf8)), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "invalid UTF-8 bytes in the form", request: request("POST", "/oauth/token", ["Content-Type: application/x-www-form-urlencoded", basic], body: Array(grant.utf8) + Array("&scope=".utf8) + [0xFF, 0xFE]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "percent-encoded invalid UTF-8", request: form(grant + "&scope=%FF%FE", [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "broken percent escape", request: form(grant + "&scope=%G1", [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "duplicate grant_type", request: form(grant + "&" + grant, [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "duplicate client_id", request: form(grant + "&client_id=a&client_id=b&client_secret=x"), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "Basic and client_secret both", request: form(grant + "&client_id=\(setup.acme.id)&client_secret=x", [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "password grant", request: form("grant_type=password&username=a&password=b", [basic]), statuses: [400], answer: "unsupported_grant_type"),
            HTTPCase(name: "no grant_type", request: form("scope=x", [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "Basic not base64", request: form(grant, ["Authorization: Basic !!!not-base64!!!"]), statuses: [400, 401], answer: "invalid_"),
            HTTPCase(name: "Basic without a colon", request: form(grant, ["Authorization: Basic " + Data("nocolon".utf8).base64EncodedString()]), statuses: [400, 401], answer: "invalid_"),
            HTTPCase(name: "wrong secret", request: form(grant, ["Authorization: Basic " + Data("\(setup.acme.id):wrong".utf8).base64EncodedString()]), statuses: [401], answer: "invalid_client"),
            HTTPCase(name: "SQL in client_id", request: form(grant + "&client_id=%27%20OR%20%271%27%3D%271&client_secret=x"), statuses: [401], answer: "invalid_client"),
            HTTPCase(name: "scope not granted", request: form(grant + "&scope=Admin.all", [basic]), statuses: [400], answer: "invalid_scope"),
            HTTPCase(name: "token_format=xml", request: form(grant + "&token_format=xml", [basic]), statuses: [400], answer: "invalid_request"),
            HTTPCase(name: "GET /oauth/token", request: request("GET", "/oauth/token?" + grant, [basic]), statuses: [404, 405], answer: ""),
            HTTPCase(name: "negative Content-Length", request: request("POST", "/oauth/token", ["Content-Type: application/x-www-form-urlencoded", "Content-Length: -5", basic], contentLength: false), statuses: [400, nil], answer: ""),
            HTTPCase(name: "two Content-Lengths", request: request("POST", "/oauth/token", ["Content-Type: application/x-www-form-urlencoded", "Content-Length: 3", "Content-Length: 40", basic], body: Array(grant.utf8), contentLength: false), statuses: [400, nil], answer: ""),
            HTTPCase(name: "broken chunked body", request: request("POST", "/oauth/token", ["Content-Type: application/x-www-form-urlencoded", "Transfer-Encoding: chunked", basic], body: Array("zz\r\nabc\r\n".utf8), contentLength: false), statuses: [400], answer: "malformed"),
            HTTPCase(name: "not HTTP at all", request: Array("GARBAGE\r\n\r\n".utf8), statuses: [400, nil], answer: ""),
            // Gateway: credentials, tokens, paths, sizes.
            HTTPCase(name: "gateway without Authorization", request: request("GET", "/http/orders/1"), statuses: [401], answer: "invalid_token"),
            HTTPCase(name: "gateway with a token in the query", request: request("GET", "/http/orders/1?access_token=" + setup.acmeToken), statuses: [401], answer: "invalid_token"),
            HTTPCase(name: "gateway Bearer 100 KB", request: request("GET", "/http/orders/1", bearer(String(repeating: "A", count: 100_000))), statuses: [400, 431], answer: ""),
            HTTPCase(name: "gateway Bearer garbage", request: request("GET", "/http/orders/1", bearer("a.b.c")), statuses: [401], answer: "invalid_token"),
            HTTPCase(name: "gateway Basic for a client_credentials instance", request: request("GET", "/http/orders/1", [basic]), statuses: [401], answer: "password grant"),
            HTTPCase(name: "gateway other customer's flow path", request: request("GET", "/http/invoices/1", bearer(setup.globexToken)), statuses: [403], answer: "forbidden"),
            HTTPCase(name: "path traversal", request: request("GET", "/http/orders/../admin", bearer(setup.acmeToken)), statuses: [400, 403, 404], answer: ""),
            HTTPCase(name: "encoded path traversal", request: request("GET", "/http/orders/%2e%2e/%2e%2e/admin", bearer(setup.acmeToken)), statuses: [400, 403, 404], answer: ""),
            HTTPCase(name: "encoded slash", request: request("GET", "/http/orders%2f..%2fadmin", bearer(setup.acmeToken)), statuses: [400, 403, 404], answer: ""),
            HTTPCase(name: "NUL in path", request: request("GET", "/http/orders/%00", bearer(setup.acmeToken)), statuses: [400, 403, 404], answer: ""),
            HTTPCase(name: "2 MiB gateway body", request: request("POST", "/http/orders/1", bearer(setup.acmeToken) + ["Content-Type: application/octet-stream"], body: [UInt8](repeating: 0x41, count: 2 << 20)), statuses: [413, nil], answer: ""),
            HTTPCase(name: "100 KB URL", request: request("GET", "/http/orders/" + String(repeating: "a", count: 100_000), bearer(setup.acmeToken)), statuses: [400, 414, 431, nil], answer: ""),
            // Introspection and revocation across customers.
            HTTPCase(name: "introspect without client authentication", request: request("POST", "/oauth/introspect", ["Content-Type: application/x-www-form-urlencoded"], body: Array("token=\(setup.acmeToken)".utf8)), statuses: [401], answer: "invalid_client"),
            HTTPCase(name: "introspect another customer's token", request: request("POST", "/oauth/introspect", ["Content-Type: application/x-www-form-urlencoded", "Authorization: Basic " + Data("\(setup.globex.id):\(setup.globex.secret)".utf8).base64EncodedString()], body: Array("token=\(setup.acmeToken)".utf8)), statuses: [200], answer: "\"active\":false"),
            HTTPCase(name: "revoke another customer's token", request: request("POST", "/oauth/revoke", ["Content-Type: application/x-www-form-urlencoded", "Authorization: Basic " + Data("\(setup.globex.id):\(setup.globex.secret)".utf8).base64EncodedString()], body: Array("token=\(setup.acmeToken)".utf8)), statuses: [400], answer: "unauthorized_client"),
        ]
        // Every forged token at the gateway.
        for (name, token) in setup.forged.sorted(by: { $0.key < $1.key }) {
            cases.append(HTTPCase(name: "gateway forged token \(name)", request: request("GET", "/http/orders/1", bearer(token)), statuses: [401], answer: "invalid_token"))
        }
        return cases
    }

    /// Sends `bytes` to 127.0.0.1:`port` as they are and reads until the
    /// server closes (or 10 s pass). Status nil: no HTTP answer came. The
    /// blocking socket calls run on a dedicated thread, off the cooperative pool.
    static func rawHTTP(port: Int, _ bytes: [UInt8]) async -> (status: Int?, text: String) {
        await onDedicatedThread { blockingRawHTTP(port: port, bytes) }
    }

    private static func blockingRawHTTP(port: Int, _ bytes: [UInt8]) -> (status: Int?, text: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return (nil, "connection refused") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server answered early and closed; read what it said
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { return (nil, text) }
        return (status, text)
    }
}

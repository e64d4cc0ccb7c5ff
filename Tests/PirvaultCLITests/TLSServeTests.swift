import Foundation
import PirvaultTestSupport
import Testing

/// `pirvault serve --tls-cert --tls-key`: HTTPS for clients pirvault did not
/// write (curl, Python requests, openssl), TLS 1.2 and 1.3 only, the issuer
/// on https://, and a certificate renewed by SIGHUP while a connection stays
/// open. Certificates come from a throw-away CA made with openssl.
@Suite(.serialized, .boundedParallelism) struct TLSServeTests {
    /// A vault with one instance, a CA and a server certificate for 127.0.0.1.
    struct Setup {
        let cli: CLI
        let client: (id: String, secret: String)
        let pki: TestCertificates
        let first: TestCertificates.Issued

        init() async throws {
            cli = try await CLI.withVault()
            client = try await serviceKeyCredentials(
                cli.run("instance", "create", "acme-orders", "--customer", "ACME", "--flow", "orders/*").stdout)
            pki = try await TestCertificates(cli: cli)
            first = try await pki.issue("first")
        }
    }

    /// curl over HTTPS with the CA, reading its options (and the client's secret) from stdin.
    static func curl(_ setup: Setup, _ url: String, _ extra: [String] = [], options: [String: String] = [:]) async -> (status: Int, body: String, stderr: String) {
        let config = options.map { "\($0.key) = \"\($0.value)\"" }.joined(separator: "\n") + "\n"
        let result = await setup.cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-m", "10", "--cacert", setup.pki.authority] + extra + ["-K", "-", "-w", "\n%{http_code}", url],
            stdin: config)
        guard let newline = result.stdout.lastIndex(of: "\n") else { return (0, result.stdout, result.stderr) }
        return (Int(result.stdout[result.stdout.index(after: newline)...]) ?? 0, String(result.stdout[..<newline]), result.stderr)
    }

    /// The JSON object in a JWT's header or payload (`part` 0 or 1).
    static func jwtPart(_ token: String, _ part: Int) throws -> [String: Any] {
        var text = String(token.split(separator: ".")[part]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        let data = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func curlAndRequestsGetTokensOverTLS13AndTLS11IsRefused() async throws {
        let setup = try await Setup()
        defer { setup.cli.removeDirectory() }
        let server = try await ServeTests.RunningServer(
            cli: setup.cli, extraArguments: ["--tls-cert", setup.first.certificate, "--tls-key", setup.first.key])
        let base = "https://127.0.0.1:\(server.port)"
        #expect(server.baseURL == base)
        let banner = try String(contentsOfFile: server.output, encoding: .utf8)
        #expect(banner.contains("listening on \(base) (issuer \(base))"), "\(banner)")

        let health = await Self.curl(setup, base + "/healthz", ["--tlsv1.3"])
        #expect(health.status == 200 && health.body == "ok\n", "\(health)")
        let answer = await Self.curl(
            setup, base + "/oauth/token?grant_type=client_credentials", ["--tlsv1.3", "-X", "POST"],
            options: ["user": "\(setup.client.id):\(setup.client.secret)"])
        #expect(answer.status == 200, "\(answer)")
        let token = try #require((try parseJSON(answer.body) as? [String: Any])?["access_token"] as? String)
        // The issuer follows TLS: tokens and the metadata name https://.
        #expect(try Self.jwtPart(token, 1)["iss"] as? String == base + "/oauth/token")
        #expect(try Self.jwtPart(token, 0)["jku"] as? String == base + "/token_keys")
        let metadata = await Self.curl(setup, base + "/.well-known/oauth-authorization-server", ["--tlsv1.3"])
        #expect((try parseJSON(metadata.body) as? [String: Any])?["token_endpoint"] as? String == base + "/oauth/token", "\(metadata.body)")

        // Python requests, verifying against the CA, on TLS 1.3.
        var python = setup.cli
        python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        python.environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        python.environment["CLIENT_ID"] = setup.client.id
        python.environment["CLIENT_SECRET"] = setup.client.secret
        let requests = await python.runExecutable(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import os, sys, requests
                r = requests.post(sys.argv[1] + "/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]), verify=sys.argv[2], timeout=10,
                                  stream=True)
                version = r.raw.connection.sock.version()  # while the streamed answer still holds its connection
                print(r.status_code, "token" if r.json().get("access_token") else "none", version)
                """,
                base, setup.pki.authority,
            ])
        #expect(requests.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "200 token TLSv1.3", "\(requests.stdout)\(requests.stderr)")

        // TLS 1.2 is served; TLS 1.1 and 1.0 are not. SECLEVEL=0 lets
        // OpenSSL 3 offer them at all, so the refusal is the server's.
        func handshake(_ version: String) async -> (code: Int32, text: String) {
            let result = await setup.cli.runExecutable(
                "/usr/bin/openssl",
                ["s_client", "-connect", "127.0.0.1:\(server.port)", version, "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", setup.pki.authority],
                stdin: "")
            return (result.code, result.stdout + result.stderr)
        }
        let tls12 = await handshake("-tls1_2")
        #expect(tls12.code == 0 && tls12.text.contains("Protocol  : TLSv1.2"), "\(tls12.text.suffix(600))")
        for old in ["-tls1_1", "-tls1"] {
            let refused = await handshake(old)
            #expect(refused.code != 0, "\(old) was accepted: \(refused.text.suffix(600))")
            #expect(refused.text.contains("alert protocol version"), "\(old): \(refused.text.suffix(600))")
        }
        let curl11 = await Self.curl(setup, base + "/healthz", ["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0"])
        #expect(curl11.status == 0, "curl with TLS 1.1 got an answer: \(curl11)")

        #expect(await server.stop() == 0)
        #expect(!server.log.contains(setup.client.secret) && !server.log.contains(token))
    }

    @Test func sighupRenewsTheCertificateWhileAConnectionStaysOpen() async throws {
        let setup = try await Setup()
        defer { setup.cli.removeDirectory() }
        // The files the server reads, replaced by renaming as certbot-style tools do.
        let certificate = setup.cli.directory + "/server.pem"
        let key = setup.cli.directory + "/server.key"
        func install(_ issued: TestCertificates.Issued) throws {
            try? FileManager.default.removeItem(atPath: certificate + ".new")
            try? FileManager.default.removeItem(atPath: key + ".new")
            try FileManager.default.copyItem(atPath: issued.certificate, toPath: certificate + ".new")
            try FileManager.default.copyItem(atPath: issued.key, toPath: key + ".new")
            chmod(key + ".new", 0o600)
            #expect(rename(certificate + ".new", certificate) == 0 && rename(key + ".new", key) == 0)
        }
        try install(setup.first)
        let server = try await ServeTests.RunningServer(cli: setup.cli, extraArguments: ["--tls-cert", certificate, "--tls-key", key])
        #expect(try await setup.pki.servedFingerprint(port: server.port) == setup.first.fingerprint)

        // A keep-alive connection, opened on the first certificate, stays open across the renewal.
        let go = setup.cli.directory + "/go"
        let keepAliveOutput = setup.cli.directory + "/keepalive.out"
        FileManager.default.createFile(atPath: keepAliveOutput, contents: nil)
        // stdout and stderr both append to the one file.
        let keepAlive = try ChildProcess(
            "/usr/bin/env", ["python3", ServeTests.interop + "/tls_keepalive.py", String(server.port), setup.pki.authority, go],
            stdout: keepAliveOutput, stderr: keepAliveOutput, appendingOutput: true)
        try await withDeferred { deferred in
            deferred {  // still running only when the test failed early
                keepAlive.signal(SIGKILL)
                _ = await keepAlive.exit()
            }
            let ready = try await poll(every: .milliseconds(50), for: .seconds(10)) {
                ((try? String(contentsOfFile: keepAliveOutput, encoding: .utf8)) ?? "").contains(#""ready": true"#)
            }
            #expect(ready, "\((try? String(contentsOfFile: keepAliveOutput, encoding: .utf8)) ?? "")")

            let second = try await setup.pki.issue("second")
            #expect(second.fingerprint != setup.first.fingerprint)
            try install(second)
            server.hangUp()
            #expect(try await server.waitForLog("TLS certificate renewed: new connections get SHA-256 \(second.fingerprint)"), "\(server.log)")
            #expect(try await setup.pki.servedFingerprint(port: server.port) == second.fingerprint)

            // The old connection answers a second request, on the first certificate.
            FileManager.default.createFile(atPath: go, contents: nil)
            _ = try await poll(every: .milliseconds(50), for: .seconds(10)) { !keepAlive.isRunning }
            let lines = ((try? String(contentsOfFile: keepAliveOutput, encoding: .utf8)) ?? "").split(separator: "\n")
            let result = try #require(try lines.last.flatMap { try parseJSON(String($0)) as? [String: Any] }, "\(lines)")
            #expect(result["second_status"] as? Int == 200, "\(result)")
            #expect(result["same_connection"] as? Bool == true, "\(result)")
            #expect(result["fingerprint"] as? String == setup.first.fingerprint, "\(result)")

            // A bad renewal (an expired certificate) is logged in one line, and the renewed one stays served.
            let expired = try await setup.pki.issue("expired", notBefore: Date().addingTimeInterval(-3 * 86400), notAfter: Date().addingTimeInterval(-86400))
            try install(expired)
            server.hangUp()
            #expect(try await server.waitForLog("TLS certificate not renewed, still serving SHA-256 \(second.fingerprint)"), "\(server.log)")
            let refusal = server.log.split(separator: "\n").filter { $0.contains("not renewed") }
            #expect(refusal.count == 1 && refusal[0].contains("expired on"), "\(refusal)")
            #expect(try await setup.pki.servedFingerprint(port: server.port) == second.fingerprint)
            #expect(await server.stop() == 0)
            #expect(!server.log.contains("PRIVATE KEY"))
        }
    }
}

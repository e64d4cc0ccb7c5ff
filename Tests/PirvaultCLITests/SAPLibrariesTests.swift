import Foundation
import PirvaultTestSupport
import Testing

/// SAP's own token library as a real receiving application: sap-xssec 4.5.0
/// from PyPI (in the venv of scripts/sap-venv.sh) validates tokens of a live
/// `serve --tls-cert`, over https, with the binding `vault binding` prints,
/// exactly as it validates XSUAA's. Beside it, joserfc and PyJWT verify the
/// tokens against the key set and openssl reads every `value` PEM. What these
/// tests find is the README's table of which verifier accepts which algorithm.
@Suite(.serialized, .boundedParallelism) struct SAPLibrariesTests {
    /// The python of the sap-xssec venv, made once per test process by
    /// scripts/sap-venv.sh (which installs sap-xssec 4.5.0 from PyPI the first time).
    static let venv = Task<String, any Error> {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/sap-venv.sh").path
        let output = NSTemporaryDirectory() + "pirvault-sap-venv-" + UUID().uuidString
        defer { for suffix in ["", ".err"] { try? FileManager.default.removeItem(atPath: output + suffix) } }
        let child = try ChildProcess(
            "/bin/bash", [script], environment: ProcessInfo.processInfo.environment, stdout: output, stderr: output + ".err")
        let exit = await child.exit()
        let path = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard exit.status == 0, !path.isEmpty else {
            throw CLI.CLIError("scripts/sap-venv.sh failed: \((try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? "")")
        }
        return path
    }

    static func venvPython() async throws -> String { try await venv.value }

    /// A TLS server over a vault signing `algorithm`, with two customers' flow
    /// instances and an api-plan instance; the binding and three tokens.
    struct Setup {
        let cli: CLI
        let pki: TestCertificates
        let server: ServeTests.RunningServer
        let binding: [String: Any]
        let tokens: [String: String]
        let clientIDs: [String: String]

        init(_ algorithm: String) async throws {
            cli = try await CLI.withVault(initArguments: ["--signing-alg", algorithm, "--subdomain", "acme-prod"])
            var credentials: [String: (id: String, secret: String)] = [:]
            for (name, customer, plan) in [("acme-orders", "ACME", "integration-flow"), ("globex-orders", "Globex", "integration-flow"), ("acme-tools", "ACME", "api")] {
                credentials[name] = try serviceKeyCredentials(
                    await cli.run("instance", "create", name, "--customer", customer, "--plan", plan).stdout)
            }
            clientIDs = credentials.mapValues(\.id)
            pki = try await TestCertificates(cli: cli)
            let certificate = try await pki.issue("server")
            server = try await ServeTests.RunningServer(
                cli: cli, extraArguments: ["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
            var tokens: [String: String] = [:]
            for (name, client) in credentials {
                let answer = await ServeTests.curl(
                    cli, server.baseURL + "/oauth/token?grant_type=client_credentials",
                    ["user": "\(client.id):\(client.secret)", "request": "POST"], cacert: pki.authority)
                let token = (try? parseJSON(answer.body) as? [String: Any])?["access_token"] as? String
                tokens[name] = try #require(token, "no token for \(name): \(answer.status) \(answer.body)")
            }
            self.tokens = tokens
            let printed = await cli.run("vault", "binding", "--json", "--issuer", server.baseURL)
            binding = try #require(try parseJSON(printed.stdout) as? [String: Any], "vault binding: \(printed.stderr)")
        }
    }

    /// One verdict line of Tests/interop/sap_receiver.py.
    struct Verdict {
        let ok: Bool
        let error: String
        let fields: [String: Any]
    }

    /// sap-xssec's verdict on each token, with `binding`, fetching the keys over https.
    static func receive(_ setup: Setup, _ tokens: [String: String], binding: [String: Any]) async throws -> [String: Verdict] {
        let request = setup.cli.directory + "/sap-request-\(UUID().uuidString).json"
        let body: [String: Any] = ["binding": binding, "tokens": tokens, "checks": ["ESBMessaging.send", "WorkspacePackagesRead"]]
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: request))
        let run = await setup.cli.runExecutable(
            try await venvPython(), [ServeTests.interop + "/sap_receiver.py", "--cacert", setup.pki.authority, request])
        #expect(run.code == 0, "\(run.stderr)")
        var verdicts: [String: Verdict] = [:]
        for line in run.stdout.split(separator: "\n") {
            let object = try #require(try parseJSON(String(line)) as? [String: Any])
            verdicts[object["name"] as? String ?? ""] = Verdict(
                ok: object["ok"] as? Bool ?? false, error: object["error"] as? String ?? "", fields: object)
        }
        return verdicts
    }

    @Test(arguments: ["RS256", "ES256"])
    func sapXssecAcceptsTokensWithTheBindingPirvaultPrints(_ algorithm: String) async throws {
        let setup = try await Setup(algorithm)
        try await withDeferred { deferred in
            deferred { _ = await setup.server.stop(); setup.cli.removeDirectory() }
            let xsappname = try #require(setup.binding["xsappname"] as? String)
            #expect(xsappname.hasPrefix("it-rt-acme-prod!b"))
            #expect(setup.binding["clientid"] as? String == "sb-" + xsappname)
            #expect(setup.binding["uaadomain"] as? String == setup.server.baseURL)
            let tampered = try #require(setup.tokens["acme-orders"]).flippingASignatureCharacter()
            let verdicts = try await Self.receive(
                setup, ["acme": setup.tokens["acme-orders"]!, "globex": setup.tokens["globex-orders"]!,
                        "api": setup.tokens["acme-tools"]!, "tampered": tampered],
                binding: setup.binding)
            let acme = try #require(verdicts["acme"])
            #expect(acme.ok, "\(acme.error)")
            #expect(acme.fields["clientid"] as? String == setup.clientIDs["acme-orders"])
            #expect(acme.fields["zone_id"] as? String == setup.binding["zoneid"] as? String)
            #expect(acme.fields["grant_type"] as? String == "client_credentials")
            #expect(acme.fields["subdomain"] as? String == "acme-prod")
            let scopes = try #require(acme.fields["local_scopes"] as? [String: Bool])
            #expect(scopes == ["ESBMessaging.send": true, "WorkspacePackagesRead": false])
            // The runtime's one binding accepts every customer's flow token...
            #expect(verdicts["globex"]?.ok == true, "\(verdicts["globex"]?.error ?? "")")
            #expect(verdicts["globex"]?.fields["clientid"] as? String == setup.clientIDs["globex-orders"])
            // ... and no api-plan token, as in the cloud.
            #expect(verdicts["api"]?.ok == false)
            #expect(verdicts["api"]?.error.contains("Audience Validation Failed") == true, "\(verdicts["api"]?.error ?? "")")
            #expect(verdicts["tampered"]?.ok == false)
        }
    }

    /// No SAP library accepts EdDSA: sap-xssec refuses it, as the docs' table says.
    @Test func sapXssecRefusesEdDSA() async throws {
        let setup = try await Setup("EdDSA")
        try await withDeferred { deferred in
            deferred { _ = await setup.server.stop(); setup.cli.removeDirectory() }
            let verdicts = try await Self.receive(setup, ["acme": setup.tokens["acme-orders"]!], binding: setup.binding)
            let acme = try #require(verdicts["acme"])
            #expect(!acme.ok)
            #expect(acme.error.contains("The specified alg value is not allowed"), "\(acme.error)")
        }
    }

    /// joserfc and PyJWT verify tokens of every algorithm against /token_keys,
    /// and openssl reads every entry's `value` PEM.
    @Test(arguments: ["RS256", "ES256", "EdDSA"])
    func otherVerifiersAndOpenSSLReadTheKeySet(_ algorithm: String) async throws {
        let setup = try await Setup(algorithm)
        try await withDeferred { deferred in
            deferred { _ = await setup.server.stop(); setup.cli.removeDirectory() }
            let served = await ServeTests.curl(setup.cli, setup.server.baseURL + "/token_keys?zid=any", cacert: setup.pki.authority)
            #expect(served.status == 200)
            let jwks = setup.cli.directory + "/jwks.json"
            try served.body.write(toFile: jwks, atomically: true, encoding: .utf8)
            let python = try await Self.venvPython()
            let tokens = [setup.tokens["acme-orders"]!, setup.tokens["globex-orders"]!]
            let joserfc = await setup.cli.runExecutable(python, [ServeTests.interop + "/verify_token_keys.py", jwks] + tokens)
            #expect(joserfc.code == 0, "\(joserfc.stdout) \(joserfc.stderr)")
            let pyjwt = await setup.cli.runExecutable(
                python, ["-c", Self.pyjwtCheck, jwks], stdin: tokens.joined(separator: "\n"))
            // PyJWT verifies EdDSA too: of these verifiers, only SAP's refuse it.
            #expect(pyjwt.code == 0, "\(pyjwt.stdout) \(pyjwt.stderr)")
            let entries = try #require((try parseJSON(served.body) as? [String: Any])?["keys"] as? [[String: Any]])
            #expect(!entries.isEmpty)
            for entry in entries {
                let pem = setup.cli.directory + "/value-\(UUID().uuidString).pem"
                try (entry["value"] as? String ?? "").write(toFile: pem, atomically: true, encoding: .utf8)
                let read = await setup.cli.runExecutable("/usr/bin/openssl", ["pkey", "-pubin", "-in", pem, "-noout", "-text"])
                #expect(read.code == 0, "\(read.stderr)")
                let kind = algorithm == "RS256" ? "Public-Key: (2048 bit)" : algorithm == "ES256" ? "NIST CURVE: P-256" : "ED25519 Public-Key"
                #expect(read.stdout.contains(kind), "\(read.stdout)")
            }
        }
    }

    /// PyJWT, as an application that trusts the key set, on each token of stdin.
    static let pyjwtCheck = """
        import json, sys, jwt
        keys = {k["kid"]: k for k in json.load(open(sys.argv[1]))["keys"]}
        for token in sys.stdin.read().split():
            entry = keys[jwt.get_unverified_header(token)["kid"]]
            jwt.decode(token, jwt.PyJWK(entry).key, algorithms=[entry["alg"]], options={"verify_aud": False})
            bad = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
            try:
                jwt.decode(bad, jwt.PyJWK(entry).key, algorithms=[entry["alg"]], options={"verify_aud": False})
                sys.exit("a tampered token verified")
            except jwt.InvalidSignatureError:
                pass
        print("ok")
        """

    // MARK: Staged rotation under load

    /// Three clients that cache the key set as SAP's Java library does
    /// (3 s here, 10-30 minutes there; no fetch for an unknown kid) take and
    /// verify tokens while the signing key rotates. Published ahead of the
    /// caches' age, the new key is in every cache before its first token: no
    /// refusal. Switched at once (`--publish-ahead 0s`), the caches refuse the
    /// new tokens until they expire, which is what the command's warning says.
    @Test func aStagedRotationIsRefusedByNoCachingVerifierAndAnAtOnceOneIs() async throws {
        let cli = try await CLI.withVault()
        let client = try serviceKeyCredentials(await cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let server = try await ServeTests.RunningServer(cli: cli)
        let python = try await Self.venvPython()
        let verifier = [
            ServeTests.interop + "/caching_verifier.py", server.baseURL + "/oauth/token", server.baseURL + "/token_keys",
            "--cache-seconds", "3", "--seconds", "12",
        ]
        let credentials = client.id + "\n" + client.secret + "\n"
        try await withDeferred { deferred in
            deferred { _ = await server.stop(); cli.removeDirectory() }
            func rotateUnderLoad(publishAhead: String) async throws -> (clients: [[String: Any]], rotation: CLI.Result) {
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<3 {
                        group.addTask { await cli.runExecutable(python, verifier, stdin: credentials).stdout }
                    }
                    try await Task.sleep(for: .seconds(2))
                    let rotation = await cli.run("keys", "rotate-signing", "--publish-ahead", publishAhead)
                    var clients: [[String: Any]] = []
                    for try await output in group { clients.append(try #require(try parseJSON(output) as? [String: Any], "\(output)")) }
                    return (clients, rotation)
                }
            }
            let staged = try await rotateUnderLoad(publishAhead: "6s")
            #expect(staged.rotation.code == 0 && staged.rotation.stderr.isEmpty, "\(staged.rotation)")
            for result in staged.clients {
                #expect(result["refused"] as? Int == 0, "\(result)")
                #expect((result["kids"] as? [String])?.count == 2, "the switch happened during the run: \(result)")
                #expect((result["tokens"] as? Int ?? 0) > 20 && result["fetch_errors"] as? Int == 0, "\(result)")
            }
            let atOnce = try await rotateUnderLoad(publishAhead: "0s")
            #expect(atOnce.rotation.code == 0)
            #expect(atOnce.rotation.stderr.contains("verifiers that cached the key set"), "\(atOnce.rotation.stderr)")
            let refused = atOnce.clients.map { $0["refused"] as? Int ?? 0 }
            #expect(refused.allSatisfy { $0 > 0 }, "every cache refuses the new key until it expires: \(atOnce.clients)")
            #expect(atOnce.clients.allSatisfy { ($0["refusals"] as? [String])?.first?.contains("not in the cached key set") == true })
        }
    }
}

extension String {
    /// The same token with one character of its signature changed.
    func flippingASignatureCharacter() -> String {
        let last = self.index(before: endIndex)
        let position = self.index(before: last)
        return String(self[..<position]) + (self[position] == "A" ? "B" : "A") + String(self[last...])
    }
}

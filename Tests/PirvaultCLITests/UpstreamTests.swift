import Foundation
import PirvaultCrypto
import PirvaultTestSupport
import Testing

/// `serve --upstream URL --upstream-instance NAME`: allowed calls are
/// forwarded (method, path, query, body, content headers) with a token the
/// gateway fetched from the imported instance's token URL — here a second
/// pirvault playing the cloud — and denied calls never reach the upstream.
@Suite(.boundedParallelism) struct UpstreamTests {
    @Test func forwardsAllowedCallsWithTheImportedInstancesToken() async throws {
        // The "cloud": another vault and server, where the gateway has its own client identity.
        let cloud = try await CLI.withVault()
        let gatewayIdentity = await cloud.run("instance", "create", "gateway", "--customer", "Integration team")
        let cloudServer = try await ServeTests.RunningServer(cli: cloud)
        try await withDeferred { deferred in
            deferred { _ = await cloudServer.stop() }
            let identity = try #require((try parseJSON(gatewayIdentity.stdout) as? [String: Any])?["oauth"] as? [String: String])
            let serviceKey = """
                {"oauth": {"clientid": "\(identity["clientid"]!)", "clientsecret": "\(identity["clientsecret"]!)", "url": "\(cloudServer.baseURL)", "tokenurl": "\(cloudServer.baseURL)/oauth/token", "createdate": "2026-11-21T00:00:00Z"}}
                """

            // The upstream: echoes what it received as JSON, and logs each path.
            let log = cloud.directory + "/upstream.log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let upstreamPort = try LoopbackPort.free()
            let upstream = try ServeTests.startPython(
                """
                import http.server, json, sys
                class H(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                        open(sys.argv[2], "a").write(self.path + "\\n")
                        out = json.dumps({"method": "POST", "path": self.path, "body": body,
                                          "content_type": self.headers.get("Content-Type"),
                                          "authorization": self.headers.get("Authorization"),
                                          "customer": self.headers.get("X-Pirvault-Customer")}).encode()
                        self.send_response(201); self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
                    def log_message(self, *args): pass
                http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
                """, [String(upstreamPort), log])
            deferred { await ServeTests.stopPython(upstream) }

            // The gateway: a customer's instance, the imported cloud key, and serve with an upstream.
            let gateway = try await CLI.withVault()
            #expect(await gateway.run("instance", "import", "-", "--name", "cloud", "--customer", "Integration team", stdin: serviceKey).code == 0)
            let customer = await gateway.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*")
            let acme = try #require((try parseJSON(customer.stdout) as? [String: Any])?["oauth"] as? [String: String])
            try await ServeTests.waitForHTTP(gateway, port: upstreamPort)
            let server = try await ServeTests.RunningServer(
                cli: gateway, extraArguments: ["--upstream", "http://127.0.0.1:\(upstreamPort)", "--upstream-instance", "cloud"])
            deferred { _ = await server.stop() }

            let token = await gateway.runExecutable(
                "/usr/bin/curl", ["-sS", "-u", "\(acme["clientid"]!):\(acme["clientsecret"]!)", "-X", "POST", server.baseURL + "/oauth/token?grant_type=client_credentials"])
            let callerToken = try #require((try parseJSON(token.stdout) as? [String: Any])?["access_token"] as? String)
            for _ in 0..<2 {
                let call = await gateway.runExecutable(
                    "/usr/bin/curl", ["-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(callerToken)", "-H", "Content-Type: application/xml",
                                      "--data", "<order id='7'/>", server.baseURL + "/http/orders/7?x=1"])
                let lines = call.stdout.split(separator: "\n")
                #expect(lines.last == "201", "\(call.stdout) \(call.stderr)")
                let echoed = try #require(try parseJSON(String(lines.first ?? "")) as? [String: Any])
                #expect(echoed["path"] as? String == "/http/orders/7?x=1")
                #expect(echoed["body"] as? String == "<order id='7'/>")
                #expect(echoed["content_type"] as? String == "application/xml")
                #expect(echoed["customer"] as? String == "ACME")
                let upstreamAuthorization = try #require(echoed["authorization"] as? String)
                #expect(upstreamAuthorization.hasPrefix("Bearer "))
                #expect(!upstreamAuthorization.contains(callerToken))
                let payload = upstreamAuthorization.dropFirst(7).split(separator: ".")[1]
                let claims = try #require(try JSONSerialization.jsonObject(with: Data(Base64.decode(payload, .urlSafeNoPadding) ?? [])) as? [String: Any])
                #expect(claims["client_id"] as? String == identity["clientid"])
                #expect(claims["iss"] as? String == cloudServer.baseURL + "/oauth/token")
            }
            let denied = await gateway.runExecutable(
                "/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(callerToken)", server.baseURL + "/http/invoices/7"])
            #expect(denied.stdout == "403")
            let paths = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            #expect(paths == ["/http/orders/7?x=1", "/http/orders/7?x=1"])
            // The cached upstream token: the cloud issued exactly one.
            let issued = try #require(try await parseJSON(cloud.run("audit", "list", "--json", "--event", "token.issue").stdout) as? [[String: Any]])
            #expect(issued.filter { $0["outcome"] as? String == "allowed" }.count == 1)
        }
    }
}

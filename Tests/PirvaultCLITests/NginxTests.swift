import Foundation
import PirvaultTestSupport
import Testing

/// A real nginx (Debian's) in front of a small upstream, asking pirvault's
/// `/authorize` on every request (`auth_request`): an allowed call passes to
/// the upstream, a denied one is stopped at nginx, and both are audited.
@Suite(.boundedParallelism) struct NginxTests {
    @Test func nginxAuthRequestLetsAllowedCallsThroughAndStopsOthers() async throws {
        let cli = try await CLI.withVault()
        let created = await cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*")
        let oauth = try #require((try parseJSON(created.stdout) as? [String: Any])?["oauth"] as? [String: String])
        let pirvault = try await ServeTests.RunningServer(cli: cli)
        try await withDeferred { deferred in
            deferred { _ = await pirvault.stop() }

            // The upstream: Python's http.server answering every GET with a fixed body.
            let upstreamPort = try LoopbackPort.free()
            let upstream = try ServeTests.startPython(
                """
                import http.server, sys
                class H(http.server.BaseHTTPRequestHandler):
                    def do_GET(self):
                        body = b"upstream saw " + self.path.encode()
                        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                    def log_message(self, *args): pass
                http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
                """, [String(upstreamPort)])
            deferred { await ServeTests.stopPython(upstream) }
            try await ServeTests.waitForHTTP(cli, port: upstreamPort)

            let prefix = cli.directory + "/nginx"
            try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
            let nginxPort = try LoopbackPort.free()
            let pirvaultAddress = pirvault.baseURL.replacingOccurrences(of: "http://", with: "")
            let config = """
                worker_processes 1;
                error_log \(prefix)/logs/error.log;
                pid \(prefix)/nginx.pid;
                events { worker_connections 64; }
                http {
                    access_log off;
                    client_body_temp_path \(prefix)/body; proxy_temp_path \(prefix)/proxy;
                    fastcgi_temp_path \(prefix)/fastcgi; uwsgi_temp_path \(prefix)/uwsgi; scgi_temp_path \(prefix)/scgi;
                    server {
                        listen 127.0.0.1:\(nginxPort);
                        location /http/ {
                            auth_request /_pirvault;
                            proxy_pass http://127.0.0.1:\(upstreamPort);
                        }
                        location = /_pirvault {
                            internal;
                            proxy_pass http://\(pirvaultAddress)/authorize;
                            proxy_pass_request_body off;
                            proxy_set_header Content-Length "";
                            proxy_set_header X-Original-URI $request_uri;
                            proxy_set_header X-Original-Method $request_method;
                        }
                    }
                }
                """
            try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
            let nginx = try ChildProcess("/usr/sbin/nginx", ["-p", prefix, "-c", prefix + "/nginx.conf", "-g", "daemon off;"])
            deferred {
                nginx.signal(SIGTERM)  // nginx handles SIGTERM itself: fast shutdown, workers included
                _ = await nginx.exit()
            }

            let token = await cli.runExecutable(
                "/usr/bin/curl", ["-sS", "-u", "\(oauth["clientid"]!):\(oauth["clientsecret"]!)", "-X", "POST", pirvault.baseURL + "/oauth/token?grant_type=client_credentials"])
            let accessToken = try #require((try parseJSON(token.stdout) as? [String: Any])?["access_token"] as? String)
            func call(_ path: String) async throws -> (status: String, body: String) {
                // nginx may need a moment to start listening.
                for _ in 0..<50 {
                    let result = await cli.runExecutable(
                        "/usr/bin/curl", ["-sS", "-m", "10", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(accessToken)", "http://127.0.0.1:\(nginxPort)\(path)"])
                    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                    if result.code == 0, let status = lines.last {
                        return (String(status), lines.dropLast().joined(separator: "\n"))
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return ("unreachable", "")
            }
            let allowed = try await call("/http/orders/42")
            #expect(allowed.status == "200")
            #expect(allowed.body == "upstream saw /http/orders/42")
            let denied = try await call("/http/invoices/42")
            #expect(denied.status == "403")
            #expect(!denied.body.contains("upstream saw"))

            let audit = try #require(
                try await parseJSON(cli.run("audit", "list", "--json", "--event", "gateway.authorize").stdout) as? [[String: Any]])
            #expect(audit.count == 2)
            #expect(audit.map { $0["status"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [200, 403])
            #expect(audit.contains { $0["flow"] as? String == "/http/invoices/42" && $0["outcome"] as? String == "denied" })
        }
    }
}

import Foundation
import PirvaultTestSupport
import Testing

/// `pirvault serve` as a process, used by clients pirvault did not write:
/// Python authlib + joserfc, and curl exactly as docs/http-api.md shows.
@Suite(.boundedParallelism) struct ServeTests {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop").path

    /// A running server on a free loopback port; stopped with SIGTERM by `stop()`.
    /// `pirvault serve` as a test runs it: on a free loopback port unless
    /// told otherwise, plain or TLS; its base URL comes from the "listening
    /// on" line. SIGKILLed on deinit if still running.
    final class RunningServer {
        let process: ChildProcess
        let baseURL: String
        let output: String
        let errors: String
        /// Where this run's output starts in the (appended-to) log files.
        private let errorsStart: Int

        /// `port` nil: a free one; `listenFlag` false: no `--listen`, so the
        /// environment's PIRVAULT_LISTEN decides. The server's stdout and
        /// stderr go to `serve.out` and `serve.err` in the CLI's folder
        /// (appended to, so a restarted server's logs follow the previous one's).
        /// `openFiles`: the soft and hard open-file limit it starts under
        /// (`ulimit -n` in a shell that then execs it).
        init(
            cli: CLI, port: Int? = nil, listenFlag: Bool = true, extraArguments: [String] = [], openFiles: Int? = nil
        ) async throws {
            let output = cli.directory + "/serve.out"
            let errors = cli.directory + "/serve.err"
            (self.output, self.errors) = (output, errors)
            for path in [output, errors] where !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
            let start = size(output)
            errorsStart = size(errors)
            let listen = listenFlag ? ["--listen", "127.0.0.1:\(try port ?? LoopbackPort.free())"] : []
            let serve = ["serve"] + listen + extraArguments
            let child =
                if let openFiles {
                    try ChildProcess(
                        "/bin/sh", ["-c", "ulimit -n \(openFiles) && exec \"$0\" \"$@\"", CLI.executable.path] + serve,
                        environment: cli.environment, stdout: output, stderr: errors, appendingOutput: true)
                } else {
                    try ChildProcess(
                        CLI.executable.path, serve, environment: cli.environment, stdout: output, stderr: errors,
                        appendingOutput: true)
                }
            process = child
            var url: String? = nil
            _ = try await poll(every: .milliseconds(50), for: .seconds(20)) {
                let text = (try? String(contentsOfFile: output, encoding: .utf8))?.dropFirst(start) ?? ""
                guard let range = text.range(of: #"https?://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
                    return !child.isRunning
                }
                url = String(text[range])
                return true
            }
            guard let url else {
                child.signal(SIGKILL)
                let log = (try? String(contentsOfFile: errors, encoding: .utf8))?.dropFirst(errorsStart) ?? ""
                throw CLI.CLIError("pirvault serve did not start: \(log)")
            }
            baseURL = url
        }

        /// The port from `baseURL`.
        var port: Int { Int(baseURL.split(separator: ":").last ?? "") ?? 0 }

        /// Everything this run wrote to stderr so far.
        var log: String { String((try? String(contentsOfFile: errors, encoding: .utf8))?.dropFirst(errorsStart) ?? "") }

        /// Waits until stderr holds `text` (at most `seconds`).
        func waitForLog(_ text: String, seconds: Int = 10) async throws -> Bool {
            try await poll(every: .milliseconds(50), for: .seconds(seconds)) { log.contains(text) }
        }

        /// SIGHUP: take up a renewed certificate.
        func hangUp() { process.signal(SIGHUP) }

        /// How many descriptors the server has open now (from /proc).
        var openDescriptors: Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? -1
        }

        /// SIGKILL: no handler runs, nothing is flushed; a crash or power cut
        /// as far as the process can tell.
        func crash() async {
            process.signal(SIGKILL)
            _ = await process.exit()
        }

        /// SIGTERM, as a service manager would send; pirvault installs its own handler.
        func stop() async -> Int32 {
            process.signal(SIGTERM)  // nothing if it has exited already
            return await process.exit().status
        }

        deinit {
            process.signal(SIGKILL)
        }
    }

    /// A small Python HTTP server (an upstream), silent, killed by `stopPython`.
    static func startPython(_ script: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    /// SIGKILL: a test runner may hand its children an ignored SIGTERM.
    static func stopPython(_ process: ChildProcess) async {
        process.signal(SIGKILL)
        _ = await process.exit()
    }

    /// curl reading its options from stdin (`-K -`), so secrets and tokens in
    /// `user` or `header` lines never appear on a command line. Returns the
    /// HTTP status (0 when no answer came) and the body.
    /// `cacert`: the CA to trust for an https URL.
    static func curl(
        _ cli: CLI, _ url: String, _ options: [String: String] = [:], headers: [String] = [], cacert: String? = nil
    ) async -> (status: Int, body: String) {
        func quoted(_ value: String) -> String {
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var config = ["url = \(quoted(url))"] + options.map { "\($0.key) = \(quoted($0.value))" }
        config += headers.map { "header = \(quoted($0))" }
        let trust = cacert.map { ["--cacert", $0] } ?? []
        let result = await cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-m", "10"] + trust + ["-K", "-", "-w", "\n%{http_code}"],
            stdin: config.joined(separator: "\n") + "\n")
        guard let newline = result.stdout.lastIndex(of: "\n") else { return (0, result.stdout) }
        return (Int(result.stdout[result.stdout.index(after: newline)...]) ?? 0, String(result.stdout[..<newline]))
    }

    /// The JSON object of a JWT's header, read without trusting it.
    static func header(of token: String) throws -> [String: Any] {
        var text = String(token.split(separator: ".").first ?? "").replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        let data = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A client_credentials token from `baseURL`, or nil with the status when refused.
    static func fetchToken(_ cli: CLI, _ baseURL: String, id: String, secret: String) async -> (status: Int, token: String?) {
        let answer = await curl(cli, baseURL + "/oauth/token?grant_type=client_credentials", ["user": "\(id):\(secret)", "request": "POST"])
        let token = (try? parseJSON(answer.body) as? [String: Any])?["access_token"] as? String
        return (answer.status, token)
    }

    /// Waits until something answers HTTP on `port` (10 s at most).
    static func waitForHTTP(_ cli: CLI, port: Int) async throws {
        _ = try await poll(every: .milliseconds(50), for: .seconds(10)) {
            await cli.runExecutable("/usr/bin/curl", ["-s", "-m", "1", "-o", "/dev/null", "http://127.0.0.1:\(port)/"]).code == 0
        }
    }

    func createClient(_ cli: CLI, _ name: String, _ flows: [String]) async throws -> (id: String, secret: String) {
        try await serviceKeyCredentials(cli.run(["instance", "create", name, "--customer", "ACME"] + flows.flatMap { ["--flow", $0] }).stdout)
    }

    @Test func realClientsGetTokensAndCallFlows() async throws {
        let cli = try await CLI.withVault()
        let client = try await createClient(cli, "acme-orders", ["orders/*"])
        let server = try await RunningServer(cli: cli)

        var python = CLI()
        python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        python.environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        python.environment["CLIENT_ID"] = client.id
        python.environment["CLIENT_SECRET"] = client.secret
        let authlib = await python.runExecutable(
            "/usr/bin/env", ["python3", Self.interop + "/oauth_client.py", server.baseURL, "/http/orders/7", "/http/invoices/7"])
        #expect(authlib.code == 0, "\(authlib.stdout)\(authlib.stderr)")
        let seen = try #require(try parseJSON(authlib.stdout) as? [String: Any])
        #expect(seen["allowed_status"] as? Int == 200)
        #expect(seen["denied_status"] as? Int == 403)

        // curl exactly as docs/http-api.md shows: tokenurl?grant_type=client_credentials with Basic.
        let curl = await cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-u", "\(client.id):\(client.secret)", "-X", "POST", server.baseURL + "/oauth/token?grant_type=client_credentials"])
        #expect(curl.code == 0)
        let token = try #require((try parseJSON(curl.stdout) as? [String: Any])?["access_token"] as? String)
        let call = await cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", server.baseURL + "/http/orders/1"])
        #expect(call.stdout == "200")

        // SIGTERM: graceful stop, exit 0, audit log flushed and intact.
        #expect(await server.stop() == 0)
        let audit = try #require(try await parseJSON(cli.run("audit", "list", "--json", "--event", "gateway.call").stdout) as? [[String: Any]])
        #expect(audit.count == 3)
        #expect(await cli.run("audit", "verify").code == 0)
        let logs = try String(contentsOfFile: cli.directory + "/serve.err", encoding: .utf8)
            + String(contentsOfFile: server.output, encoding: .utf8)
        #expect(!logs.contains(client.secret))
        #expect(!logs.contains(token))
    }
}

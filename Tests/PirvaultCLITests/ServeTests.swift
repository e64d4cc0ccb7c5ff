import Foundation
import PirvaultTestSupport
import Testing

/// `pirvault serve` as a process, used by clients pirvault did not write:
/// Python authlib + joserfc, and curl exactly as docs/http-api.md shows.
struct ServeTests {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop").path

    /// A running server on a free loopback port; stopped with SIGTERM by `stop()`.
    final class RunningServer {
        let process = Process()
        let baseURL: String
        let output: String

        /// `port` nil: a free one; `listenFlag` false: no `--listen`, so the
        /// environment's PIRVAULT_LISTEN decides. The server's stdout and
        /// stderr go to `serve.out` and `serve.err` in the CLI's folder
        /// (appended to, so a restarted server's logs follow the previous one's).
        init(cli: CLI, port: Int? = nil, listenFlag: Bool = true, extraArguments: [String] = []) throws {
            output = cli.directory + "/serve.out"
            let errors = cli.directory + "/serve.err"
            for path in [output, errors] where !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil)
            }
            let start = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            process.executableURL = CLI.executable
            let listen = listenFlag ? ["--listen", "127.0.0.1:\(try port ?? LoopbackPort.free())"] : []
            process.arguments = ["serve"] + listen + extraArguments
            process.environment = cli.environment
            process.standardOutput = Self.appending(output)
            process.standardError = Self.appending(errors)
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            var url: String? = nil
            while url == nil && Date() < deadline {
                let text = (try? String(contentsOfFile: output, encoding: .utf8))?.dropFirst(start) ?? ""
                if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    url = String(text[range])
                } else {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            guard let url else { throw CLI.CLIError("pirvault serve did not start") }
            baseURL = url
        }

        static func appending(_ path: String) -> FileHandle? {
            let handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
            return handle
        }

        /// SIGKILL: no handler runs, nothing is flushed; a crash or power cut
        /// as far as the process can tell.
        func crash() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// SIGTERM, as a service manager would send; pirvault installs its own handler.
        func stop() -> Int32 {
            guard process.isRunning else { return process.terminationStatus }
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// A small Python HTTP server (an upstream), silent, killed by `stopPython`.
    static func startPython(_ script: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// SIGKILL: a test runner may hand its children an ignored SIGTERM.
    static func stopPython(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// curl reading its options from stdin (`-K -`), so secrets and tokens in
    /// `user` or `header` lines never appear on a command line. Returns the
    /// HTTP status (0 when no answer came) and the body.
    static func curl(_ cli: CLI, _ url: String, _ options: [String: String] = [:], headers: [String] = []) -> (status: Int, body: String) {
        func quoted(_ value: String) -> String {
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var config = ["url = \(quoted(url))"] + options.map { "\($0.key) = \(quoted($0.value))" }
        config += headers.map { "header = \(quoted($0))" }
        let result = cli.runExecutable("/usr/bin/curl", ["-sS", "-m", "10", "-K", "-", "-w", "\n%{http_code}"], stdin: config.joined(separator: "\n") + "\n")
        guard let newline = result.stdout.lastIndex(of: "\n") else { return (0, result.stdout) }
        return (Int(result.stdout[result.stdout.index(after: newline)...]) ?? 0, String(result.stdout[..<newline]))
    }

    /// A client_credentials token from `baseURL`, or nil with the status when refused.
    static func fetchToken(_ cli: CLI, _ baseURL: String, id: String, secret: String) -> (status: Int, token: String?) {
        let answer = curl(cli, baseURL + "/oauth/token?grant_type=client_credentials", ["user": "\(id):\(secret)", "request": "POST"])
        let token = (try? parseJSON(answer.body) as? [String: Any])?["access_token"] as? String
        return (answer.status, token)
    }

    /// Waits until something answers HTTP on `port`.
    static func waitForHTTP(_ cli: CLI, port: Int) {
        for _ in 0..<100 where cli.runExecutable("/usr/bin/curl", ["-s", "-m", "1", "-o", "/dev/null", "http://127.0.0.1:\(port)/"]).code != 0 {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func createClient(_ cli: CLI, _ name: String, _ flows: [String]) throws -> (id: String, secret: String) {
        try serviceKeyCredentials(cli.run(["instance", "create", name, "--customer", "ACME"] + flows.flatMap { ["--flow", $0] }).stdout)
    }

    @Test func realClientsGetTokensAndCallFlows() throws {
        let cli = try CLI.withVault()
        let client = try createClient(cli, "acme-orders", ["orders/*"])
        let server = try RunningServer(cli: cli)

        var python = CLI()
        python.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        python.environment["HOME"] = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        python.environment["CLIENT_ID"] = client.id
        python.environment["CLIENT_SECRET"] = client.secret
        let authlib = python.runExecutable(
            "/usr/bin/env", ["python3", Self.interop + "/oauth_client.py", server.baseURL, "/http/orders/7", "/http/invoices/7"])
        #expect(authlib.code == 0, "\(authlib.stdout)\(authlib.stderr)")
        let seen = try #require(try parseJSON(authlib.stdout) as? [String: Any])
        #expect(seen["allowed_status"] as? Int == 200)
        #expect(seen["denied_status"] as? Int == 403)

        // curl exactly as docs/http-api.md shows: tokenurl?grant_type=client_credentials with Basic.
        let curl = cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-u", "\(client.id):\(client.secret)", "-X", "POST", server.baseURL + "/oauth/token?grant_type=client_credentials"])
        #expect(curl.code == 0)
        let token = try #require((try parseJSON(curl.stdout) as? [String: Any])?["access_token"] as? String)
        let call = cli.runExecutable(
            "/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", server.baseURL + "/http/orders/1"])
        #expect(call.stdout == "200")

        // SIGTERM: graceful stop, exit 0, audit log flushed and intact.
        #expect(server.stop() == 0)
        let audit = try #require(try parseJSON(cli.run("audit", "list", "--json", "--event", "gateway.call").stdout) as? [[String: Any]])
        #expect(audit.count == 3)
        #expect(cli.run("audit", "verify").code == 0)
        let logs = try String(contentsOfFile: cli.directory + "/serve.err", encoding: .utf8)
            + String(contentsOfFile: server.output, encoding: .utf8)
        #expect(!logs.contains(client.secret))
        #expect(!logs.contains(token))
    }
}

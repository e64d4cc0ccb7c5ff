import Foundation
import PirvaultTestSupport
import Testing

/// `pirvault audit report` through the built binary: its counts against
/// `audit list --json` for the same events, the `--customer` rule, escaping,
/// time windows, failures, and the page rendered by headless chromium.
@Suite(.boundedParallelism) struct AuditReportTests {
    /// Three customers with gateway traffic made through `pirvault serve`
    /// (allowed, denied, a revoked instance, an unknown token) and token
    /// requests made with `token issue` (some with a wrong secret). Shared by
    /// the tests that only read it: a report adds nothing they count.
    struct Scenario: Sendable {
        let cli: CLI
        let credentials: [String: (id: String, secret: String)]
        let tokens: [String: String]

        /// Made once, by the first test that asks; every other test awaits the same one.
        static let shared = Task { try await Scenario() }

        private init() async throws {
            let cli = try await CLI.withVault()
            self.cli = cli
            var credentials: [String: (id: String, secret: String)] = [:]
            for (name, customer, flows) in [
                ("acme-orders", "ACME Corp", ["--flow", "orders/*"]), ("globex-products", "Globex", ["--flow", "products/*"]),
                ("initech-all", "Initech", []),
            ] {
                let created = await cli.run(["instance", "create", name, "--customer", customer] + flows)
                guard created.code == 0 else { throw CLI.CLIError(created.stderr) }
                credentials[name] = try serviceKeyCredentials(created.stdout)
            }
            self.credentials = credentials
            for (name, attempts) in [("acme-orders", 1), ("globex-products", 2)] {
                for _ in 0..<attempts {
                    let refused = await cli.run("token", "issue", "--client-id", credentials[name]!.id, stdin: "not-the-secret-\(UUID())")
                    guard refused.code == 1 else { throw CLI.CLIError("a wrong secret was accepted: \(refused.stdout)") }
                }
            }
            var tokens: [String: String] = [:]
            for (name, client) in credentials { tokens[name] = try await Self.token(cli, client) }
            self.tokens = tokens
            // The issuer the CLI named in the tokens (its default).
            let server = try await ServeTests.RunningServer(cli: cli, extraArguments: ["--issuer", "http://127.0.0.1:8080"])
            try await withDeferred { deferred in
                deferred { _ = await server.stop() }
                let calls: [(String, String, Int, Int)] = [
                    ("acme-orders", "orders/1", 3, 200), ("acme-orders", "products/details", 2, 403),
                    ("globex-products", "products/details", 2, 200), ("globex-products", "orders/7", 1, 403),
                    ("initech-all", "orders/1", 1, 200),
                ]
                for (name, flow, times, status) in calls {
                    for _ in 0..<times { try await Self.call(cli, server, tokens[name]!, flow, expecting: status) }
                }
                guard await cli.run("credentials", "revoke", "initech-all").code == 0 else { throw CLI.CLIError("revoke failed") }
                for _ in 0..<2 { try await Self.call(cli, server, tokens["initech-all"]!, "orders/1", expecting: 401) }
                try await Self.call(cli, server, "not-a-token", "orders/1", expecting: 401)
                // `token verify --flow` makes the same decision, audited as token.verify.
                guard await cli.run("token", "verify", "-", "--flow", "/http/orders/9", stdin: tokens["acme-orders"]!).code == 0 else {
                    throw CLI.CLIError("token verify failed")
                }
            }
        }

        static func token(_ cli: CLI, _ credentials: (id: String, secret: String)) async throws -> String {
            let issued = await cli.run("token", "issue", "--client-id", credentials.id, stdin: credentials.secret)
            guard issued.code == 0 else { throw CLI.CLIError(issued.stderr) }
            return issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        static func call(_ cli: CLI, _ server: ServeTests.RunningServer, _ token: String, _ flow: String, expecting status: Int) async throws {
            let answer = await cli.runExecutable(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", "\(server.baseURL)/http/\(flow)"])
            guard answer.stdout == String(status) else { throw CLI.CLIError("GET /http/\(flow) answered \(answer.stdout), not \(status)") }
        }
    }

    @Test func theMatrixTokenTableAndDenialsEqualTheCountsOfAuditList() async throws {
        let scenario = try await Scenario.shared.value
        let cli = scenario.cli
        let (result, page) = try await report(cli, "full.html")
        #expect(result.code == 0, "\(result.stderr)")
        #expect(page.contains("data-verified=\"true\""))
        let events = try await list(cli)

        var cells: [String: [Int]] = [:]
        var tokens: [String: [Int]] = [:]
        var reasons: [String: Int] = [:]
        for e in events {
            let customer = e["customer"] as? String ?? "(unknown client)"
            let outcome = e["outcome"] as? String
            if let flow = e["flow"] as? String, ["gateway.call", "gateway.authorize", "token.verify"].contains(e["event"] as? String) {
                cells["\(customer)|\(flow)", default: [0, 0]][outcome == "allowed" ? 0 : 1] += 1
                if outcome != "allowed" { reasons[e["reason"] as? String ?? "", default: 0] += 1 }
            } else if e["event"] as? String == "token.issue" {
                let failed = (e["reason"] as? String ?? "").hasPrefix("invalid_client")
                tokens["\(customer)|\(e["instance"] as? String ?? "-")", default: [0, 0, 0]][outcome == "allowed" ? 0 : failed ? 1 : 2] += 1
            }
        }
        // The scenario is what it claims, so the comparison below cannot pass on an empty page.
        #expect(Set(cells.keys.map { $0.split(separator: "|")[0] }) == ["ACME Corp", "Globex", "Initech", "(unknown client)"])
        // A call with a revoked instance's token is denied under its customer; one with no valid token under none.
        #expect(cells["Initech|/http/orders/1"] == [1, 2])
        #expect(cells["(unknown client)|/http/orders/1"] == [0, 1])
        #expect(tokens["Globex|globex-products"] == [1, 2, 0])

        let pageCells = attributes(page, #"<td class="cell" data-customer="([^"]*)" data-flow="([^"]*)" data-allowed="(\d+)" data-denied="(\d+)""#)
        #expect(Dictionary(uniqueKeysWithValues: pageCells.map { ("\($0[0])|\($0[1])", [Int($0[2])!, Int($0[3])!]) }) == cells)
        let pageTokens = attributes(page, #"data-customer="([^"]*)" data-instance="([^"]*)" data-issued="(\d+)" data-failed="(\d+)" data-refused="(\d+)""#)
        #expect(Dictionary(uniqueKeysWithValues: pageTokens.map { ("\($0[0])|\($0[1])", $0[2...].map { Int($0)! }) }) == tokens)
        let pageReasons = attributes(page, #"data-reason="([^"]*)" data-count="(\d+)""#)
        #expect(Dictionary(uniqueKeysWithValues: pageReasons.map { ($0[0], Int($0[1])!) }) == reasons)
        #expect(reasons.keys.contains { $0.contains("revoked") })
        // Which instances made the calls; the credential timeline; a self-contained page.
        #expect(page.contains("via acme-orders"))
        #expect(page.contains("<code>credentials.revoke</code>"))
        for forbidden in ["<script", "src=", "href=", "url(", "@import"] { #expect(!page.contains(forbidden), "\(forbidden)") }
        // No secret or token, ever.
        for secret in scenario.credentials.values.map(\.secret) + scenario.tokens.values { #expect(!page.contains(secret)) }
    }

    @Test func aCustomerReportHoldsNothingOfAnyOtherCustomer() async throws {
        let scenario = try await Scenario.shared.value
        let (result, page) = try await report(scenario.cli, "acme.html", "--customer", "ACME Corp")
        #expect(result.code == 0, "\(result.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: scenario.cli.directory + "/acme.html"))
        #expect(page.contains("ACME Corp") && page.contains("acme-orders") && page.contains("data-allowed"))
        var others = ["Globex", "Initech", "globex", "initech", "(unknown client)"]
        others += ["globex-products", "initech-all"].map { scenario.credentials[$0]!.id }
        for other in others { #expect(bytes.range(of: Data(other.utf8)) == nil, "\(other) is in the ACME report") }
    }

    @Test func headlessChromiumRendersThePage() async throws {
        let cli = try await Scenario.shared.value.cli
        let (result, _) = try await report(cli, "render.html")
        #expect(result.code == 0, "\(result.stderr)")
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("audit-report.png").path
        try? FileManager.default.removeItem(atPath: png)
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/bin"
        let chromium = try #require(
            path.split(separator: ":").map { "\($0)/chromium" }.first { FileManager.default.isExecutableFile(atPath: $0) },
            "chromium is not on PATH (CI installs the Debian package 'chromium')")
        let rendered = try await runWithTimeout(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(cli.directory)/chromium",
            "--screenshot=\(png)", "--window-size=1000,1400", "file://\(cli.directory)/render.html",
        ], seconds: 120)
        #expect(rendered, "chromium did not finish within 120 s")
        print("audit report rendered to \(png)")
        // Decode the PNG (Python stdlib): a page of charts has many colours, among them the first customer's and "denied".
        let analysis = await cli.runExecutable("/usr/bin/env", ["python3", "-c", Self.pngColours, png, "0072b2", "c62828"])
        #expect(analysis.code == 0, "\(analysis.stderr)")
        let fields = analysis.stdout.split(separator: " ").map(String.init)
        #expect(fields.first == "1000x1400")
        #expect((fields.dropFirst().first.flatMap { Int($0) } ?? 0) > 100, "\(analysis.stdout)")
        #expect(fields.dropFirst(2).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } == ["0072b2", "c62828"])
    }

    @Test func anEmptyPeriodSaysSoAndAFreshVaultHasNoCalls() async throws {
        let cli = try await CLI.withVault()
        let (past, pastPage) = try await report(cli, "past.html", "--until", "2000-01-01T00:00:00Z")
        #expect(past.code == 0, "\(past.stderr)")
        #expect(pastPage.contains("There are no events in this period"))
        #expect(!pastPage.contains("data-allowed"))
        let (fresh, freshPage) = try await report(cli, "fresh.html")
        #expect(fresh.code == 0)
        #expect(freshPage.contains("No gateway calls in this period."))
        #expect(freshPage.contains("data-event=\"vault.init\""))
    }

    @Test func anUnwritableOutputExitsOneWithOneLineAndLeavesNoFile() async throws {
        let cli = try await CLI.withVault()
        for output in [cli.directory + "/missing/report.html", "/etc/hostname/report.html"] {
            let result = await cli.run("audit", "report", "--output", output)
            #expect(result.code == 1)
            #expect(result.stderr.hasPrefix("pirvault: cannot write \(output)"))
            #expect(result.stderr.filter { $0 == "\n" }.count == 1 && result.stderr.hasSuffix("\n"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.directory + "/missing"))
        // Nothing was reported, so nothing was audited.
        #expect(try await list(cli).allSatisfy { $0["event"] as? String != "audit.report" })
        // A written report is private and leaves no temporary file behind.
        #expect(await cli.run("audit", "report", "--output", cli.directory + "/ok.html").code == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: cli.directory + "/ok.html")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.directory).allSatisfy { !$0.contains(".tmp-") })
    }

    @Test func customerNamesAreEscaped() async throws {
        let cli = try await CLI.withVault()
        let hostile = "<script>alert(1)</script> \"&'"
        let created = await cli.run("instance", "create", "x", "--customer", hostile)
        #expect(created.code == 0, "\(created.stderr)")
        let id = try serviceKeyCredentials(created.stdout).id
        let token = try await Scenario.token(cli, (id, try serviceKeyCredentials(created.stdout).secret))
        #expect(await cli.run("token", "verify", "-", "--flow", "/http/<svg onload=alert(2)>", stdin: token).code == 0)
        let (result, page) = try await report(cli, "escaped.html", "--customer", hostile)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(!page.lowercased().contains("<script"))
        #expect(!page.contains("<svg onload"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;&amp;&#39;"))
        #expect(page.contains("data-flow=\"/http/&lt;svg onload=alert(2)&gt;\""))
    }

    @Test func aTimeWindowCountsOnlyTheEventsInsideIt() async throws {
        let cli = try await CLI.withVault()
        let created = await cli.run("instance", "create", "w", "--customer", "Window Ltd", "--flow", "a")
        let token = try await Scenario.token(cli, try serviceKeyCredentials(created.stdout))
        for _ in 0..<3 { #expect(await cli.run("token", "verify", "-", "--flow", "/http/a", stdin: token).code == 0) }
        let boundary = try #require(try await list(cli, "--limit", "1").first?["time"] as? String)
        try await Task.sleep(for: .milliseconds(10))
        for _ in 0..<2 { #expect(await cli.run("token", "verify", "-", "--flow", "/http/a", stdin: token).code == 0) }
        #expect(await cli.run("token", "verify", "-", "--flow", "/http/b", stdin: token).code == 1)
        let after = try #require(try await list(cli, "--limit", "1").first?["time"] as? String)

        func cell(_ page: String, _ flow: String) -> [String] {
            attributes(page, #"data-flow="\#(flow)" data-allowed="(\d+)" data-denied="(\d+)""#).first ?? []
        }
        let (_, before) = try await report(cli, "before.html", "--until", boundary)
        #expect(cell(before, "/http/a") == ["3", "0"])
        #expect(cell(before, "/http/b") == [])
        // --since the first event after the boundary: the later calls only.
        let laterEvents = try await list(cli, "--since", boundary).filter { $0["time"] as? String != boundary }
        let since = try #require(laterEvents.last?["time"] as? String)
        let (_, later) = try await report(cli, "later.html", "--since", since, "--until", after)
        #expect(cell(later, "/http/a") == ["2", "0"])
        #expect(cell(later, "/http/b") == ["0", "1"])
    }

    @Test func aTamperedLogIsReportedProminentlyAndExitsOne() async throws {
        let cli = try await Scenario.tampered()
        let (result, page) = try await report(cli, "tampered.html")
        #expect(result.code == 1)
        #expect(result.stderr.hasPrefix("pirvault: audit log verification failed: the event at index"))
        #expect(result.stderr.filter { $0 == "\n" }.count == 1)
        #expect(page.contains("data-verified=\"false\""))
        #expect(page.contains("FAILED verification"))
    }

    // MARK: Helpers

    /// Runs `audit report --output DIR/name` with `arguments`; the page is "" when no file was written.
    func report(_ cli: CLI, _ name: String, _ arguments: String...) async throws -> (CLI.Result, String) {
        let path = cli.directory + "/" + name
        let result = await cli.run(["audit", "report", "--output", path] + arguments)
        return (result, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    func list(_ cli: CLI, _ arguments: String...) async throws -> [[String: Any]] {
        let listed = await cli.run(["audit", "list", "--json"] + arguments)
        return try #require(try parseJSON(listed.stdout) as? [[String: Any]])
    }

    /// The capture groups of every match of `pattern`, HTML-unescaped.
    func attributes(_ page: String, _ pattern: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: page, range: NSRange(page.startIndex..., in: page)).map { match in
            (1..<match.numberOfRanges).map { i in
                String(page[Range(match.range(at: i), in: page)!]).replacingOccurrences(of: "&lt;", with: "<")
                    .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
                    .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
            }
        }
    }

    /// Runs `executable`, killing it after `seconds`; true if it exited by itself with status 0.
    func runWithTimeout(_ executable: String, _ arguments: [String], seconds: TimeInterval) async throws -> Bool {
        let process = try ChildProcess(executable, arguments)
        let exited = try await poll(every: .milliseconds(100), for: .seconds(seconds)) { !process.isRunning }
        if !exited {
            process.signal(SIGTERM)
            _ = await process.exit()
            return false
        }
        return await process.exit().status == 0
    }

    /// Prints "WxH colours" and which of the hex colours given after the PNG path occur (within a small tolerance).
    static let pngColours = """
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        assert depth == 8 and ctype in (2, 6), 'unexpected PNG format'
        bpp = 3 if ctype == 2 else 4
        raw, stride, prev, colours, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set(), 0
        for y in range(h):
            f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
            i += 1 + stride
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, bpp): colours.add(bytes(line[x:x + 3]))
            prev = line
        found = [t for t in sys.argv[2:] if any(sum(abs(u - v) for u, v in zip(col, bytes.fromhex(t))) <= 12 for col in colours)]
        print('%dx%d %d %s' % (w, h, len(colours), ' '.join(found)))
        """
}

extension AuditReportTests.Scenario {
    /// A small vault whose audit log has one altered event (as `audit verify`'s own test does).
    static func tampered() async throws -> CLI {
        var cli = try await CLI.withVault()
        cli.environment["PIRVAULT_CHECKPOINT_EVERY"] = "2"
        for i in 0..<3 { _ = await cli.run("instance", "create", "t\(i)", "--customer", "Tamper Co") }
        let sqlite = await cli.runExecutable(
            "/usr/bin/env",
            ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE audit_events SET instance='ghost' WHERE seq=2\"); c.commit()", cli.vaultPath])
        guard sqlite.code == 0 else { throw CLI.CLIError(sqlite.stderr) }
        return cli
    }
}

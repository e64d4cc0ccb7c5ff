import Foundation
import Testing

/// Idle, slow and too many connections (issue 19): the idle and header-read
/// timeouts close them, and the connection cap keeps a server under its
/// descriptor limit serving real clients.
@Suite(.serialized, .boundedParallelism) struct ConnectionLimitsTests {
    static let healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    /// A client_credentials token over a new connection: the status and how long it took.
    static func timedToken(_ cli: CLI, _ base: String, _ client: (id: String, secret: String)) async -> (status: Int, seconds: Double) {
        let start = Date()
        let answer = await ServeTests.fetchToken(cli, base, id: client.id, secret: client.secret)
        return (answer.status, Date().timeIntervalSince(start))
    }

    @Test func idleAndSlowConnectionsAreClosedAfterTheirTimeouts() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let server = try await ServeTests.RunningServer(cli: cli, extraArguments: ["--idle-timeout", "3s", "--header-timeout", "1s"])

        // Keep-alive after one request: closed by the idle timeout, not before.
        let keepAlive = try #require(await LoopbackConnection.connect(port: server.port))
        keepAlive.send(Self.healthz)
        #expect(await keepAlive.receiveResponse().hasPrefix("HTTP/1.1 200"))
        let idle = try #require(try await keepAlive.secondsUntilClosed(limit: 8), "an idle keep-alive connection stayed open")
        #expect(idle > 2 && idle < 5, "closed after \(idle) s, idle timeout 3 s")

        // Connected, nothing sent: the header timeout runs from the accept.
        let silent = try #require(await LoopbackConnection.connect(port: server.port))
        let quiet = try #require(try await silent.secondsUntilClosed(limit: 5), "a silent connection stayed open")
        #expect(quiet < 2.5, "closed after \(quiet) s, header timeout 1 s")

        // A slowloris: a header byte every 200 ms never completes the header.
        let slow = try #require(await LoopbackConnection.connect(port: server.port))
        slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let start = Date()
        var closedAfter: Double? = nil
        for _ in 0..<40 where closedAfter == nil {
            try await Task.sleep(for: .milliseconds(200))
            if slow.isClosedByServer || !slow.send("X") { closedAfter = Date().timeIntervalSince(start) }
        }
        let slowloris = try #require(closedAfter, "a slowloris stayed open for 8 s")
        #expect(slowloris < 2.5, "slowloris closed after \(slowloris) s, header timeout 1 s")

        // A second request on a kept-alive connection gets its own header timeout from its first byte.
        let second = try #require(await LoopbackConnection.connect(port: server.port))
        second.send(Self.healthz)
        #expect(await second.receiveResponse().hasPrefix("HTTP/1.1 200"))
        try await Task.sleep(for: .milliseconds(1500))
        #expect(!second.isClosedByServer, "closed between requests before the idle timeout")
        second.send("GET /healthz HTTP/1.1\r\n")
        let partial = try #require(try await second.secondsUntilClosed(limit: 5), "a half-sent second request stayed open")
        #expect(partial < 2.5, "closed \(partial) s after the second request's first byte")
        #expect(await server.stop() == 0)
    }

    @Test func elevenHundredIdleConnectionsUnderAThousandDescriptorsDoNotLockOutAClient() async throws {
        // The test process holds the idle connections itself: make room for them.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 {
            limit.rlim_cur = min(4096, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= 1300, "the test needs 1,300 descriptors; the hard limit is \(limit.rlim_max)")
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let client = try await serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        let server = try await ServeTests.RunningServer(cli: cli, openFiles: 1024)
        #expect(await Self.timedToken(cli, server.baseURL, client).status == 200)

        var idle: [LoopbackConnection] = []
        for _ in 0..<1100 {
            if let connection = await LoopbackConnection.connect(port: server.port) { idle.append(connection) }
        }
        #expect(idle.count >= 1000, "only \(idle.count) of 1,100 connections were made")
        try await Task.sleep(for: .milliseconds(500))
        for attempt in 0..<5 {
            let token = await Self.timedToken(cli, server.baseURL, client)
            #expect(token.status == 200, "attempt \(attempt): \(token.status)")
            #expect(token.seconds < 1, "attempt \(attempt): \(token.seconds) s")
        }
        // The server stayed under its limit by closing the longest-idle connections.
        let descriptors = server.openDescriptors
        #expect(descriptors > 0 && descriptors < 1024, "\(descriptors) descriptors open")
        let closed = idle.filter(\.isClosedByServer).count
        #expect(closed >= 1100 - 896 - 10, "only \(closed) idle connections were closed; default cap 896 under 1,024")
        #expect(server.process.isRunning)
        idle.removeAll()
        #expect(await server.stop() == 0)
        #expect(!server.log.contains("Too many open files"), "\(server.log.suffix(500))")
    }

    @Test func atTheCapTheLongestIdleConnectionMakesRoomAndBusyOnesGet503() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let client = try await serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        let server = try await ServeTests.RunningServer(cli: cli, extraArguments: ["--max-connections", "2", "--header-timeout", "30s"])

        // Two idle connections fill the cap; a client still gets its token, and the older idle one is closed.
        let older = try #require(await LoopbackConnection.connect(port: server.port))
        try await Task.sleep(for: .milliseconds(100))
        let newer = try #require(await LoopbackConnection.connect(port: server.port))
        try await Task.sleep(for: .milliseconds(100))
        #expect(await Self.timedToken(cli, server.baseURL, client).status == 200)
        #expect(try await older.secondsUntilClosed(limit: 2) != nil, "the longest idle connection was not closed")
        #expect(!newer.isClosedByServer)

        // Two requests in progress (a body still to come) are never closed for a newcomer: it gets 503.
        let body = "grant_type=client_credentials"
        var busy: [LoopbackConnection] = []
        for _ in 0..<2 {
            let connection = try #require(await LoopbackConnection.connect(port: server.port))
            connection.send("POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\ngrant")
            busy.append(connection)
            try await Task.sleep(for: .milliseconds(100))
        }
        let refused = try #require(await LoopbackConnection.connect(port: server.port))
        refused.send(Self.healthz)
        let answer = await refused.receiveResponse()
        #expect(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(answer)")
        #expect(answer.contains("Retry-After: 1\r\n") && answer.contains("Connection: close\r\n"), "\(answer)")
        #expect(answer.contains(#""error":"temporarily_unavailable""#), "\(answer)")
        #expect(try await refused.secondsUntilClosed(limit: 2) != nil)

        // The busy ones finish normally.
        for connection in busy {
            connection.send(String(body.dropFirst(5)))
            let finished = await connection.receiveResponse()
            #expect(finished.hasPrefix("HTTP/1.1 401"), "\(finished.prefix(200))")  // no credentials: invalid_client, but answered
        }
        #expect(await server.stop() == 0)
    }
}

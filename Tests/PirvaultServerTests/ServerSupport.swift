import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PirvaultCore
import PirvaultCrypto
import PirvaultHTTP
import PirvaultJSON
import ServiceLifecycle
import Testing

@testable import PirvaultServer

/// A vault with a running-on-demand server over it, on a free loopback port.
struct ServerFixture: Sendable {
    let directory: String
    let vaultPath: String
    let key: SecretBytes
    let server: PirvaultServer

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        directory = NSTemporaryDirectory() + "pirvault-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        vaultPath = directory + "/vault.db"
        key = SecretBytes.random(count: 32)
        _ = try Vault.create(at: vaultPath, unlock: .keyFile(key))
        var configuration = ServerConfiguration(issuer: "http://127.0.0.1:8080")
        configuration.port = 0
        configure(&configuration)
        server = try PirvaultServer(
            vault: try Vault.open(at: vaultPath, unlock: .keyFile(key)), configuration: configuration,
            logger: Logger(label: "test"))
    }

    /// The CLI's view: a separate process-like connection that changes the vault.
    func cli() throws -> Vault { try Vault.open(at: vaultPath, unlock: .keyFile(key)) }

    func client(_ spec: InstanceSpec) throws -> (id: String, secret: String) {
        let key = try cli().createInstance(spec)
        return (key.clientID, key.clientSecret)
    }

    /// Runs `body` against the live server on a free loopback port, then
    /// stops it gracefully, which flushes the audit log.
    ///
    /// HummingbirdTesting's `.live` gives up on an answer after 20 s, measured
    /// on Swift's cooperative pool. In `swift test` the long synchronous CLI
    /// suites can hold both of that pool's threads (on 2 cores) for minutes,
    /// so the server's tasks and that timer all wait, and the timer fires
    /// the moment the pool frees, before the answer is read. The same client
    /// with a timeout that only a hung server reaches waits instead.
    func run<T: Sendable>(_ body: @Sendable (LiveClient) async throws -> T) async throws -> T {
        let (ports, port) = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(
            configuration: .init(services: [server.makeApplication { port.yield($0) }], logger: Logger(label: "test")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let listening = await iterator.next() else { throw CancellationError() }
            let client = TestClient(host: "127.0.0.1", port: listening, configuration: .init(timeout: .seconds(900)))
            client.connect()
            do {
                let result = try await body(LiveClient(client: client))
                try await client.shutdown()
                await group.triggerGracefulShutdown()
                try await tasks.next()
                return result
            } catch {
                try? await client.shutdown()
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    func auditEvents() throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        try cli().forEachAuditEvent(AuditFilter(newestFirst: false)) { events.append($0) }
        return events
    }
}

func basic(_ id: String, _ secret: String, encode: Bool = false) -> String {
    func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
    }
    let pair = encode ? formEncode(id) + ":" + formEncode(secret) : id + ":" + secret
    return "Basic " + PublicBase64.encode(Array(pair.utf8), .standard)
}

func formHeaders(_ authorization: String? = nil) -> HTTPFields {
    var headers = HTTPFields()
    headers[.contentType] = "application/x-www-form-urlencoded"
    if let authorization { headers[.authorization] = authorization }
    return headers
}

func bearer(_ token: String) -> HTTPFields {
    var headers = HTTPFields()
    headers[.authorization] = "Bearer " + token
    return headers
}

/// A keep-alive HTTP/1.1 client of the server under test.
struct LiveClient: Sendable {
    let client: TestClient

    struct Response: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
    }

    func execute(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> Response {
        var headers = headers
        headers[.connection] = "keep-alive"
        let response = try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
        return Response(status: response.head.status, headers: response.head.headerFields, body: response.body ?? ByteBuffer())
    }
}

func json(_ response: LiveClient.Response) throws -> JSONValue {
    try JSONValue.parse(Array(response.body.readableBytesView))
}

extension LiveClient {
    /// A token for `client` from POST /oauth/token (Basic, raw id).
    func token(_ client: (id: String, secret: String), scope: String? = nil) async throws -> String {
        let body = "grant_type=client_credentials" + (scope.map { "&scope=" + $0 } ?? "")
        let response = try await execute(uri: "/oauth/token", method: .post, headers: formHeaders(basic(client.id, client.secret)), body: ByteBuffer(string: body))
        #expect(response.status == .ok)
        return try json(response)["access_token"]?.stringValue ?? ""
    }
}

struct AuthorizationHeaderTests {
    @Test func parsesSchemesCaseInsensitivelyAndTrims() {
        #expect(FormData.bearerToken("Bearer abc") == "abc")
        #expect(FormData.bearerToken("bearer   abc  ") == "abc")
        #expect(FormData.bearerToken("BEARER abc") == "abc")
        #expect(FormData.bearerToken("Bearer ") == nil)
        #expect(FormData.bearerToken("Basic abc") == nil)
        #expect(FormData.bearerToken("Bearerabc") == nil)
        let basic = "Basic " + PublicBase64.encode(Array("sb-1!b2|it-rt-x!b3:s3cr3t+/=".utf8), .standard)
        #expect(FormData.basicCredentials(basic)?.id == "sb-1!b2|it-rt-x!b3")
        #expect(FormData.basicCredentials(basic)?.secret == "s3cr3t+/=")
        let encoded = "basic " + PublicBase64.encode(Array("sb-1%21b2%7Cit:a%2Bb".utf8), .standard)
        #expect(FormData.basicCredentials(encoded)?.id == "sb-1!b2|it")
        #expect(FormData.basicCredentials(encoded)?.secret == "a+b")
        #expect(FormData.basicCredentials("Basic !!!") == nil)
        #expect(FormData.basicCredentials("Basic " + PublicBase64.encode(Array("no-colon".utf8), .standard)) == nil)
    }
}

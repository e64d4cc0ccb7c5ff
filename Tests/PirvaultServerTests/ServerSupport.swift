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

/// A throw-away SQLite vault, and the CLI's view of it: a separate
/// connection that changes the vault as another process would.
struct TestVault: Sendable {
    let directory: String
    let path: String
    let key: SecretBytes

    init() async throws {
        directory = NSTemporaryDirectory() + "pirvault-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        (path, key) = (directory + "/vault.db", SecretBytes.random(count: 32))
        let (path, key) = (path, key)
        _ = try await SerializedVault.open("test-create") { try Vault.create(at: path, unlock: .keyFile(key), stores: .sqlite) }
    }

    /// A new connection to the vault on a thread of its own.
    func connection(_ name: String) async throws -> SerializedVault {
        let (path, key) = (path, key)
        return try await SerializedVault.open(name) { try Vault.open(at: path, unlock: .keyFile(key), stores: .sqlite) }
    }

    /// Runs `body` on a new connection, as the CLI would.
    func cli<T: Sendable>(_ body: @escaping @Sendable (Vault) throws -> T) async throws -> T {
        try await connection("test-cli").perform(until: nil, body)
    }

    func client(_ spec: InstanceSpec) async throws -> (id: String, secret: String) {
        let key = try await cli { try $0.createInstance(spec) }
        return (key.clientID, key.clientSecret)
    }

    func auditEvents() async throws -> [AuditEvent] {
        try await cli { vault in
            var events: [AuditEvent] = []
            try vault.forEachAuditEvent(AuditFilter(newestFirst: false)) { events.append($0) }
            return events
        }
    }
}

/// A vault with a server over it, driven in process through the router
/// (no socket) or, for what needs a real connection, on a free loopback port.
struct ServerFixture: Sendable {
    let vault: TestVault
    let server: PirvaultServer

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        vault = try await TestVault()
        var configuration = ServerConfiguration(issuer: "http://127.0.0.1:8080")
        configuration.port = 0
        configure(&configuration)
        server = try await PirvaultServer(
            writer: try await vault.connection("test-writer"), configuration: configuration, logger: Logger(label: "test"))
    }

    /// Runs `body` against the server, then stops it gracefully, which
    /// flushes the audit log. `.router` sends requests straight to the
    /// router (as the tests of most routes need); `.live` serves on a free
    /// loopback port, for what needs a connection (the caller's address).
    func run<T: Sendable>(
        _ transport: TestingSetup = .router, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        try await server.makeApplication().test(transport) { client in try await body(client) }
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

func json(_ response: TestResponse) throws -> JSONValue {
    try JSONValue.parse(Array(response.body.readableBytesView))
}

extension TestClientProtocol {
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

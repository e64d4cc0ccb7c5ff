import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import PirvaultCore
import PirvaultCrypto
import PirvaultJSON

/// Where allowed gateway calls are forwarded (`serve --upstream`), and the
/// client credentials to authenticate there (`--upstream-instance`).
public struct UpstreamConfiguration: Sendable {
    /// Base URL; the flow path and query are appended.
    public var url: String
    /// An imported service key: the gateway fetches client_credentials tokens
    /// from its `tokenurl` and sends them upstream instead of the caller's.
    public var serviceKey: ServiceKey?

    public init(url: String, serviceKey: ServiceKey? = nil) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.serviceKey = serviceKey
    }
}

struct UpstreamError: Error, CustomStringConvertible {
    let description: String
}

/// Forwards allowed calls with AsyncHTTPClient and relays the answer.
final class Upstream: Sendable {
    static let forwardedRequestHeaders: Set<String> = [
        "content-type", "content-encoding", "content-language", "accept", "accept-encoding", "accept-language",
        "soapaction",
    ]
    static let relayedResponseHeaders: Set<String> = [
        "content-type", "content-encoding", "content-language", "cache-control", "etag", "last-modified", "location",
    ]
    static let maximumResponseBytes = 16 << 20

    let configuration: UpstreamConfiguration
    let tokens: UpstreamTokens?

    init(_ configuration: UpstreamConfiguration) {
        self.configuration = configuration
        tokens = configuration.serviceKey.map(UpstreamTokens.init)
    }

    func forward(
        method: HTTPRequest.Method, path: String, query: String?, headers: HTTPFields, body: ByteBuffer,
        client: ClientState, requestID: String
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: configuration.url + path + (query.map { "?" + $0 } ?? ""))
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers where Self.forwardedRequestHeaders.contains(field.name.canonicalName) {
            request.headers.add(name: field.name.rawName, value: field.value)
        }
        request.headers.add(name: "X-Request-ID", value: requestID)
        request.headers.add(name: "X-Pirvault-Customer", value: client.customer)
        request.headers.add(name: "X-Pirvault-Instance", value: client.name)
        if let tokens { request.headers.add(name: "Authorization", value: "Bearer " + (try await tokens.token())) }
        if body.readableBytes > 0 { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let responseBody = try await response.body.collect(upTo: Self.maximumResponseBytes)
        var relayed = HTTPFields()
        for (name, value) in response.headers where Self.relayedResponseHeaders.contains(name.lowercased()) {
            if let fieldName = HTTPFields.Element.Name(name) { relayed[fieldName] = value }
        }
        return Reply(status: .init(code: Int(response.status.code)), headers: relayed, body: responseBody)
    }
}

/// A client_credentials token for the upstream, fetched from the imported
/// instance's `tokenurl` and reused until a minute before it expires. One
/// fetch at a time: concurrent callers wait for the same one.
actor UpstreamTokens {
    let key: ServiceKey
    private var cached: (token: String, renewAt: ContinuousClock.Instant)?
    private var fetching: Task<(String, Int), any Error>?

    init(_ key: ServiceKey) { self.key = key }

    func token() async throws -> String {
        if let cached, ContinuousClock.now < cached.renewAt { return cached.token }
        let task = fetching ?? Task { try await Self.fetch(key) }
        fetching = task
        defer { fetching = nil }
        let (token, expiresIn) = try await task.value
        cached = (token, .now + .seconds(max(expiresIn - 60, expiresIn / 2)))
        return token
    }

    /// RFC 6749 §4.4 with HTTP Basic, id and secret form-encoded (§2.3.1).
    static func fetch(_ key: ServiceKey) async throws -> (String, Int) {
        var request = HTTPClientRequest(url: key.tokenURL)
        request.method = .POST
        let encode = { (s: String) in s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }
        let credentials = Array((encode(key.clientID) + ":" + encode(key.clientSecret)).utf8)
        request.headers.add(name: "Authorization", value: "Basic " + Base64.encode(credentials, .standard))
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "grant_type=client_credentials"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 200, let json = try? JSONValue.parse(Array(body.readableBytesView)),
            let token = json["access_token"]?.stringValue
        else {
            throw UpstreamError(description: "the upstream token endpoint answered \(response.status.code)")
        }
        return (token, Int(json["expires_in"]?.integerValue ?? 300))
    }
}

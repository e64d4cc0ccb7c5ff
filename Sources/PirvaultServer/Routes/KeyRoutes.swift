import Hummingbird
import PirvaultCore
import PirvaultJSON

/// The public keys (`/token_keys`, `/.well-known/jwks.json`) and the RFC 8414
/// authorization server metadata.
struct KeyRoutes: Sendable {
    let cache: AuthorizationCache
    let authority: TokenAuthority
    /// The public base URL the metadata names.
    let issuer: String

    var routes: RouteCollection<PirvaultRequestContext> {
        let routes = RouteCollection(context: PirvaultRequestContext.self)
        routes.get("/token_keys") { _, _ in try await jwks() }
        routes.get("/.well-known/jwks.json") { _, _ in try await jwks() }
        // The issuer (the tokens' `iss`) has the path /oauth/token: RFC 8414 §3.1 puts its metadata after the well-known name.
        for path in ["/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/oauth/token"] {
            routes.get(RouterPath(path)) { _, _ in metadata().response }
        }
        return routes
    }

    func jwks() async throws -> Response {
        // Not audited, so no commit confirms the state: read it now.
        _ = try await cache.stateVersion(force: true, newer: .min)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "public, max-age=60"
        return Reply(status: .ok, headers: headers, body: cache.jwks + "\n").response
    }

    /// RFC 8414 authorization server metadata.
    func metadata() -> Reply {
        .json(
            .object([
                ("issuer", .string(authority.issuerClaim)),
                ("token_endpoint", .string(issuer + "/oauth/token")),
                ("jwks_uri", .string(issuer + "/token_keys")),
                ("introspection_endpoint", .string(issuer + "/oauth/introspect")),
                ("revocation_endpoint", .string(issuer + "/oauth/revoke")),
                ("grant_types_supported", JSONValue(["client_credentials"])),
                ("response_types_supported", JSONValue([])),
                ("token_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
                ("introspection_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
                ("revocation_endpoint_auth_methods_supported", JSONValue(["client_secret_basic", "client_secret_post"])),
            ]))
    }
}

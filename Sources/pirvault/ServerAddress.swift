import Foundation

/// Where `serve` listens and which issuer URL tokens name. `serve` and the
/// token commands resolve both here, from the same options and environment
/// (docs/http-api.md), so a token the CLI issues verifies at a server started the
/// same way.
enum ServerAddress {
    static let defaultListen = "127.0.0.1:8080"

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `--listen`, else `PIRVAULT_LISTEN`, else 127.0.0.1:8080.
    static func listen(_ option: String?) -> String {
        option ?? environment["PIRVAULT_LISTEN"] ?? defaultListen
    }

    /// `--issuer`, else `PIRVAULT_ISSUER`, else http://<listen> (https://
    /// when `tls`); never with a trailing slash.
    static func issuer(_ option: String?, listen: String, tls: Bool) -> String {
        let url = explicitIssuer(option) ?? "\(tls ? "https" : "http")://\(listen)"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Whether `serve` started with this environment serves TLS: the token
    /// commands' guess for the issuer's scheme (`serve --tls-cert` alone
    /// cannot be seen from here).
    static var tlsFromEnvironment: Bool { environment["PIRVAULT_TLS_CERT"] != nil }

    /// `--issuer`, else `PIRVAULT_ISSUER`, else nil.
    static func explicitIssuer(_ option: String?) -> String? {
        option ?? environment["PIRVAULT_ISSUER"]
    }
}

import Foundation

/// Checks on what users type. Each failure is a `VaultError.invalidInput`
/// that says what is allowed.
enum Validation {
    static let tokenTTLRange = 60...86_400

    /// Text safe to echo in a message: control characters escaped, at most 64 characters.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(64) {
            out += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return text.unicodeScalars.count > 64 ? out + "…" : out
    }

    /// Instance names: 1–64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit.
    static func instanceName(_ name: String) throws {
        let bytes = Array(name.utf8)
        let allowed = { (b: UInt8) in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E
                || b == 0x5F || b == 0x2D
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), bytes[0] != 0x2E, bytes[0] != 0x5F,
            bytes[0] != 0x2D
        else {
            throw VaultError.invalidInput(
                "invalid instance name '\(printable(name))'; use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// Customer names are free text: 1–128 characters, no control characters,
    /// no leading or trailing spaces.
    static func customerName(_ name: String) throws {
        guard (1...128).contains(name.count),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
            name.trimmingCharacters(in: .whitespaces) == name
        else {
            throw VaultError.invalidInput(
                "invalid customer name '\(printable(name))'; use 1–128 characters without control characters or surrounding spaces")
        }
    }

    static func tokenTTL(_ seconds: Int) throws {
        guard tokenTTLRange.contains(seconds) else {
            throw VaultError.invalidInput(
                "token lifetime \(seconds) s is out of range; use \(tokenTTLRange.lowerBound)–\(tokenTTLRange.upperBound) seconds")
        }
    }

    /// Redirect URIs must be absolute https URLs, or http on a loopback host
    /// (RFC 8252 §7.3), without a fragment.
    static func redirectURI(_ text: String) throws {
        let problem = "invalid redirect URI '\(printable(text))'; use an absolute https URL, or http on 127.0.0.1, [::1] or localhost"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty, components.fragment == nil,
            components.user == nil, components.password == nil
        else { throw VaultError.invalidInput(problem) }
        switch scheme {
        case "https": return
        case "http" where ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host): return
        default: throw VaultError.invalidInput(problem)
        }
    }

    /// Service URLs (`url`, `tokenurl`): absolute https, or http on a loopback host.
    static func serviceURL(_ text: String, what: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty, components.user == nil,
            components.password == nil, components.fragment == nil,
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host))
        else {
            throw VaultError.invalidInput(
                "invalid \(what) '\(printable(text))'; use an absolute https URL (or http on a loopback host)")
        }
    }

    /// Normalises a flow pattern to the form relative to `/http/` and checks it:
    /// segments of letters, digits, `.`, `_`, `~`, `-` and the wildcard `*`;
    /// no empty, `.` or `..` segment.
    static func flowPattern(_ text: String) throws -> String {
        var pattern = text
        if pattern.hasPrefix("/http/") { pattern.removeFirst(6) }
        let problem =
            "invalid flow pattern '\(printable(text))'; use a path relative to /http/ such as 'products/details', 'products/*' or '*'"
        guard !pattern.isEmpty, pattern.utf8.count <= 256, !pattern.hasPrefix("/") else {
            throw VaultError.invalidInput(problem)
        }
        for segment in pattern.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != "..",
                segment.utf8.allSatisfy({ b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                        || b == 0x2E || b == 0x5F || b == 0x7E || b == 0x2D || b == 0x2A
                })
            else { throw VaultError.invalidInput(problem) }
        }
        return pattern
    }

    /// Adds `item` to `list` unless present; the order of first mention is kept.
    static func appendingUnique<Item: Equatable>(_ list: [Item], _ items: [Item]) -> [Item] {
        var out = list
        for item in items where !out.contains(item) { out.append(item) }
        return out
    }
}

import PirvaultCrypto

/// `application/x-www-form-urlencoded` parameters (form body and query
/// string) and HTTP Basic credentials, parsed strictly.
public struct FormData {
    public private(set) var pairs: [(String, String)] = []

    public struct Invalid: Error {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public init() {}

    /// Parses `a=1&b=x+y%21`. Refuses bad percent-escapes and invalid UTF-8.
    public init(_ text: Substring) throws {
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.decode(kv[0]), let value = Self.decode(kv.count > 1 ? kv[1] : "") else {
                throw Invalid(description: "malformed form encoding")
            }
            pairs.append((key, value))
        }
    }

    public mutating func merge(_ other: FormData) { pairs += other.pairs }

    /// The one value of `name`; a parameter given twice is refused (RFC 6749 §3.2).
    public func single(_ name: String) throws -> String? {
        let values = pairs.filter { $0.0 == name }
        guard values.count <= 1 else { throw Invalid(description: "parameter '\(name)' is given more than once") }
        return values.first?.1
    }

    /// Form decoding: `+` is a space, `%XX` a byte.
    static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(), let h = hex(high), let l = hex(low) else { return nil }
                bytes.append(h << 4 | l)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// `Basic base64(id:secret)`. RFC 6749 §2.3.1 asks clients to form-encode
    /// id and secret first, but many send them raw (and real client ids hold
    /// `!` and `|`): values with a `%` are form-decoded, others taken as sent.
    public static func basicCredentials(_ header: String) -> (id: String, secret: String)? {
        guard let encoded = credentials(header, scheme: "basic ") else { return nil }
        guard let decoded = PublicBase64.decode(encoded, .standard), let text = String(validating: decoded, as: UTF8.self),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let rawID = text[..<colon]
        let rawSecret = text[text.index(after: colon)...]
        func value(_ raw: Substring) -> String? { raw.contains("%") ? decode(raw) : String(raw) }
        guard let id = value(rawID), let secret = value(rawSecret), !id.isEmpty else { return nil }
        return (id, secret)
    }

    /// `Bearer <token>`.
    public static func bearerToken(_ header: String) -> String? {
        credentials(header, scheme: "bearer ")
    }

    /// What follows `scheme` (case-insensitive, ending in a space) in an
    /// Authorization header, without surrounding spaces; nil when empty or
    /// another scheme. Works on bytes: Foundation's trimming converts to
    /// UTF-16 and showed up in profiles of the gateway.
    private static func credentials(_ header: String, scheme: String) -> String? {
        let bytes = Array(header.utf8)
        let prefix = Array(scheme.utf8)
        // ASCII case folding (| 0x20) applies to the letters only: folded, a
        // NUL would pass for the space that ends the scheme.
        guard bytes.count > prefix.count,
            zip(bytes, prefix).allSatisfy({ $0 == $1 || ($1 != 0x20 && $0 | 0x20 == $1) })
        else { return nil }
        var start = prefix.count
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        guard start < end else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

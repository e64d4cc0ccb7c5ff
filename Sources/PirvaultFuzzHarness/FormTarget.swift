import PirvaultCrypto
import PirvaultHTTP

/// Feeds the same text to the form parser (token endpoint bodies and query
/// strings) and the Authorization header parsers.
///
/// Invariants: parsed form pairs, encoded again, parse to the same pairs;
/// HTTP Basic credentials are only taken from a header that starts with
/// `Basic ` and, encoded again, give the same id and secret; a bearer token
/// only from a header that starts with `Bearer `, non-empty and without
/// surrounding white space.
enum FormTarget {
    static func check(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        if let form = try? FormData(Substring(text)) {
            let encoded = form.pairs.map { formEncode($0) + "=" + formEncode($1) }.joined(separator: "&")
            guard let again = try? FormData(Substring(encoded)), same(again.pairs, form.pairs) else {
                throw InvariantViolation("form pairs \(form.pairs) do not survive encoding as \(encoded.debugDescription)")
            }
        }
        if let basic = FormData.basicCredentials(text) {
            guard hasScheme(text, "basic") else {
                throw InvariantViolation("took HTTP Basic credentials from \(text.debugDescription)")
            }
            let header = "Basic " + Base64.encode(Array((formEncode(basic.id) + ":" + formEncode(basic.secret)).utf8), .standard)
            guard let again = FormData.basicCredentials(header), same([again], [basic]) else {
                throw InvariantViolation("HTTP Basic \(basic) does not survive encoding as \(header.debugDescription)")
            }
        }
        if let token = FormData.bearerToken(text) {
            guard hasScheme(text, "bearer"), let first = token.utf8.first, let last = token.utf8.last,
                ![0x20, 0x09].contains(first), ![0x20, 0x09].contains(last)
            else {
                throw InvariantViolation("took bearer token \(token.debugDescription) from \(text.debugDescription)")
            }
        }
    }

    /// Lower-case `scheme` in any ASCII case, then a space (RFC 9110 §11.4).
    private static func hasScheme(_ header: String, _ scheme: String) -> Bool {
        let bytes = Array(header.utf8)
        let lowered = bytes.prefix(scheme.utf8.count).map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        return bytes.count > scheme.utf8.count && lowered.elementsEqual(scheme.utf8) && bytes[scheme.utf8.count] == 0x20
    }

    /// Percent-encodes every byte but RFC 3986's unreserved ones.
    private static func formEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Byte equality: Swift's `==` on strings is Unicode canonical equivalence.
    private static func same(_ a: [(String, String)], _ b: [(String, String)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && $0.1.utf8.elementsEqual($1.1.utf8) }
    }
}

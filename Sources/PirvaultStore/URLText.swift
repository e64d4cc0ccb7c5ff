/// The small pieces of URL syntax that ``PostgresLocation`` needs: splitting
/// at a separator, and percent-encoding and -decoding (RFC 3986).
enum URLText {
    /// The text before the first `separator`, and the text after it (nil when there is none).
    static func split(_ text: Substring, at separator: Character) -> (Substring, Substring?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (text[..<index], text[text.index(after: index)...])
    }

    /// Decodes `%XX` escapes; the result must be UTF-8.
    static func decode(_ text: Substring, part: String) throws -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.popFirst().flatMap(hexValue), let low = utf8.popFirst().flatMap(hexValue) else {
                throw VaultLocationError.badPercentEncoding(part: part)
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw VaultLocationError.badPercentEncoding(part: part)
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Escapes every byte but ASCII letters, digits, `-._~` and those in `keeping`.
    static func encode(_ text: String, keeping: String = "") -> String {
        let kept = Set("-._~" + keeping).union("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var result = ""
        for byte in text.utf8 {
            if byte < 0x80, kept.contains(Character(Unicode.Scalar(byte))) {
                result.append(Character(Unicode.Scalar(byte)))
            } else {
                result += (byte < 0x10 ? "%0" : "%") + String(byte, radix: 16, uppercase: true)
            }
        }
        return result
    }
}

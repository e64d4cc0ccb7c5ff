internal import CSodium

/// Base64 through libsodium, which decodes strictly (no stray characters, no
/// missing or extra padding) and in constant time.
public enum Base64 {
    public enum Variant: Sendable {
        /// RFC 4648 §5 without padding: JWTs, client secrets, opaque tokens.
        case urlSafeNoPadding
        /// RFC 4648 §4 with padding: checkpoints and proofs.
        case standard

        var sodiumVariant: Int32 {
            switch self {
            case .urlSafeNoPadding: return sodium_base64_VARIANT_URLSAFE_NO_PADDING
            case .standard: return sodium_base64_VARIANT_ORIGINAL
            }
        }
    }

    public static func encode(_ bytes: UnsafeRawBufferPointer, _ variant: Variant) -> String {
        var out: [UInt8] = []
        append(bytes, variant, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `bytes` to `out` (no intermediate string).
    public static func append(_ bytes: UnsafeRawBufferPointer, _ variant: Variant, to out: inout [UInt8]) {
        ensureSodium()
        // The length libsodium asks for counts a terminating NUL.
        let capacity = sodium_base64_encoded_len(bytes.count, variant.sodiumVariant)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: capacity))
        out.withUnsafeMutableBufferPointer { buffer in
            (buffer.baseAddress! + start).withMemoryRebound(to: CChar.self, capacity: capacity) { chars in
                _ = sodium_bin2base64(
                    chars, capacity, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                    variant.sodiumVariant)
            }
        }
        out.removeLast()
    }

    public static func encode(_ bytes: [UInt8], _ variant: Variant) -> String {
        bytes.withUnsafeBytes { encode($0, variant) }
    }

    /// Decodes `text`, or returns nil when it is not exactly valid in `variant`.
    public static func decode(_ text: some StringProtocol, _ variant: Variant) -> [UInt8]? {
        decode(bytes: ArraySlice(text.utf8), variant)
    }

    /// Decodes the Base64 text in `input`, or returns nil when it is not exactly valid in `variant`.
    public static func decode(bytes input: ArraySlice<UInt8>, _ variant: Variant) -> [UInt8]? {
        ensureSodium()
        var out = [UInt8](repeating: 0, count: input.count * 3 / 4 + 3)
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let rc = input.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                let rc = sodium_base642bin(
                    &out, out.count, chars.baseAddress, chars.count, nil, &written, &end, variant.sodiumVariant)
                // Reject trailing bytes libsodium stopped at.
                if rc == 0, let end, end != chars.baseAddress! + chars.count { return Int32(-1) }
                return rc
            }
        }
        guard rc == 0 else { return nil }
        return Array(out[0..<written])
    }
}

/// Table-driven Base64 for public data only (hashes, signatures, JWT
/// segments): fast, but its timing depends on the bytes, so never use it for
/// keys or secrets — those go through `Base64`, which is libsodium's
/// constant-time codec.
public enum PublicBase64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardDecoding = decodingTable(standardAlphabet)
    private static let urlDecoding = decodingTable(urlAlphabet)

    private static func decodingTable(_ alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }

    public static func append(_ bytes: UnsafeRawBufferPointer, _ variant: Base64.Variant, to out: inout [UInt8]) {
        let padding = variant == .standard
        let full = bytes.count / 3
        let rest = bytes.count - full * 3
        let length = full * 4 + (rest == 0 ? 0 : padding ? 4 : rest + 1)
        let start = out.count
        // Grown once and written through a pointer: a JWT is about 1,400 characters.
        out.append(contentsOf: repeatElement(0, count: length))
        (variant == .standard ? standardAlphabet : urlAlphabet).withUnsafeBufferPointer { alphabet in
            out.withUnsafeMutableBufferPointer { buffer in
                var o = buffer.baseAddress! + start
                var i = 0
                for _ in 0..<full {
                    let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    o[0] = alphabet[Int(n >> 18 & 63)]
                    o[1] = alphabet[Int(n >> 12 & 63)]
                    o[2] = alphabet[Int(n >> 6 & 63)]
                    o[3] = alphabet[Int(n & 63)]
                    o += 4
                    i += 3
                }
                guard rest > 0 else { return }
                let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                o[0] = alphabet[Int(n >> 18 & 63)]
                o[1] = alphabet[Int(n >> 12 & 63)]
                if rest == 2 { o[2] = alphabet[Int(n >> 6 & 63)] }
                if padding {
                    if rest == 1 { o[2] = UInt8(ascii: "=") }
                    o[3] = UInt8(ascii: "=")
                }
            }
        }
    }

    public static func encode(_ bytes: [UInt8], _ variant: Base64.Variant) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { append($0, variant, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict decoding: canonical padding (standard) or none (URL-safe), no
    /// stray characters, and unused trailing bits must be zero.
    public static func decode(_ input: ArraySlice<UInt8>, _ variant: Base64.Variant) -> [UInt8]? {
        let table = variant == .standard ? standardDecoding : urlDecoding
        var end = input.endIndex
        if variant == .standard {
            guard input.count % 4 == 0 else { return nil }
            if end > input.startIndex, input[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if end > input.startIndex, input[end - 1] == UInt8(ascii: "=") { end -= 1 }
        } else if input.count % 4 == 1 {
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var i = input.startIndex
        while i < end {
            let value = table[Int(input[i])]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
            i += 1
        }
        // Leftover bits must be zero (canonical encoding).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        if variant == .standard, (end - input.startIndex) % 4 == 1 { return nil }
        return out
    }

    public static func decode(_ text: some StringProtocol, _ variant: Base64.Variant) -> [UInt8]? {
        decode(ArraySlice(text.utf8), variant)
    }
}

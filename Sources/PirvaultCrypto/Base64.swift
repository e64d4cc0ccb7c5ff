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

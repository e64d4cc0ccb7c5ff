/// Checks that bytes are already in RFC 8785 canonical form, without building
/// a JSON tree: no white space, members in UTF-16 order without duplicates,
/// strings escaped exactly as canonical serialisation writes them, numbers
/// as plain integers. Canonical events hold only strings and integers (in
/// objects and arrays), so other numbers are refused.
///
/// Used to check exported audit events: equivalent to "parse, re-serialise,
/// compare", at a fraction of the cost.
public enum CanonicalJSON {
    public static func isCanonical(_ bytes: ArraySlice<UInt8>) -> Bool {
        var scanner = Scanner(bytes: bytes)
        guard scanner.value(depth: 0) else { return false }
        return scanner.position == bytes.endIndex
    }

    /// The integer value of the top-level member `name` of a canonical
    /// object, or nil when there is none (or the text is not canonical).
    public static func integerMember(_ name: String, in bytes: ArraySlice<UInt8>) -> Int64? {
        var scanner = Scanner(bytes: bytes)
        guard scanner.current == UInt8(ascii: "{") else { return nil }
        scanner.position += 1
        let wanted = Array(name.utf8)
        while scanner.current == UInt8(ascii: "\"") {
            guard let key = scanner.string(), scanner.current == UInt8(ascii: ":") else { return nil }
            scanner.position += 1
            let valueStart = scanner.position
            guard scanner.value(depth: 1) else { return nil }
            if key.elementsEqual(wanted) { return Scanner.int64(bytes[valueStart..<scanner.position]) }
            guard scanner.current == UInt8(ascii: ",") else { return nil }
            scanner.position += 1
        }
        return nil
    }

    private struct Scanner {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        var current: UInt8? { position < bytes.endIndex ? bytes[position] : nil }

        mutating func literal(_ text: String) -> Bool {
            for byte in text.utf8 {
                guard current == byte else { return false }
                position += 1
            }
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < JSONValue.maxDepth, let c = current else { return false }
            switch c {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return integer()
            }
        }

        mutating func object(depth: Int) -> Bool {
            position += 1
            if current == UInt8(ascii: "}") {
                position += 1
                return true
            }
            var previous: ArraySlice<UInt8>? = nil
            while true {
                guard current == UInt8(ascii: "\""), let key = string() else { return false }
                if let previous, !Self.precedes(previous, key) { return false }
                previous = key
                guard current == UInt8(ascii: ":") else { return false }
                position += 1
                guard value(depth: depth + 1) else { return false }
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return true
                default: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            position += 1
            if current == UInt8(ascii: "]") {
                position += 1
                return true
            }
            while true {
                guard value(depth: depth + 1) else { return false }
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return true
                default: return false
                }
            }
        }

        /// -?(0|[1-9][0-9]*), within Int64.
        mutating func integer() -> Bool {
            let start = position
            if current == UInt8(ascii: "-") { position += 1 }
            guard let first = current, first >= 0x30, first <= 0x39 else { return false }
            position += 1
            if first == 0x30 {
                if position - start == 2 { return false }  // "-0"
            } else {
                while let c = current, c >= 0x30, c <= 0x39 { position += 1 }
            }
            if let c = current, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return false }
            return Self.int64(bytes[start..<position]) != nil
        }

        /// Decimal digits with an optional minus sign, within Int64.
        static func int64(_ digits: ArraySlice<UInt8>) -> Int64? {
            var value: Int64 = 0
            var negative = false
            var sawDigit = false
            for (offset, byte) in digits.enumerated() {
                if offset == 0 && byte == UInt8(ascii: "-") {
                    negative = true
                    continue
                }
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                let digit = Int64(byte - 0x30)
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = next
                sawDigit = true
            }
            return sawDigit ? value : nil
        }

        /// A canonically escaped string; returns its raw bytes (for key order).
        mutating func string() -> ArraySlice<UInt8>? {
            position += 1
            let start = position
            while let c = current {
                switch c {
                case UInt8(ascii: "\""):
                    let raw = bytes[start..<position]
                    position += 1
                    // ASCII needs no further check; anything else must be valid UTF-8.
                    if !raw.allSatisfy({ $0 < 0x80 }) {
                        guard raw.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) != nil else { return nil }
                    }
                    return raw
                case UInt8(ascii: "\\"):
                    position += 1
                    guard let e = current else { return nil }
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        // Only controls without a short form, as \u00xx in lower case.
                        guard position + 4 <= bytes.endIndex, bytes[position] == 0x30, bytes[position + 1] == 0x30
                        else { return nil }
                        let high = bytes[position + 2]
                        let low = bytes[position + 3]
                        guard high == 0x30 || high == 0x31,
                            (low >= 0x30 && low <= 0x39) || (low >= 0x61 && low <= 0x66)
                        else { return nil }
                        let value = (high - 0x30) << 4 | (low <= 0x39 ? low - 0x30 : low - 0x61 + 10)
                        guard ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(value) else { return nil }
                        position += 4
                    default: return nil
                    }
                case 0x00..<0x20: return nil
                default: position += 1
                }
            }
            return nil
        }

        /// UTF-16 order of two raw (escaped) keys. Escapes only stand for
        /// controls, "\"" and "\\", which sort the same way escaped or not
        /// relative to other characters only in rare cases, so escaped keys
        /// are compared decoded.
        static func precedes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
            if !a.contains(UInt8(ascii: "\\")) && !b.contains(UInt8(ascii: "\\")) {
                let plain = { (s: ArraySlice<UInt8>) in s.allSatisfy { $0 < 0xF0 } }
                if plain(a) && plain(b) { return a.lexicographicallyPrecedes(b) }
            }
            guard let x = try? JSONValue.parse(Array("\"".utf8) + a + Array("\"".utf8)).stringValue,
                let y = try? JSONValue.parse(Array("\"".utf8) + b + Array("\"".utf8)).stringValue
            else { return false }
            return x.utf16.lexicographicallyPrecedes(y.utf16)
        }
    }
}

/// Serialisation of `JSONValue`: compact in member order, canonical (RFC 8785),
/// or indented for people.
extension JSONValue {
    /// RFC 8785 (JCS): members sorted by UTF-16 code units, no white space,
    /// strings escaped as ECMAScript's `JSON.stringify` does. pirvault's
    /// canonical objects hold only strings, integers, booleans and null, whose
    /// JCS form is exact; a non-integer number is written in Swift's shortest
    /// round-trip form.
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out, canonical: true)
        return out
    }

    public func canonicalString() -> String {
        String(decoding: canonicalBytes(), as: UTF8.self)
    }

    /// Compact, members in their given order.
    public func compactString() -> String {
        var out: [UInt8] = []
        write(into: &out, canonical: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// Indented by two spaces per level, members in their given order.
    public func prettyString() -> String {
        var out: [UInt8] = []
        writePretty(into: &out, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    func write(into out: inout [UInt8], canonical: Bool) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .integer(let i): out += String(i).utf8
        case .number(let d): out += Self.numberText(d).utf8
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out, canonical: canonical)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            let ordered = canonical ? members.sorted { Self.canonicallyPrecedes($0.0, $1.0) } : members
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in ordered.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out, canonical: canonical)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    func writePretty(into out: inout [UInt8], indent: Int) {
        let pad = { (level: Int) in [UInt8](repeating: UInt8(ascii: " "), count: level * 2) }
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n".utf8
            for (i, item) in items.enumerated() {
                out += pad(indent + 1)
                item.writePretty(into: &out, indent: indent + 1)
                out += (i + 1 < items.count ? ",\n" : "\n").utf8
            }
            out += pad(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out += "{\n".utf8
            for (i, (key, value)) in members.enumerated() {
                out += pad(indent + 1)
                Self.writeString(key, into: &out)
                out += ": ".utf8
                value.writePretty(into: &out, indent: indent + 1)
                out += (i + 1 < members.count ? ",\n" : "\n").utf8
            }
            out += pad(indent)
            out.append(UInt8(ascii: "}"))
        default:
            write(into: &out, canonical: false)
        }
    }

    /// RFC 8785 §3.2.3 orders member names by UTF-16 code units. For names
    /// without supplementary characters that is the same as UTF-8 byte order,
    /// which is much cheaper to compare.
    static func canonicallyPrecedes(_ a: String, _ b: String) -> Bool {
        if a.utf8.allSatisfy({ $0 < 0xF0 }) && b.utf8.allSatisfy({ $0 < 0xF0 }) {
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    static func numberText(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// ECMAScript JSON string escaping: `"` `\` and the C0 controls; the
    /// short forms where they exist, else `\u00xx` in lower-case hex.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var text = s
        text.withUTF8 { writeString(utf8: UnsafeRawBufferPointer($0), into: &out) }
    }

    /// `writeString` for text given as its UTF-8 bytes (a stored cell's),
    /// which are copied as they are.
    public static func writeString(utf8 bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them in one go.
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x00..<0x20:
                out += "\\u00".utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

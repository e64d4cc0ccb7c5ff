/// A flow endpoint path under `/http/`, checked and split into segments.
public struct FlowPath: Sendable, Equatable {
    /// Percent-decoded segments after `/http/`.
    public let segments: [String]

    public var path: String { "/http/" + segments.joined(separator: "/") }

    /// Parses `/http/a/b` (a query string is ignored). Refuses anything else,
    /// `.`/`..` or empty segments, and encodings that hide them (`%2e%2e`, `%2f`).
    public init(_ text: String) throws(Refusal) {
        var path = Substring(text)
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        guard path.hasPrefix("/http/"), path.utf8.count <= 2048 else { throw .invalidFlowPath }
        var segments: [String] = []
        for raw in path.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false) {
            guard let segment = Self.percentDecode(raw), !segment.isEmpty, segment != ".", segment != "..",
                !segment.contains("/"), !segment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { throw .invalidFlowPath }
            segments.append(segment)
        }
        self.segments = segments
    }

    /// The full gateway path for a flow path a user typed: the CLI lets
    /// `/http/products/details` and `products/details` mean the same wherever
    /// one flow path is taken (`token verify --flow`, `audit … --flow`). Only
    /// the spelling is completed here; `init` still checks the result.
    public static func gatewayPath(userInput text: String) -> String {
        text.hasPrefix("/") ? text : "/http/" + text
    }

    static func percentDecode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Whether an instance's flow pattern (relative to `/http/`) covers this path.
    /// `*` inside a segment matches any characters of that segment; a final `*`
    /// segment matches one or more remaining segments (`products/*` covers
    /// `products/a` and `products/a/b`, not `products`).
    public func matches(pattern: String) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if part == "*" && index == parts.count - 1 { return segments.count > index }
            guard index < segments.count, Self.glob(part, segments[index]) else { return false }
        }
        return segments.count == parts.count
    }

    /// Matches `*` against any run of characters within one segment.
    static func glob(_ pattern: Substring, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

import Testing

@testable import PirvaultJSON

struct CanonicalJSONTests {
    /// RFC 8785 §3.2.2 style: members sorted by UTF-16 code units, no white space.
    @Test func sortsMembersByUTF16CodeUnits() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": [true, null, "x"], "\u20ac": 2, "\ud83d\ude00": 3, "\u00e9": 4}"#)
        // U+00E9 < U+20AC < U+D83D (high surrogate of U+1F600) in UTF-16 order.
        #expect(value.canonicalString() == #"{"a":[true,null,"x"],"b":1,"é":4,"€":2,"😀":3}"#)
    }

    @Test func escapesLikeECMAScript() {
        let value = JSONValue.string("quote\" backslash\\ slash/ tab\t nl\n cr\r bs\u{08} ff\u{0C} nul\u{00} us\u{1F} del\u{7F} é")
        #expect(
            value.canonicalString()
                == #""quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f nul\u0000 us\u001f del"# + "\u{7F} é\"")
    }

    @Test func writesIntegersPlainly() {
        #expect(JSONValue.array([.integer(0), .integer(-5), .integer(Int64.max)]).canonicalString() == "[0,-5,9223372036854775807]")
    }

    @Test func omitsNilMembers() {
        let value = JSONValue.object(omittingNils: [("a", .string("x")), ("b", nil)])
        #expect(value.canonicalString() == #"{"a":"x"}"#)
    }

    @Test func canonicalFormRoundTripsThroughTheParser() throws {
        let text = #"{"event":"token.issue","latency_us":812,"nested":{"z":[1,2],"a":"\u0001"}}"#
        let once = try JSONValue.parse(text).canonicalString()
        #expect(try JSONValue.parse(once).canonicalString() == once)
    }

    @Test func prettyPrintKeepsMemberOrder() {
        let value = JSONValue.object([("z", .integer(1)), ("a", .array([]))])
        #expect(value.prettyString() == "{\n  \"z\": 1,\n  \"a\": []\n}")
    }
}

struct JSONParserTests {
    @Test func parsesTheUsualValues() throws {
        let value = try JSONValue.parse(#" {"s": "a\"b", "i": -12, "d": 1.5e2, "t": true, "f": false, "n": null, "a": [1, {}]} "#)
        #expect(value["s"] == .string("a\"b"))
        #expect(value["i"] == .integer(-12))
        #expect(value["d"] == .number(150))
        #expect(value["t"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["a"] == .array([.integer(1), .object([])]))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    static let malformed: [(String, [UInt8])] = [
        ("empty", []),
        ("trailing data", Array("{} {}".utf8)),
        ("duplicate key", Array(#"{"a":1,"a":2}"#.utf8)),
        ("unterminated string", Array(#""abc"#.utf8)),
        ("control character", Array("\"a\u{01}b\"".utf8)),
        ("invalid UTF-8", [0x22, 0xC3, 0x28, 0x22]),
        ("overlong UTF-8", [0x22, 0xC0, 0xAF, 0x22]),
        ("lone high surrogate", Array(#""\ud800""#.utf8)),
        ("lone low surrogate", Array(#""\udc00""#.utf8)),
        ("bad escape", Array(#""\x""#.utf8)),
        ("leading zero", Array("012".utf8)),
        ("bare minus", Array("-".utf8)),
        ("trailing comma", Array("[1,]".utf8)),
        ("single quotes", Array("{'a':1}".utf8)),
        ("NaN", Array("NaN".utf8)),
        ("huge exponent", Array("1e999".utf8)),
        ("unquoted key", Array("{a:1}".utf8)),
        ("too deep", Array(String(repeating: "[", count: 65).utf8) + Array(String(repeating: "]", count: 65).utf8)),
    ]

    @Test(arguments: malformed.map(\.0))
    func rejectsMalformedInput(_ name: String) {
        let bytes = Self.malformed.first { $0.0 == name }!.1
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }

    @Test func acceptsNestingUpToTheLimit() throws {
        let depth = JSONValue.maxDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: Never.self) { try JSONValue.parse(text) }
    }

    @Test func largeIntegersFallBackToDoubles() throws {
        #expect(try JSONValue.parse("92233720368547758070") == .number(9.223372036854775807e19))
    }
}

struct CanonicalCheckTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"{"a":1,"b":[true,false,null],"c":{"d":"x"}}"#, #"{"a":"\u0001\n\"\\"}"#, #""é€😀""#,
        #"-5"#, #"0"#, #"{"a":"","b":-9223372036854775808}"#, #"{"\u000f":1,"a":2}"#,
    ])
    func acceptsCanonicalText(_ text: String) throws {
        #expect(CanonicalJSON.isCanonical(ArraySlice(text.utf8)))
        #expect(try JSONValue.parse(text).canonicalString() == text)
    }

    @Test(arguments: [
        #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{ "a":1}"#, #"{"a": 1}"#, #"[1 ,2]"#, #"{"a":1.5}"#, #"{"a":1e3}"#,
        #"{"a":01}"#, #"{"a":-0}"#, #""\/""#, #""\u0041""#, #""\u000A""#, #""\u001F""#, #""a"#, #"{"a":1}x"#,
        #"{"a":99999999999999999999}"#, "\"\u{1}\"", #""\x""#, #"{"a":}"#, #"nul"#,
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(!CanonicalJSON.isCanonical(ArraySlice(text.utf8)), "\(text)")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(!CanonicalJSON.isCanonical([0x22, 0xC3, 0x28, 0x22]))
    }

    @Test func findsTopLevelIntegerMembers() {
        let text = ArraySlice(#"{"nested":{"seq":9},"seq":42,"xseq":1}"#.utf8)
        #expect(CanonicalJSON.integerMember("seq", in: text) == 42)
        #expect(CanonicalJSON.integerMember("xseq", in: text) == 1)
        #expect(CanonicalJSON.integerMember("nested", in: text) == nil)
        #expect(CanonicalJSON.integerMember("absent", in: text) == nil)
    }
}

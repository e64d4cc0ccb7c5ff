import Foundation

/// The parsers and verifiers that take untrusted bytes, each with the
/// invariants its input must never break. libFuzzer drives `fuzz` (Fuzz/),
/// the regression tests replay the committed corpus through `check`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// JWT parsing and the token verifier, against the fixture vault.
    case jwt
    /// Form bodies and query strings, HTTP Basic and Bearer headers.
    case form
    /// The service-key importer and the strict JSON parser under it.
    case serviceKey = "service-key"
    /// Durations and points in time as users type them.
    case time
    /// The offline verifier of audit exports.
    case export

    /// Throws when `input` breaks an invariant; a bug in the code under test
    /// may also trap, which libFuzzer records as a crash.
    public func check(_ input: [UInt8]) throws(InvariantViolation) {
        switch self {
        case .jwt: try JWTTarget.shared.check(input)
        case .form: try FormTarget.check(input)
        case .serviceKey: try ServiceKeyTarget.check(input)
        case .time: try TimeTarget.check(input)
        case .export: try ExportTarget.shared.check(input)
        }
    }

    /// The body of `LLVMFuzzerTestOneInput`: an invariant violation traps,
    /// so libFuzzer saves the input as a crash.
    public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        do {
            try check(input)
        } catch {
            fatalError("\(rawValue): \(error.description)")
        }
        return 0
    }
}

/// An input that made a target misbehave without crashing it.
public struct InvariantViolation: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// Whether `text` holds a C0 or C1 control character: messages that name
/// user input go to terminals and logs, one line each, with controls escaped.
func containsControl(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.properties.generalCategory == .control }
}

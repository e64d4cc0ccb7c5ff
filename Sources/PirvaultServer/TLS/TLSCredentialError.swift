/// A TLS certificate or key file that `serve` will not use: one line that
/// names the file, says what is wrong and what to do. It never holds
/// anything read from a key file.
public struct TLSCredentialError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

internal import CSodium

/// Errors from the crypto layer. Descriptions never contain key material or plaintext.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A sealed value did not open: wrong key, wrong associated data, or altered bytes.
    /// One generic case on purpose, so callers cannot learn which of these it was.
    case authenticationFailed
    /// An input had the wrong size for the primitive it was given to.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Argon2id could not run with these parameters (usually: not enough memory).
    case keyDerivationFailed
    /// Text that should have been Base64 was not.
    case invalidEncoding(what: String)
    /// An RSA key of a size pirvault does not sign or verify with (nil: so
    /// short that swift-crypto would not even read it).
    case unsupportedRSAKeySize(bits: Int?)
    /// Bytes that should have been a key of the named kind were not; `what`
    /// names the kind and its encoding, never the bytes.
    case invalidKey(what: String)

    public var description: String {
        switch self {
        case .authenticationFailed:
            return "decryption failed (wrong key, or the data was altered)"
        case .invalidLength(let what, let expected, let actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case .keyDerivationFailed:
            return "passphrase key derivation failed (not enough memory for the stored Argon2id parameters?)"
        case .invalidEncoding(let what):
            return "\(what) is not valid Base64"
        case .unsupportedRSAKeySize(let bits):
            let allowed = "use 2048, 3072 or 4096 bits"
            guard let bits else { return "the RSA key is too short to sign tokens; \(allowed)" }
            if bits < 2048 { return "RSA \(bits) is too short to sign tokens; \(allowed)" }
            return "RSA \(bits) is not a supported key size; \(allowed)"
        case .invalidKey(let what):
            return "\(what) is not a valid key"
        }
    }
}

/// libsodium must be initialised once per process before any other call.
/// A Swift global is initialised lazily and exactly once, even across threads.
private let sodiumInitialised: Bool = sodium_init() >= 0

@inline(__always)
func ensureSodium() {
    precondition(sodiumInitialised, "libsodium failed to initialise")
}

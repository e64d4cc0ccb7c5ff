import PirvaultCrypto
import PirvaultStore

/// Errors of the domain layer, each one line that names the problem and what
/// to do. None carries a secret: values are named, never echoed, where they
/// could be one.
public enum VaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is wrong (a usage error: exit code 2).
    case invalidInput(String)
    /// The key file or passphrase does not open this vault.
    case unlockFailed(path: String)
    /// A sealed value did not open: the vault file was altered or damaged.
    case tampered(String)
    case notFound(String)
    case conflict(String)
    /// A copy was written but does not match its source (`vault copy`'s check).
    case copyMismatch(String)
    /// Input or output failed: a file that cannot be created or written, a
    /// port that cannot be bound (an operational failure: exit code 1).
    case io(String)
    /// Anything from the storage layer.
    case store(StoreError)

    public var description: String {
        switch self {
        case .invalidInput(let message), .tampered(let message), .notFound(let message), .conflict(let message),
            .copyMismatch(let message), .io(let message):
            return message
        case .unlockFailed(let path):
            return "cannot unlock the vault at \(path): wrong key file or passphrase (or its header was altered)"
        case .store(let error):
            return error.description
        }
    }

    /// Whether this is the caller's mistake in what they typed (exit code 2)
    /// rather than an operational failure (exit code 1).
    public var isUsageError: Bool {
        if case .invalidInput = self { return true }
        return false
    }
}

/// Runs `body`, turning store errors into `VaultError.store` and a
/// `--vault` value that names no usable location into a usage error.
func storeOperation<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as StoreError {
        throw VaultError.store(error)
    } catch let error as VaultLocationError {
        throw VaultError.invalidInput(error.description)
    }
}

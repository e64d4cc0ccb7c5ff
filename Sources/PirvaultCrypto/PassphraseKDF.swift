#if DEBUG
import Foundation
#endif
internal import CSodium

/// Argon2id cost parameters. They are stored in the vault header next to the
/// salt, so a vault always unlocks with the parameters it was created with.
public struct Argon2idParameters: Equatable, Sendable {
    /// Passes over memory (libsodium's `opslimit`).
    public let opslimit: UInt64
    /// Memory in bytes (libsodium's `memlimit`).
    public let memlimit: UInt64

    public init(opslimit: UInt64, memlimit: UInt64) {
        self.opslimit = opslimit
        self.memlimit = memlimit
    }

    /// libsodium's MODERATE profile: 3 passes over 256 MiB, about half a second here.
    public static let moderate = Argon2idParameters(
        opslimit: UInt64(crypto_pwhash_OPSLIMIT_MODERATE), memlimit: UInt64(crypto_pwhash_MEMLIMIT_MODERATE))

    /// Parameters for a new vault. Debug builds (and only they) honour
    /// `PIRVAULT_TEST_INSECURE_KDF=1`, which drops to libsodium's minimum so the
    /// test suite does not spend minutes in Argon2id. Release builds compile
    /// this switch out, so no environment can weaken a real vault.
    public static var forNewVault: Argon2idParameters {
        #if DEBUG
        if ProcessInfo.processInfo.environment["PIRVAULT_TEST_INSECURE_KDF"] == "1" {
            return Argon2idParameters(
                opslimit: UInt64(crypto_pwhash_OPSLIMIT_MIN), memlimit: UInt64(crypto_pwhash_MEMLIMIT_MIN))
        }
        #endif
        return .moderate
    }

    /// Whether these (possibly tampered) stored parameters are safe to run:
    /// within libsodium's limits and below 4 GiB / 32 passes, so a doctored
    /// header cannot make unlocking exhaust the machine.
    public var isWithinBounds: Bool {
        opslimit >= UInt64(crypto_pwhash_OPSLIMIT_MIN) && opslimit <= 32
            && memlimit >= UInt64(crypto_pwhash_MEMLIMIT_MIN) && memlimit <= 4 << 30
    }
}

/// Argon2id (libsodium `crypto_pwhash`, algorithm ARGON2ID13) from a passphrase to a 32-byte key.
public enum PassphraseKDF {
    public static let saltLength = Int(crypto_pwhash_SALTBYTES)

    public static func newSalt() -> [UInt8] { SecureRandom.bytes(saltLength) }

    public static func deriveKey(
        passphrase: String, salt: [UInt8], parameters: Argon2idParameters
    ) throws -> SecretBytes {
        ensureSodium()
        guard salt.count == saltLength else {
            throw CryptoError.invalidLength(what: "Argon2id salt", expected: saltLength, actual: salt.count)
        }
        guard parameters.isWithinBounds else { throw CryptoError.keyDerivationFailed }
        let passphraseLength = UInt64(passphrase.utf8.count)
        return try SecretBytes(count: SealingKey.keyLength) { out in
            let rc = crypto_pwhash(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                passphrase, passphraseLength, salt,
                parameters.opslimit, Int(parameters.memlimit), crypto_pwhash_ALG_ARGON2ID13)
            guard rc == 0 else { throw CryptoError.keyDerivationFailed }
        }
    }
}

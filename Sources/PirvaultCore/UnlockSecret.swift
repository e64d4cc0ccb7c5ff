import Foundation
import PirvaultCrypto

/// What unlocks a vault: a 32-byte key file, or a passphrase run through Argon2id.
public enum UnlockSecret: Sendable {
    case keyFile(SecretBytes)
    case passphrase(String)
}

/// Key files: exactly 32 random bytes, mode 0600, never overwritten.
public enum KeyFile {
    public static let length = 32

    /// Writes 32 fresh random bytes to a new file at `path` with mode 0600.
    public static func generate(at path: String) throws -> SecretBytes {
        let key = SecretBytes.random(count: length)
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw VaultError.conflict("key file \(path) already exists; refusing to overwrite it — choose another path")
            }
            throw VaultError.io("cannot create key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == length, fsync(fd) == 0 else {
            unlink(path)
            throw VaultError.io("cannot write key file \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }

    /// Reads a key file, refusing one that others can read or write
    /// (`SecretFile`'s rule, as for every secret file) or that is not
    /// exactly 32 bytes.
    public static func read(at path: String) throws -> SecretBytes {
        let fd: Int32
        let size: Int
        do {
            (fd, size) = try SecretFile.open(path, what: "key file")
        } catch {
            throw VaultError.invalidInput(error.description)
        }
        defer { close(fd) }
        guard size == length else {
            throw VaultError.invalidInput("key file \(path) must hold exactly \(length) bytes (it holds \(size)); create one with 'pirvault init --key-file F --generate-key'")
        }
        return try SecretBytes(count: length) { buffer in
            guard Foundation.read(fd, buffer.baseAddress, length) == length else {
                throw VaultError.invalidInput("cannot read key file \(path)")
            }
        }
    }
}

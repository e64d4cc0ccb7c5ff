import Foundation
import PirvaultCrypto

/// Files that hold a secret: the vault's key file, a passphrase file, the
/// TLS private key of `serve`. Each is opened here, and only when it is a
/// regular file that no other user can read or write (like ssh with its
/// keys), so every kind of secret file gets the same rule and the same
/// message.
public enum SecretFile {
    /// The largest secret file read: far more than a passphrase, a 32-byte
    /// key or an RSA-8192 private key in PEM needs.
    public static let maximumSize = 1 << 20

    /// Opens `path` for reading and checks it: a regular file whose mode
    /// gives group and others nothing (no read, write or execute bit).
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - what: how messages name it ("key file", "passphrase file", "TLS key file").
    /// - Returns: the open descriptor (the caller closes it) and the file's size.
    /// - Throws: `SecretFileError`, one line naming the file and what to do;
    ///   never anything read from it.
    public static func open(_ path: String, what: String) throws(SecretFileError) -> (fd: Int32, size: Int) {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SecretFileError("cannot open \(what) \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw SecretFileError("\(what) \(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            close(fd)
            throw SecretFileError(
                "\(what) \(path) is accessible by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run 'chmod 600 \(path)'"
            )
        }
        return (fd, Int(info.st_size))
    }

    /// The whole content of a secret file checked by `open(_:what:)`, at
    /// most `limit` bytes, in memory that is wiped when it is released.
    ///
    /// - Throws: `SecretFileError` when the file is refused, cannot be read
    ///   or is larger than `limit`.
    public static func read(_ path: String, what: String, limit: Int = maximumSize) throws(SecretFileError) -> SecretBytes {
        let (fd, size) = try open(path, what: what)
        defer { close(fd) }
        guard size <= limit else {
            throw SecretFileError("\(what) \(path) is larger than \(limit) bytes; is it the right file?")
        }
        do {
            return try SecretBytes(count: size) { buffer in
                var count = 0
                while count < size {
                    let n = Foundation.read(fd, buffer.baseAddress! + count, size - count)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        throw SecretFileError("cannot read \(what) \(path): \(n < 0 ? String(cString: strerror(errno)) : "it shrank while being read")")
                    }
                    count += n
                }
            }
        } catch let error as SecretFileError {
            throw error
        } catch {
            throw SecretFileError("cannot read \(what) \(path)")
        }
    }
}

/// A secret file that was refused or could not be read: one line that names
/// the file and says what to do, never its content.
public struct SecretFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

import Foundation
import PirvaultCore

/// Reading secrets: from stdin, files and the terminal, never from arguments.
enum Input {
    /// All of stdin up to `limit` bytes, with one trailing newline removed.
    static func secretFromStdin(what: String, limit: Int = 4096) throws -> String {
        guard isatty(STDIN_FILENO) == 0 else {
            throw VaultError.invalidInput("\(what) is read from stdin; pipe it in (e.g. 'printf %s \"$SECRET\" | pirvault …')")
        }
        guard let data = readAll(STDIN_FILENO, limit: limit) else {
            throw VaultError.invalidInput("\(what) on stdin cannot be read or is longer than \(limit) bytes")
        }
        return try text(stripping: data, what: what)
    }

    /// Everything `fd` holds, or nil on a read error or past `limit` bytes.
    static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while data.count <= limit {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return data }
            data += chunk[0..<n]
        }
        return nil
    }

    /// The first line of a file that holds no secret (a public key file).
    static func firstLine(ofFile path: String, what: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VaultError.invalidInput("cannot read \(what) \(path)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4097)) ?? Data()
        guard data.count <= 4096 else { throw VaultError.invalidInput("\(what) \(path) is longer than 4096 bytes") }
        let bytes = Array(data)
        let firstLine = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        return try text(stripping: Array(firstLine), what: what)
    }

    /// The first line of a file that holds a secret (a passphrase file),
    /// refused like a key file when other users can read or write it
    /// (`SecretFile`, the one check for every secret file).
    static func firstLine(ofSecretFile path: String, what: String) throws -> String {
        let contents = try usageError { try SecretFile.read(path, what: what, limit: 4096) }
        return try contents.withUnsafeBytes { bytes in
            let end = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
            return try text(stripping: Array(bytes[..<end]), what: what)
        }
    }

    /// A refused secret file as a usage error (exit 2), as a refused key file is.
    private static func usageError<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SecretFileError {
            throw VaultError.invalidInput(error.description)
        }
    }

    private static func text(stripping bytes: [UInt8], what: String) throws -> String {
        var bytes = bytes
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw VaultError.invalidInput("\(what) is not valid UTF-8")
        }
        guard !text.isEmpty else { throw VaultError.invalidInput("\(what) is empty; give it on its first line") }
        return text
    }

    /// Asks on the terminal with echo off.
    static func promptPassphrase(_ prompt: String) throws -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else {
            throw VaultError.invalidInput(
                "no passphrase given and no terminal to ask on; pass --key-file, --passphrase-file or set PIRVAULT_PASSPHRASE")
        }
        defer { close(tty) }
        var original = termios()
        tcgetattr(tty, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &original)
            _ = write(tty, "\n", 1)
        }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var bytes = [UInt8]()
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != 0x0A, bytes.count < 4096 { bytes.append(byte) }
        return try text(stripping: bytes, what: "the passphrase")
    }
}

extension Input {
    /// A service key file's bytes (or stdin's, for "-"), refusing anything over the size limit.
    static func serviceKeyBytes(path: String) throws -> [UInt8] {
        try bytes(path: path, what: "service key file", limit: ServiceKey.maximumFileSize, limitText: "1 MiB (not a service key)")
    }

    /// The instance parameters JSON of `--parameters FILE|-`, parsed and checked.
    static func instanceParameters(path: String) throws -> InstanceParameters {
        try InstanceParameters(
            parsing: bytes(path: path, what: "instance parameters file", limit: InstanceParameters.maximumSize, limitText: "64 KiB"))
    }

    /// A file's bytes (or stdin's, for "-"), refusing anything over `limit` bytes.
    private static func bytes(path: String, what: String, limit: Int, limitText: String) throws -> [UInt8] {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw VaultError.invalidInput("cannot open \(what) \(path): \(String(cString: strerror(errno)))")
        }
        defer { if fd != STDIN_FILENO { close(fd) } }
        guard let data = readAll(fd, limit: limit) else {
            throw VaultError.invalidInput("cannot read \(what) \(path), or it is larger than \(limitText)")
        }
        return data
    }
}

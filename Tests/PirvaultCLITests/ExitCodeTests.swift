import Foundation
import PirvaultTestSupport
import Testing

/// Exit codes (README, Command reference): 0 success; 1 an operational failure, an I/O failure or
/// anything unexpected; 2 only a usage error the user fixes by changing the
/// command line. Every failure is one line on stderr that says what to do.
@Suite(.serialized, .boundedParallelism) struct ExitCodeTests {
    /// One row: what is run (through a shell when `shell` is set, for
    /// redirections), the exit code and a phrase the one line must hold.
    struct Row: CustomStringConvertible {
        let name: String
        var arguments: [String] = []
        var shell: String? = nil
        let code: Int32
        let message: String
        var description: String { name }
    }

    static func rows(_ cli: CLI, otherKey: String, busyPort: Int) -> [Row] {
        let directory = cli.directory
        return [
            Row(name: "success", arguments: ["instance", "list"], code: 0, message: ""),
            Row(name: "bad flag", arguments: ["instance", "list", "--bogus"], code: 2, message: "Unknown option '--bogus'"),
            Row(name: "unknown subcommand", arguments: ["instance", "frobnicate"], code: 2, message: "Unexpected argument"),
            Row(name: "missing required option", arguments: ["instance", "create", "x"], code: 2, message: "--customer"),
            Row(name: "unknown plan", arguments: ["instance", "create", "x", "--customer", "C", "--plan", "gold"], code: 2, message: "'gold' is invalid for '--plan"),
            Row(name: "unknown export format", arguments: ["audit", "export", "--format", "xml"], code: 2, message: "'xml' is invalid for '--format"),
            Row(name: "validation failure", arguments: ["audit", "list", "--limit", "0"], code: 2, message: "--limit must be at least 1"),
            Row(name: "domain usage error", arguments: ["instance", "create", "x", "--customer", "C", "--token-ttl", "5"], code: 2, message: "out of range"),
            Row(name: "instance not found", arguments: ["instance", "show", "ghost"], code: 1, message: "no instance named 'ghost'"),
            Row(name: "wrong key", arguments: ["instance", "list", "--key-file", otherKey], code: 1, message: "wrong key file or passphrase"),
            Row(name: "conflict", arguments: ["init", "--key-file", cli.keyPath, "--generate-key"], code: 1, message: "already exists"),
            Row(name: "export into a directory", arguments: ["audit", "export", "--format", "jsonl", "--output", directory], code: 1, message: "cannot"),
            Row(name: "export into /proc", arguments: ["audit", "export", "--format", "csv", "--output", "/proc/version"], code: 1, message: "cannot write /proc/version"),
            Row(name: "report into a missing folder", arguments: ["audit", "report", "--output", directory + "/missing/r.html"], code: 1, message: "cannot write"),
            Row(name: "key file in a missing folder", arguments: ["init", "--vault", directory + "/new.db", "--key-file", directory + "/missing/k", "--generate-key"], code: 1, message: "cannot create key file"),
            Row(name: "stdout on a full disk", shell: "exec \"$PIRVAULT\" keys jwks > /dev/full", code: 1, message: "cannot write to standard output"),
            Row(name: "unreachable PostgreSQL", arguments: ["instance", "list", "--vault", "postgres://pirvault@127.0.0.1:1/vault"], code: 1, message: "cannot reach the vault database"),
            Row(name: "address in use", arguments: ["serve", "--listen", "127.0.0.1:\(busyPort)"], code: 1, message: "cannot serve on"),
            Row(name: "invalid token", arguments: ["token", "verify", "not-a-token"], code: 1, message: "invalid token"),
        ]
    }

    @Test func eachFailureHasItsExitCodeAndOneLine() async throws {
        var cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        cli.environment["PGPASSWORD"] = "unused"
        // serve's own log lines (its shutdown notice) are not the error report.
        cli.environment["LOG_LEVEL"] = "error"
        let otherKey = cli.directory + "/other.key"
        #expect(await cli.run("init", "--vault", cli.directory + "/other.db", "--key-file", otherKey, "--generate-key").code == 0)
        let busy = try ListeningSocket()
        for row in Self.rows(cli, otherKey: otherKey, busyPort: busy.port) {
            let result: CLI.Result
            if let shell = row.shell {
                var sh = cli
                sh.environment["PIRVAULT"] = CLI.executable.path
                result = await sh.runExecutable("/bin/sh", ["-c", shell])
            } else {
                result = await cli.run(row.arguments)
            }
            let line = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(result.code == row.code, "\(row): exit \(result.code), stderr: \(line)")
            guard row.code != 0 else { continue }
            #expect(line.contains(row.message), "\(row): \(line)")
            #expect(!line.isEmpty && !line.contains("\n"), "\(row): not one line: \(result.stderr)")
            #expect(!line.contains("Fatal error") && !line.contains("Stack dump"), "\(row) crashed")
        }
    }
}

/// A TCP socket bound and listening on a free loopback port, so another
/// process cannot bind it; closed on deinit.
final class ListeningSocket {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard bound, named, listen(fd, 1) == 0 else {
            close(fd)
            throw CLI.CLIError("cannot listen on a loopback port")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

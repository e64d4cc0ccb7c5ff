import Foundation
import PirvaultTestSupport

/// `pirvault serve` on a free loopback port with the arguments a test gives,
/// plain or TLS: its base URL comes from the "listening on" line. Its stdout
/// and stderr go to files in the CLI's folder; SIGKILLed on deinit if still running.
final class ServeProcess {
    let process = Process()
    let port: Int
    let baseURL: String
    let output: String
    let errors: String

    /// `openFiles`: the soft and hard open-file limit the server starts
    /// under (`ulimit -n` in a shell that then execs it).
    init(cli: CLI, arguments: [String], openFiles: Int? = nil) async throws {
        port = try LoopbackPort.free()
        let name = "serve-\(UUID().uuidString.prefix(8))"
        output = cli.directory + "/\(name).out"
        errors = cli.directory + "/\(name).err"
        FileManager.default.createFile(atPath: output, contents: nil)
        FileManager.default.createFile(atPath: errors, contents: nil)
        let serve = ["serve", "--listen", "127.0.0.1:\(port)"] + arguments
        if let openFiles {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$0\" \"$@\"", CLI.executable.path] + serve
        } else {
            process.executableURL = CLI.executable
            process.arguments = serve
        }
        process.environment = cli.environment
        process.currentDirectoryURL = URL(fileURLWithPath: cli.directory)
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: errors)
        try process.run()
        var url: String? = nil
        for _ in 0..<400 where url == nil && process.isRunning {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"https?://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                url = String(text[range])
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let url else {
            kill(process.processIdentifier, SIGKILL)
            let log = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw CLI.CLIError("pirvault serve did not start: \(log)")
        }
        baseURL = url
    }

    /// Everything the server wrote to stderr so far.
    var log: String { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" }

    /// Sends SIGHUP (take up a renewed certificate).
    func hangUp() { kill(process.processIdentifier, SIGHUP) }

    /// Waits until stderr holds `text` (at most `seconds`).
    func waitForLog(_ text: String, seconds: Double = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if log.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return log.contains(text)
    }

    /// How many descriptors the server has open now (from /proc).
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? -1
    }

    /// SIGTERM and the exit status.
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

import ArgumentParser
import Foundation
import PirvaultCore

struct AuditExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export audit events with inclusion proofs and a signed checkpoint (jsonl), or as csv.",
        discussion: "Writes to stdout, or to --output FILE (written to a temporary file and renamed, so a failed export leaves nothing behind).")

    @OptionGroup var vault: VaultOptions
    @Option(help: "jsonl (events, proofs, checkpoint) or csv (for spreadsheets).") var format: AuditExportFormat
    @OptionGroup var filters: AuditFilterOptions
    @OptionGroup var limit: AuditLimitOption
    @Option(help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"), completion: .file())
    var output: String?

    func run() throws {
        let opened = try vault.openVault()
        let filter = try filters.filter(now: opened.clock.now(), limit: limit)
        let sink = try ExportSink(path: output)
        let showProgress = isatty(STDERR_FILENO) == 1
        let result = try sink.complete {
            try opened.exportAudit(filter, format: format, write: sink.write) { done, total in
                guard showProgress, total >= 100_000 else { return }
                FileHandle.standardError.write(Data("\rexporting: \(done * 100 / max(total, 1))% of \(total) events".utf8))
            }
        }
        if showProgress && result.treeSize >= 100_000 { FileHandle.standardError.write(Data("\n".utf8)) }
        if let output {
            Output.line("exported \(result.events) events to \(output) (checkpoint at tree size \(result.treeSize))")
        }
    }
}

/// A file that could not be written: an operational failure (exit 1), not a usage error.
struct OutputFileError: Error, CustomStringConvertible {
    let description: String
}

/// Where an export or a report goes: stdout, or a private (0600) temporary
/// file renamed into place at the end, so a failure leaves nothing behind.
final class ExportSink {
    private let path: String?
    private let temporary: String?
    private let fd: Int32

    init(path: String?) throws {
        self.path = path
        guard let path else {
            temporary = nil
            fd = STDOUT_FILENO
            return
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OutputFileError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        self.temporary = temporary
        self.fd = fd
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw OutputFileError(description: "cannot write \(path ?? "stdout"): \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
    }

    /// Runs `body` (which writes through `write`), then renames the file into
    /// place; if anything fails, the temporary file is removed instead.
    func complete<T>(_ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            try finish()
            return result
        } catch {
            abandon()
            throw error
        }
    }

    private func finish() throws {
        guard let path, let temporary else { return }
        guard fsync(fd) == 0, close(fd) == 0, rename(temporary, path) == 0 else {
            throw OutputFileError(description: "cannot finish writing \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func abandon() {
        guard let temporary else { return }
        close(fd)
        unlink(temporary)
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the stored audit log (tree, checkpoints, every event), or an export file offline.",
        discussion: "With --export FILE --public-key FILE no vault is opened: the export is checked with the public key alone.")

    @OptionGroup var vault: VaultOptions
    @Option(help: ArgumentHelp("An export made with 'audit export --format jsonl'.", valueName: "file"), completion: .file())
    var export: String?
    @Option(help: ArgumentHelp("File holding the verifier key from 'audit public-key'.", valueName: "file"), completion: .file())
    var publicKey: String?

    func validate() throws {
        if (export == nil) != (publicKey == nil) { throw ValidationError("--export and --public-key go together") }
    }

    func run() throws {
        if let export, let publicKey {
            let key = try Input.firstLine(ofFile: publicKey, what: "public key file")
            let report = try ExportVerifier(verifierKey: key).verify(path: export)
            guard report.isValid else { Output.fail("export verification failed: \(report.problem!)", code: 1) }
            Output.line("export OK: \(report.events) events proven included in the signed log of \(report.treeSize) events")
            return
        }
        let report = try vault.openVault().verifyAuditLog()
        guard report.isValid else { Output.fail("audit log verification failed: \(report.problem!)", code: 1) }
        Output.line(
            "audit log OK: \(report.events) events (\(report.pruned) pruned), \(report.checkpoints) signed checkpoints, each extending the previous")
    }
}

struct AuditPublicKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public-key", abstract: "Print the signed-note verifier key of the audit checkpoints.")

    @OptionGroup var vault: VaultOptions

    func run() throws { Output.line(try vault.openVault().auditVerifierKey()) }
}

struct AuditPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the bodies of events before T; their leaf hashes stay, so checkpoints and proofs still verify.")

    @OptionGroup var vault: VaultOptions
    @Option(help: ArgumentHelp("RFC 3339, or a duration ago such as 90d.", valueName: "T")) var before: String

    func run() throws {
        let opened = try vault.openVault()
        let time = try TimeInput.timestamp(from: before, now: opened.clock.now())
        let pruned = try opened.pruneAudit(before: time)
        Output.line("pruned \(pruned) event bodies before \(time.rfc3339); leaf hashes kept")
    }
}

import Foundation
import PirvaultCore

/// Feeds JSONL to `ExportVerifier` with the fixture vault's audit verifier
/// key, both in memory (`verify(lines:)`) and from a file (`verify(path:)`,
/// what `audit verify --export` runs).
///
/// Invariants: both readings give the same report; a problem is named in one
/// line; and an export verifies only if it has the fixture checkpoint's tree
/// size and each of its event lines is byte for byte one of the fixture
/// export's (a subset is a valid export, as a filtered export is).
final class ExportTarget: @unchecked Sendable {
    // Writes one scratch file per input; used from one thread at a time
    // (libFuzzer's loop, or the serialized regression suite).
    static let shared = ExportTarget()

    private let verifier: ExportVerifier
    private let genuineLines: Set<[UInt8]>
    private let genuineTreeSize: Int
    private let scratchFile = Fixture.scratchDirectory + "/export.jsonl"

    private init() {
        let key = Fixture.lines("audit-public-key.txt").first ?? ""
        do {
            verifier = try ExportVerifier(verifierKey: key)
        } catch {
            fatalError("the fuzz fixture's audit-public-key.txt: \(error)")
        }
        let export = Fixture.bytes("export.jsonl")
        let report = verifier.verify(lines: export.split(separator: 0x0A, omittingEmptySubsequences: false))
        guard report.isValid, report.events > 0 else {
            fatalError("the fuzz fixture's export.jsonl does not verify: \(report.problem ?? "no events"); remake the fixture")
        }
        genuineTreeSize = report.treeSize
        genuineLines = Set(export.split(separator: 0x0A).dropLast().map(Array.init))
    }

    func check(_ input: [UInt8]) throws(InvariantViolation) {
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        let report = verifier.verify(lines: lines)
        let fromFile: ExportVerificationReport
        do {
            try Data(input).write(to: URL(fileURLWithPath: scratchFile))
            fromFile = try verifier.verify(path: scratchFile)
        } catch {
            throw InvariantViolation("verifying the export as a file failed: \(error)")
        }
        guard fromFile.problem == report.problem, fromFile.events == report.events, fromFile.treeSize == report.treeSize
        else {
            throw InvariantViolation(
                "in memory: \(report.events) events, \(report.problem ?? "valid"); from the file: \(fromFile.events) events, \(fromFile.problem ?? "valid")")
        }
        if let problem = report.problem, containsControl(problem) {
            throw InvariantViolation("the problem is not one line: \(problem.debugDescription)")
        }
        guard report.isValid else { return }
        var body = lines
        while body.last?.isEmpty == true { body.removeLast() }
        body.removeLast()
        guard report.treeSize == genuineTreeSize, report.events == body.count,
            body.allSatisfy({ genuineLines.contains(Array($0)) })
        else {
            throw InvariantViolation("accepted an export that is not part of the fixture's: \(String(decoding: input, as: UTF8.self).debugDescription)")
        }
    }
}

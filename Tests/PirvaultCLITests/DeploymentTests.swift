import Foundation
import Testing

/// `deploy/pirvault.service` stays valid: `scripts/check-systemd-unit.sh`
/// runs `systemd-analyze verify` on it (with ExecStart at the built binary)
/// and serves a token, a gateway call, the key set and the metrics under
/// PR_SET_MDWE, the kernel rule behind the unit's `MemoryDenyWriteExecute=yes`.
/// Needs systemd-analyze (Debian package `systemd`, which scripts/install-deps.sh installs).
@Suite(.boundedParallelism) struct DeploymentTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/check-systemd-unit.sh").path

    @Test func theSystemdUnitIsAcceptedAndPirvaultRunsUnderItsWriteXorExecuteRule() async {
        var cli = CLI()
        defer { cli.removeDirectory() }
        cli.environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let run = await cli.runExecutable("/bin/bash", [Self.script, CLI.executable.path])
        #expect(run.code == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("accepted"), "\(run.stdout)")
    }
}

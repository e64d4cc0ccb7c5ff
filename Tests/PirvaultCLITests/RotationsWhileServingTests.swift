import Foundation
import PirvaultTestSupport
import Testing

/// Key rotations by the CLI while `pirvault serve` answers under load never
/// fail a request, also across the checkpoints that fall in between, and
/// leave a vault whose every key operation and `audit verify` succeed.
@Suite(.serialized, .boundedParallelism) struct RotationsWhileServingTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgresql
        var testDescription: String { rawValue }
    }

    @Test(arguments: Backend.allCases) func rotationsUnderLoadFailNoRequest(_ backend: Backend) async throws {
        var cli: CLI
        switch backend {
        case .sqlite: cli = try await CLI.withVault()
        case .postgresql: cli = try await SeveralNodesTests.cliWithPostgresVault(TestPostgres.shared())
        }
        defer { cli.removeDirectory() }
        cli.environment["PIRVAULT_CHECKPOINT_EVERY"] = "25"
        let acme = try await serviceKeyCredentials(cli.run("instance", "create", "acme", "--customer", "ACME").stdout)
        let server = try await ServeTests.RunningServer(cli: cli)
        let acks = cli.directory + "/acks"
        let load = try LoadClient(cli: cli, baseURL: server.baseURL, client: acme, flow: "/http/orders/1", acks: acks, workers: 3)
        try await SeveralNodesTests.waitForAcknowledgements(acks, moreThan: 0)

        // Every rotation, in an order that once broke a running server: a new
        // key file, then new vault keys that only the new key file unlocks.
        var keyFile = cli.keyPath
        for round in 1...2 {
            let steps: [[String]] = [
                ["keys", "rotate-signing"],
                ["keys", "change-passphrase", "--new-key-file", cli.directory + "/key-\(round)", "--generate-key"],
                ["keys", "rotate-vault-key"],
                ["keys", "rotate-signing"],
                ["keys", "rotate-vault-key"],
            ]
            for step in steps {
                let before = LoadClient.acknowledgedBytes(acks)
                let result = await cli.run(step)
                #expect(result.code == 0, "\(step.joined(separator: " ")): \(result.stderr)")
                if step[1] == "change-passphrase" {
                    keyFile = cli.directory + "/key-\(round)"
                    cli.environment["PIRVAULT_KEY_FILE"] = keyFile
                }
                try await SeveralNodesTests.waitForAcknowledgements(acks, moreThan: before)
            }
        }
        let summary = try await load.stop()
        let counts = try #require(try parseJSON(summary) as? [String: Int])
        #expect(counts["other_status"] == 0, "non-2xx answers during rotations: \(summary)")
        #expect(counts["refused"] == 0, "refused connections during rotations: \(summary)")
        let verifyWhileServing = await cli.run("audit", "verify")
        #expect(verifyWhileServing.code == 0, "\(verifyWhileServing.stderr)")
        #expect(await server.stop() == 0)
        for step in [["audit", "verify"], ["keys", "rotate-vault-key"], ["keys", "rotate-signing"], ["audit", "verify"]] {
            let result = await cli.run(step)
            #expect(result.code == 0, "\(step.joined(separator: " ")) after the server stopped: \(result.stderr)")
        }
        let counted = try await SeveralNodesTests.expectNothingLost(cli, acks: [acks])
        print("rotations under load (\(backend)): \(counted.tokens) tokens and \(counted.calls) calls, all 200; \(summary)")
    }
}

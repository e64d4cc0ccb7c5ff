import Foundation
import PirvaultTestSupport
import Testing

/// `serve` reads PIRVAULT_ISSUER and PIRVAULT_LISTEN as the CLI
/// does, so a token the CLI issues verifies at a server started the same way.
@Suite(.serialized, .boundedParallelism) struct ServeEnvironmentTests {
    @Test func aCLITokenVerifiesAtAServerStartedWithTheSameEnvironment() async throws {
        var cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let port = try LoopbackPort.free()
        cli.environment["PIRVAULT_LISTEN"] = "127.0.0.1:\(port)"
        cli.environment["PIRVAULT_ISSUER"] = "https://vault.example.test/"
        let client = try serviceKeyCredentials(
            await cli.run("instance", "create", "acme", "--customer", "ACME", "--flow", "orders/*").stdout)
        let token = await cli.run("token", "issue", "--client-id", client.id, stdin: client.secret).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(await cli.run("token", "verify", token).code == 0)

        let server = try await ServeTests.RunningServer(cli: cli, listenFlag: false)
        #expect(server.baseURL == "http://127.0.0.1:\(port)")
        let banner = try String(contentsOfFile: server.output, encoding: .utf8)
        #expect(banner.contains("(issuer https://vault.example.test)"), "\(banner)")
        let call = await BadInputTests.rawHTTP(
            port: port, Array("GET /http/orders/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8))
        #expect(call.status == 200, "\(call.text.prefix(300))")
        #expect(await server.stop() == 0)

        // The environment is what decides: another issuer refuses the same token.
        var other = cli
        other.environment["PIRVAULT_ISSUER"] = "https://elsewhere.example.test"
        let elsewhere = try await ServeTests.RunningServer(cli: other, listenFlag: false)
        let refused = await BadInputTests.rawHTTP(
            port: port, Array("GET /http/orders/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8))
        #expect(refused.status == 401, "\(refused.text.prefix(300))")
        #expect(await elsewhere.stop() == 0)
    }

    @Test func aBadListenAddressFromTheEnvironmentIsAUsageError() async throws {
        var cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        cli.environment["PIRVAULT_LISTEN"] = "nonsense"
        let result = await cli.run("serve")
        #expect(result.code == 2)
        #expect(result.stderr.contains("PIRVAULT_LISTEN"), "\(result.stderr)")
    }
}

import ArgumentParser
import Foundation
import PirvaultCore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, verify and revoke access tokens.",
        subcommands: [TokenIssue.self, TokenVerify.self, TokenRevoke.self])
}

/// The public base URL tokens name as their issuer, resolved as `serve` resolves it.
struct IssuerOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Public base URL of the token issuer, as 'serve' names it (env PIRVAULT_ISSUER; default http://<listen address>, from PIRVAULT_LISTEN or \(ServerAddress.defaultListen); https:// when PIRVAULT_TLS_CERT is set).",
            valueName: "url"))
    var issuer: String?

    var value: String { ServerAddress.issuer(issuer, listen: ServerAddress.listen(nil), tls: ServerAddress.tlsFromEnvironment) }
}

/// A token from the argument, or from stdin when it is "-" or absent.
func readToken(_ argument: String?) throws -> String {
    if let argument, argument != "-" { return argument }
    return try Input.secretFromStdin(what: "the token", limit: 16_384).trimmingCharacters(in: .whitespacesAndNewlines)
}

struct TokenIssue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a client_credentials token; the client secret is read from stdin.",
        discussion: "Prints the access token alone (so it pipes), or with --json the token endpoint's response.")

    @OptionGroup var vault: VaultOptions
    @OptionGroup var issuer: IssuerOption
    @Option(name: .customLong("client-id"), help: "The client id (clientid of the service key).") var clientID: String
    @Option(
        name: .customLong("scope"), help: "A role or <xsappname>.<role>; repeat for several (default: all roles).",
        completion: .roles)
    var scopes: [String] = []
    @Option(help: "The kind of token (default: the instance's token format).") var format: TokenFormat?
    @Flag(help: "Print the token endpoint's JSON response.") var json = false

    func run() throws {
        let secret = try Input.secretFromStdin(what: "the client secret")
        let token = try vault.openVault().issueToken(
            TokenRequest(clientID: clientID, secret: secret, scopes: scopes, format: format), issuer: issuer.value)
        if json { Output.json(token.jsonObject) } else { Output.line(token.accessToken) }
    }
}

struct TokenVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a token (and whether it may call --flow). Exit 0 when valid, 1 with the reason when not.")

    @OptionGroup var vault: VaultOptions
    @OptionGroup var issuer: IssuerOption
    @Argument(help: "The token, or - (or nothing) to read it from stdin.") var token: String?
    @Option(help: "A flow path the token must be allowed to call: /http/products/details, or products/details relative to /http/.")
    var flow: String?
    @Flag(help: "Print {active, reason, client_id, customer, instance, scope, exp, jti}.") var json = false

    func run() throws {
        let decision = try vault.openVault().verifyToken(try readToken(token), flow: flow, issuer: issuer.value)
        if json {
            Output.json(decision.jsonObject)
        } else if let verified = decision.token, decision.isAllowed {
            Output.line(
                "valid: \(verified.clientID) (instance \(verified.client.name), customer \(verified.client.customer)), scope \(verified.scope.joined(separator: " ")), expires \(Timestamp(seconds: verified.expiresAt).rfc3339)")
        }
        guard decision.isAllowed else {
            if json { throw ExitCode(1) }
            Output.fail("invalid token: \(decision.reason)", code: 1)
        }
    }
}

struct TokenRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke one token; the instance's other tokens keep working.")

    @OptionGroup var vault: VaultOptions
    @OptionGroup var issuer: IssuerOption
    @Argument(help: "The token, or - (or nothing) to read it from stdin.") var token: String?

    func run() throws {
        let jti = try vault.openVault().revokeToken(try readToken(token), issuer: issuer.value)
        Output.line("revoked token \(jti)")
    }
}

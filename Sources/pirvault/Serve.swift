import ArgumentParser
import Foundation
import Logging
import PirvaultCore
import PirvaultServer
import PirvaultStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the token endpoint, JWKS, introspection, revocation and the flow gateway over HTTP.",
        discussion: """
            Stops gracefully on SIGINT/SIGTERM: in-flight requests finish and the audit log is flushed. \
            Log level from LOG_LEVEL (default info); logs never contain secrets or tokens.
            """)

    @OptionGroup var vault: VaultOptions
    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Address to listen on (env PIRVAULT_LISTEN; default \(ServerAddress.defaultListen); port 0 picks a free one).",
            valueName: "host:port"))
    var listenOption: String?
    @Option(
        name: .customLong("issuer"),
        help: ArgumentHelp(
            "Public base URL named in tokens and metadata (env PIRVAULT_ISSUER; default http://<listen>).", valueName: "url"))
    var issuerOption: String?

    var listen: String { ServerAddress.listen(listenOption) }
    @Option(help: ArgumentHelp("Forward allowed flow calls to this base URL (path and query appended).", valueName: "url"))
    var upstream: String?
    @Option(help: ArgumentHelp("An imported instance whose service key authenticates the gateway upstream (client_credentials, cached).", valueName: "name"))
    var upstreamInstance: String?
    @Option(
        name: .customLong("vault-timeout"),
        help: ArgumentHelp(
            "How long a request waits for the vault (a read, or its audit commit) before it gets 503 (env PIRVAULT_VAULT_TIMEOUT; default 3s).",
            valueName: "duration"))
    var vaultTimeoutOption: String?

    /// The vault timeout in whole milliseconds (at least 100 ms).
    func vaultTimeout() throws -> Duration {
        guard let text = vaultTimeoutOption ?? ProcessInfo.processInfo.environment["PIRVAULT_VAULT_TIMEOUT"] else {
            return .seconds(3)
        }
        guard let seconds = try? TimeInput.seconds(fromDuration: text), (1...600).contains(seconds) else {
            throw ValidationError("--vault-timeout (or PIRVAULT_VAULT_TIMEOUT) must be a duration from 1s to 10m, such as 3s")
        }
        return .seconds(seconds)
    }

    func parsedListen() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port), colon > listen.startIndex
        else { throw ValidationError("--listen (or PIRVAULT_LISTEN) must be host:port, such as 127.0.0.1:8080") }
        return (String(listen[..<colon]), port)
    }

    func validate() throws {
        if upstreamInstance != nil && upstream == nil {
            throw ValidationError("--upstream-instance needs --upstream URL to say where calls go")
        }
        if let upstream, URL(string: upstream)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--upstream must be an http or https URL")
        }
        _ = try vaultTimeout()
        if try parsedListen().port == 0 && ServerAddress.explicitIssuer(issuerOption) == nil {
            throw ValidationError("with port 0 the issuer URL is not known in advance; give --issuer (or PIRVAULT_ISSUER) too")
        }
    }

    func run() async throws {
        let (host, port) = try parsedListen()
        var logger = Logger(label: "pirvault")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var configuration = ServerConfiguration(issuer: ServerAddress.issuer(issuerOption, listen: listen))
        configuration.host = host
        configuration.port = port
        configuration.vaultTimeout = try vaultTimeout()
        // Unlocking (Argon2id) and migrations run on the writer's own thread,
        // not on the threads that will serve requests.
        let limits = StoreLimits(lockTimeout: configuration.vaultTimeout, statementTimeout: configuration.vaultTimeout)
        let writer = try await SerializedVault.open("pirvault-writer") { [vault] in try vault.openVault(limits: limits) }
        if let upstream {
            // The service key is read once, at start (its disclosure is audited as instance.key).
            var serviceKey: ServiceKey? = nil
            if let name = upstreamInstance {
                serviceKey = try await writer.perform(until: nil) { try $0.serviceKey(named: name) }
            }
            configuration.upstream = UpstreamConfiguration(url: upstream, serviceKey: serviceKey)
        }
        let server = try await PirvaultServer(writer: writer, configuration: configuration, logger: logger)
        let issuerURL = configuration.issuer
        let app = server.makeApplication { port in
            // One line on stdout that scripts (and tests using port 0) wait for.
            Output.line("pirvault: listening on http://\(host):\(port) (issuer \(issuerURL))")
        }
        do {
            try await app.runService()
        } catch {
            throw VaultError.io("cannot serve on \(listen): \(error); choose a free address with --listen or PIRVAULT_LISTEN")
        }
    }
}

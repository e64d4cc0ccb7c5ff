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
            With --tls-cert and --tls-key it serves HTTPS (TLS 1.2 and 1.3 only); SIGHUP re-reads both files, \
            and new connections get the renewed certificate while open ones keep theirs. \
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
            "Public base URL named in tokens and metadata (env PIRVAULT_ISSUER; default http://<listen>, https://<listen> with TLS).",
            valueName: "url"))
    var issuerOption: String?
    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "PEM certificate chain to serve HTTPS with, the server's certificate first (env PIRVAULT_TLS_CERT; with --tls-key).",
            valueName: "file"),
        completion: .file())
    var tlsCertOption: String?
    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp(
            "Unencrypted PEM private key of --tls-cert, readable by its owner only (env PIRVAULT_TLS_KEY).", valueName: "file"),
        completion: .file())
    var tlsKeyOption: String?
    @Option(help: ArgumentHelp("Close a keep-alive connection after this long without a request (default 75s).", valueName: "duration"))
    var idleTimeout: String?
    @Option(
        help: ArgumentHelp(
            "Close a connection whose request header is not complete this long after its first byte, or after the accept (default 10s).",
            valueName: "duration"))
    var headerTimeout: String?
    @Option(
        help: ArgumentHelp(
            "Connections served at once; past it the longest idle one is closed, or the new one answered 503 when all are busy (default: the open-file limit less an eighth).",
            valueName: "n"))
    var maxConnections: Int?

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

    private var environment: [String: String] { ProcessInfo.processInfo.environment }
    var tlsCertificate: String? { tlsCertOption ?? environment["PIRVAULT_TLS_CERT"] }
    var tlsKey: String? { tlsKeyOption ?? environment["PIRVAULT_TLS_KEY"] }

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError(
                "--tls-cert and --tls-key (or PIRVAULT_TLS_CERT and PIRVAULT_TLS_KEY) go together: give both for HTTPS, or neither for plain HTTP")
        }
        _ = try connectionLimits()
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
        // Checked before the vault is opened: a bad certificate or key changes nothing.
        let tls = try tlsCertificate.map { try TLSCredential.load(certificateFile: $0, keyFile: tlsKey ?? "") }
        var configuration = ServerConfiguration(issuer: ServerAddress.issuer(issuerOption, listen: listen, tls: tls != nil))
        configuration.host = host
        configuration.port = port
        configuration.tls = tls
        configuration.connections = try connectionLimits()
        configuration.vaultTimeout = try vaultTimeout()
        // Unlocking (Argon2id) and migrations run on the writer's own thread,
        // not on the threads that will serve requests. The unlock secret is
        // read once (a prompt is not repeated when the database is retried).
        let limits = StoreLimits(lockTimeout: configuration.vaultTimeout, statementTimeout: configuration.vaultTimeout)
        let unlock = try vault.unlockSecret()
        let open: OpenVault = { [vault, upstream, upstreamInstance] in
            let writer = try await SerializedVault.open("pirvault-writer") { try vault.openVault(limits: limits, unlock: unlock) }
            guard let upstream else { return (writer, nil) }
            // The service key is read once, at start (its disclosure is audited as instance.key).
            var serviceKey: ServiceKey? = nil
            if let name = upstreamInstance {
                serviceKey = try await writer.perform(until: nil) { try $0.serviceKey(named: name) }
            }
            return (writer, UpstreamConfiguration(url: upstream, serviceKey: serviceKey))
        }
        let issuerURL = configuration.issuer
        let scheme = tls == nil ? "http" : "https"
        // Listens even when the database cannot be reached yet (503 until it
        // can); any other failure to open is thrown here, before listening.
        let app = try await PirvaultServer.makeApplication(configuration: configuration, logger: logger, open: open) { port in
            // One line on stdout that scripts (and tests using port 0) wait for.
            Output.line("pirvault: listening on \(scheme)://\(host):\(port) (issuer \(issuerURL))")
        }
        do {
            try await app.runService()
        } catch let error as VaultError {
            throw error  // the vault failed to open once its database answered (a wrong key, ...)
        } catch {
            throw VaultError.io("cannot serve on \(listen): \(error); choose a free address with --listen or PIRVAULT_LISTEN")
        }
    }
}

extension Serve {
    /// The connection limits from --idle-timeout, --header-timeout and
    /// --max-connections, each checked against what the process can hold.
    func connectionLimits() throws -> ConnectionLimits {
        var limits = ConnectionLimits()
        if let idleTimeout { limits.idleTimeout = try Self.positiveDuration(idleTimeout, option: "--idle-timeout") }
        if let headerTimeout { limits.headerReadTimeout = try Self.positiveDuration(headerTimeout, option: "--header-timeout") }
        if let maxConnections {
            let descriptors = ConnectionLimits.descriptorLimit()
            let largest = ConnectionLimits.largestMaximum(descriptorLimit: descriptors)
            guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
            guard maxConnections <= largest else {
                throw ValidationError(
                    "--max-connections \(maxConnections) leaves too few file descriptors under the open-file limit of \(descriptors) (ulimit -n, LimitNOFILE=); give at most \(largest), or raise the limit")
            }
            limits.maxConnections = maxConnections
        }
        return limits
    }

    private static func positiveDuration(_ text: String, option: String) throws -> Duration {
        guard let seconds = try? TimeInput.seconds(fromDuration: text), seconds > 0 else {
            throw ValidationError("\(option) must be a duration such as 75s or 2m")
        }
        return .seconds(seconds)
    }
}

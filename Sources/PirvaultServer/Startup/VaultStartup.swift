import Hummingbird
import Logging
import PirvaultCore
import PirvaultStore
import ServiceLifecycle
import Synchronization

/// What `serve` opens before it can decide anything: the writer connection
/// (unlocked and migrated on its own thread) and the gateway's upstream,
/// whose service key is read from the vault.
public typealias OpenVault = @Sendable () async throws -> (writer: SerializedVault, upstream: UpstreamConfiguration?)

/// Opens the vault for `serve`, then runs the audit committer: a service of
/// the application, so the server listens before the vault is open.
///
/// A vault that opened at the first attempt (before listening) is served at
/// once. One whose database could not be reached (`StoreError.unavailable`,
/// the only fault retried) is opened again with backoff — 0.25 s doubling
/// to 5 s — while `/healthz` answers 200 and every other route 503; one
/// line is logged when that starts and one when the vault opens, and from
/// then on the server's own router answers. Any other failure (a wrong key
/// or password, not a vault, a schema too new) ends the service with its
/// error, and so the server, with its one-line message and exit code 1.
final class VaultStartup: Service, Sendable {
    enum Start: Sendable {
        case opened(PirvaultServer)
        case waiting(firstProblem: any Error)
    }

    private let start: Start
    private let gate: VaultGate
    private let open: @Sendable () async throws -> PirvaultServer
    private let logger: Logger

    init(start: Start, gate: VaultGate, logger: Logger, open: @escaping @Sendable () async throws -> PirvaultServer) {
        self.start = start
        self.gate = gate
        self.logger = logger
        self.open = open
    }

    /// Whether `error` says only that the database cannot be reached now.
    static func isUnreachable(_ error: any Error) -> Bool {
        switch error {
        case VaultError.store(.unavailable), StoreError.unavailable: true
        default: false
        }
    }

    func run() async throws {
        let server: PirvaultServer
        switch start {
        case .opened(let opened):
            server = opened
        case .waiting(let problem):
            logger.error(
                "the vault cannot be opened yet, retrying until it answers (meanwhile every route but /healthz and /metrics gets 503): \(CommitHealth.describe(problem))"
            )
            do {
                server = try await cancelWhenGracefulShutdown { try await self.openWithRetries() }
            } catch is CancellationError {
                return  // stopped before the vault answered: nothing to flush
            }
            gate.open(server.router().buildResponder())
            logger.notice("the vault is open; serving")
        }
        await server.decisions.committer.run()
    }

    private func openWithRetries() async throws -> PirvaultServer {
        var delay = Duration.milliseconds(250)
        while true {
            try await Task.sleep(for: delay)
            do {
                return try await open()
            } catch where Self.isUnreachable(error) {
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

/// The application's responder: until the vault is open, a router that
/// answers liveness and metrics and 503 for everything else (`/readyz`
/// included); from then on the server's own router.
struct VaultGate: HTTPResponder {
    typealias Context = PirvaultRequestContext

    private final class Opened: Sendable {
        let responder = Mutex<RouterResponder<PirvaultRequestContext>?>(nil)
    }

    private let waiting: RouterResponder<PirvaultRequestContext>
    private let opened = Opened()

    init(waiting: RouterResponder<PirvaultRequestContext>) { self.waiting = waiting }

    /// From now on every request goes to `responder`.
    func open(_ responder: RouterResponder<PirvaultRequestContext>) {
        opened.responder.withLock { $0 = responder }
    }

    func respond(to request: Request, context: PirvaultRequestContext) async throws -> Response {
        let live = opened.responder.withLock { $0 }
        return try await (live ?? waiting).respond(to: request, context: context)
    }
}

/// Refuses every request but liveness, readiness and metrics while the
/// vault is not open: 503 with `Retry-After`, as for a vault that fails later.
struct VaultNotOpenMiddleware: RouterMiddleware {
    static let answered: Set<String> = ["/healthz", "/readyz", "/metrics"]

    func handle(
        _ request: Request, context: PirvaultRequestContext,
        next: (Request, PirvaultRequestContext) async throws -> Response
    ) async throws -> Response {
        guard Self.answered.contains(request.uri.path) else { return ServiceUnavailable().reply.response }
        return try await next(request, context)
    }
}

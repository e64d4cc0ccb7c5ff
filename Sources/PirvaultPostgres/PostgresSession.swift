import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PirvaultStore
import PostgresNIO
import Synchronization

/// One PostgreSQL session, used by one thread at a time, with the same shape
/// as the SQLite `Connection`: synchronous calls and one transaction at a time.
///
/// The store interface is synchronous, so each call waits for postgres-nio's
/// future on the caller's thread (never a task: the store is `noasync`). The
/// connection runs on the store's own event loop (never the HTTP server's),
/// so waiting cannot block the loop that has to answer. Every wait can be
/// cut short by `interrupt()` from another thread, and the server bounds
/// each statement and lock wait itself (`statement_timeout`, `lock_timeout`).
/// A lost connection is noticed by the failing call; the next call outside a
/// transaction connects again, so a node recovers by itself when the
/// database returns.
final class PostgresSession {
    /// The event loop of every PostgreSQL connection in the process.
    static let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let location: PostgresLocation
    let limits: StoreLimits
    private let configuration: PostgresConnection.Configuration
    private var connection: PostgresConnection?
    private let logger: Logger = {
        var logger = Logger(label: "pirvault.postgres")
        logger.logLevel = .critical
        return logger
    }()
    /// Whether a transaction is open: a connection lost inside one is not replaced silently.
    private var inTransaction = false
    /// Fails the wait under way, and every later one until cleared; the
    /// connection is closed, which also ends the server side of a stuck
    /// statement once the server runs again.
    let interrupter = Interrupter()

    init(location: PostgresLocation, password: String?, limits: StoreLimits) throws {
        self.location = location
        self.limits = limits
        configuration = try Self.configuration(location, password: password, limits: limits)
        _ = try current()
    }

    deinit { dropConnection() }

    /// Waits for `future` on this thread, unless interrupted first or meanwhile.
    private func wait<T: Sendable>(_ future: EventLoopFuture<T>, closing connection: PostgresConnection?) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        do {
            return try interrupter.whileWaiting(stoppedBy: {
                promise.fail(StoreError.interrupted)
                _ = connection?.close() as EventLoopFuture<Void>?
            }) { try promise.futureResult.wait() }
        } catch StoreError.interrupted {
            promise.fail(StoreError.interrupted)  // not waited for: nothing else may complete it
            throw StoreError.interrupted
        }
    }

    /// Closes the connection (a lost one too: postgres-nio wants every
    /// connection closed before it goes) and forgets it.
    private func dropConnection() {
        if let connection { _ = try? connection.close().wait() }
        connection = nil
    }

    private static func configuration(
        _ location: PostgresLocation, password: String?, limits: StoreLimits
    ) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory = location.socketDirectory {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(location.port)", username: location.user,
                password: password, database: location.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch location.sslMode {
            case .disable:
                tls = .disable
            case .require:
                // libpq's `require`: encrypt, without checking the certificate.
                var settings = TLSConfiguration.makeClientConfiguration()
                settings.certificateVerification = .none
                tls = .require(try NIOSSLContext(configuration: settings))
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = PostgresConnection.Configuration(
                host: location.host ?? "localhost", port: location.port, username: location.user, password: password,
                database: location.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        // The server gives up on a lock or a statement by itself too, so a
        // stuck transaction elsewhere costs this session a bounded wait.
        configuration.options.additionalStartupParameters = [
            ("lock_timeout", "\(limits.lockTimeout.milliseconds)ms"),
            ("statement_timeout", limits.statementTimeout.map { "\($0.milliseconds)ms" } ?? "0"),
        ]
        return configuration
    }

    /// The open connection, connecting first when there is none (or it was lost).
    private func current() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        guard !inTransaction else {
            throw StoreError.unavailable(location.description, problem: "the connection was lost mid-transaction")
        }
        dropConnection()
        let connecting = PostgresConnection.connect(
            on: Self.eventLoopGroup.next(), configuration: configuration, id: 1, logger: logger)
        do {
            let opened = try wait(connecting, closing: nil)
            connection = opened
            return opened
        } catch {
            // Given up on (a deadline interrupted the wait): a connection
            // that opens after all is closed, not left to postgres-nio's
            // deinit, which refuses an open connection.
            connecting.whenSuccess { _ = $0.close() as EventLoopFuture<Void> }
            throw mapped(error)
        }
    }

    /// Runs `query` and returns every row.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> [PostgresRandomAccessRow] {
        let connection = try current()
        do {
            return try wait(connection.query(query, logger: logger), closing: connection).rows.map { $0.makeRandomAccess() }
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `query` and returns how many rows it changed.
    @discardableResult
    func run(_ query: PostgresQuery) throws -> Int {
        let connection = try current()
        do {
            return try wait(connection.query(query, logger: logger), closing: connection).metadata.rows ?? 0
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `body` in a write transaction: `BEGIN`, then `lock` (the caller's
    /// first statement, which serialises writers), then `COMMIT`; `ROLLBACK`
    /// on any error.
    func writeTransaction<T>(lock: () throws -> Void, _ body: () throws -> T) throws -> T {
        try transaction("BEGIN") {
            try lock()
            return try body()
        }
    }

    /// Runs `body` in a read-only transaction on one snapshot.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    /// `begin`, `body`, then `COMMIT`, or `ROLLBACK` if anything failed (an
    /// interrupted session has closed its connection, which rolls back).
    private func transaction<T>(_ begin: PostgresQuery, _ body: () throws -> T) throws -> T {
        guard !inTransaction else { throw StoreError.postgres("a transaction is already open on this session; transactions do not nest") }
        try query(begin)
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            if let connection, !connection.isClosed, (try? query("ROLLBACK")) == nil { dropConnection() }
            throw error
        }
    }

    /// A postgres-nio error as a `StoreError` whose message names the problem
    /// and what to do, and never a bound value (the server's message and SQL
    /// state are kept; its detail, which can quote values, is not).
    private func mapped(_ error: any Error) -> StoreError {
        if let error = error as? StoreError {
            if error == .interrupted { dropConnection() }
            return error
        }
        let target = location.description
        guard let error = error as? PSQLError else {
            if error is NIOSSLError {
                return .unavailable(target, problem: "the TLS handshake failed (check sslmode and the server's certificate)")
            }
            return .unavailable(target, problem: Self.connectProblem(error))
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "error"
            switch state {
            case "28P01", "28000":
                return .postgres(
                    "PostgreSQL refused the login of user \(location.user) at \(target): \(message); put the right password in PGPASSWORD, a PGPASSFILE file or ~/.pgpass")
            case "3D000":
                return .postgres("the database \(location.database) does not exist at \(target); create it (createdb) or fix the --vault URL")
            case "57P01", "57P02", "57P03", "08006", "08003", "08001":
                dropConnection()
                return .unavailable(target, problem: message)
            // Serialization failure, deadlock, lock_timeout, statement_timeout.
            case "40001", "40P01", "55P03", "57014":
                return .busy
            default:
                return .postgres("PostgreSQL error \(state): \(message)")
            }
        case .sslUnsupported:
            return .postgres(
                "PostgreSQL at \(target) does not offer TLS, but sslmode asks for it; enable ssl on the server, or use sslmode=disable on a trusted network")
        case .failedToAddSSLHandler:
            return .unavailable(target, problem: "TLS could not be set up")
        case .authMechanismRequiresPassword:
            return .postgres(
                "PostgreSQL at \(target) asks for a password for user \(location.user); put it in PGPASSWORD, a PGPASSFILE file or ~/.pgpass")
        case .unsupportedAuthMechanism, .saslError:
            return .postgres("PostgreSQL at \(target) refused the login of user \(location.user); check the password and pg_hba.conf")
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            dropConnection()
            return .unavailable(target, problem: error.underlying.map(Self.connectProblem) ?? "the connection was closed")
        default:
            return .postgres("PostgreSQL client error: \(error.code)")
        }
    }

    private static func connectProblem(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let failure = error.connectionErrors.first {
            return connectProblem(failure.error)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if error is NIOConnectionError || error is ChannelError { return "the connection failed or timed out" }
        return "\(type(of: error))"
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 (PostgreSQL reads 0 as "no limit").
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
extension PostgresRandomAccessRow {
    /// Column `index` decoded as `T`; a type mismatch is a damaged vault.
    func column<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        do {
            return try self[index].decode(T.self)
        } catch {
            throw StoreError.corrupt(what: "column \(index) of a row does not have the expected type")
        }
    }

    func int(_ index: Int) throws -> Int64 { try column(index) }
    func optionalInt(_ index: Int) throws -> Int64? { try column(index) }
    func string(_ index: Int) throws -> String { try column(index) }
    func text(_ index: Int) throws -> String? { try column(index) }

    func blob(_ index: Int) throws -> [UInt8]? {
        guard let buffer: ByteBuffer = try column(index) else { return nil }
        return Array(buffer.readableBytesView)
    }
}

extension PostgresBindings {
    /// Appends a byte string as `bytea`.
    mutating func append(bytes: [UInt8]) {
        append(ByteBuffer(bytes: bytes))
    }
}

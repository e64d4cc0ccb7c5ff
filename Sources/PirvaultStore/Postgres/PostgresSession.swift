import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One PostgreSQL session, used by one thread at a time, with the same shape
/// as the SQLite `Connection`: synchronous calls and nested transactions.
///
/// The store interface is synchronous, so each call waits for postgres-nio's
/// future on the caller's thread. The connection runs on the store's own
/// event loop (never the HTTP server's), so waiting cannot block the loop
/// that has to answer. A lost connection is noticed by the failing call; the
/// next call outside a transaction connects again, so a node recovers by
/// itself when the database returns.
final class PostgresSession {
    /// The event loop of every PostgreSQL connection in the process.
    static let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private var connection: PostgresConnection?
    private let logger: Logger = {
        var logger = Logger(label: "pirvault.postgres")
        logger.logLevel = .critical
        return logger
    }()
    private(set) var transactionDepth = 0
    /// Whether the outermost transaction is `readTransaction`'s.
    private(set) var inReadTransaction = false

    init(location: PostgresLocation, password: String?) throws {
        self.location = location
        configuration = try Self.configuration(location, password: password)
        _ = try current()
    }

    deinit { dropConnection() }

    /// Closes the connection (a lost one too: postgres-nio wants every
    /// connection closed before it goes) and forgets it.
    private func dropConnection() {
        if let connection { _ = try? connection.close().wait() }
        connection = nil
    }

    private static func configuration(
        _ location: PostgresLocation, password: String?
    ) throws -> PostgresConnection.Configuration {
        if let socketDirectory = location.socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(location.port)", username: location.user,
                password: password, database: location.database)
        }
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
        var configuration = PostgresConnection.Configuration(
            host: location.host ?? "localhost", port: location.port, username: location.user, password: password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// The open connection, connecting first when there is none (or it was lost).
    private func current() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        guard transactionDepth == 0 else { throw StoreError.unavailable(location.description, problem: "the connection was lost mid-transaction") }
        dropConnection()
        do {
            let opened = try PostgresConnection.connect(
                on: Self.eventLoopGroup.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
            connection = opened
            return opened
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `query` and returns every row.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> [PostgresRandomAccessRow] {
        let connection = try current()
        do {
            return try connection.query(query, logger: logger).wait().rows.map { $0.makeRandomAccess() }
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `query` and returns how many rows it changed.
    func run(_ query: PostgresQuery) throws -> Int {
        let connection = try current()
        do {
            return try connection.query(query, logger: logger).wait().metadata.rows ?? 0
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `body` in a write transaction: `BEGIN`, then `lock` (the caller's
    /// first statement, which serialises writers), then `COMMIT`; `ROLLBACK`
    /// on any error. Nested calls join the outermost transaction.
    func writeTransaction<T>(lock: () throws -> Void, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        try query("BEGIN")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        return try commitOrRollBack {
            try lock()
            return try body()
        }
    }

    /// Runs `body` in a read-only transaction on one snapshot.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 { return try body() }
        try query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        transactionDepth = 1
        inReadTransaction = true
        defer { (transactionDepth, inReadTransaction) = (0, false) }
        return try commitOrRollBack(body)
    }

    /// The end of an open transaction: `COMMIT` after `body`, `ROLLBACK` if anything failed.
    private func commitOrRollBack<T>(_ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// A postgres-nio error as a `StoreError` whose message names the problem
    /// and what to do, and never a bound value (the server's message and SQL
    /// state are kept; its detail, which can quote values, is not).
    private func mapped(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
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
            case "40001", "40P01":
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

import Foundation
import Synchronization
internal import CSQLite

/// A value bound to or read from SQL: the store-wide cell type.
package typealias SQLValue = StoreValue

/// `SQLITE_TRANSIENT` is a macro over a cast function pointer that does not
/// import into Swift: it tells SQLite to copy the bound bytes at once.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection, used by one thread at a time. It keeps its prepared
/// statements, so the hot queries are compiled once.
///
/// Waiting for another connection's write lock goes through our own busy
/// handler rather than `sqlite3_busy_timeout`: SQLite's default handler
/// sleeps through `sqlite3_interrupt`, and a deadline must end the wait too.
package final class Connection {
    let path: String
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private let waiting: LockWait
    /// The file this connection opened, as `checkIdentity` compares it.
    private var opened: OpenedFile
    /// Set once the file at `path` is found not to be the one opened: every
    /// transaction from then on fails with it.
    private var replaced: StoreError?

    /// Opens an existing file: a vault, or the empty file that `SQLiteStore.create`
    /// has just made with mode 0600 (SQLite gives its WAL and shm files the same mode).
    package init(path: String, lockTimeout: Duration) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError.sqlite(code: rc, message: message)
        }
        // sqlite3_open_v2 has opened the file; this is the one it opened.
        guard let file = OpenedFile(path: path) else {
            sqlite3_close_v2(db)
            throw StoreError.io(path: path, problem: "the file went away while it was opened")
        }
        opened = file
        handle = db
        // sqlite3_interrupt may be called from any thread while the
        // connection is open; deinit withdraws it before closing.
        nonisolated(unsafe) let running = db
        interrupter.setStop { sqlite3_interrupt(running) }
        waiting = LockWait(timeout: lockTimeout, interrupter: interrupter)
        // A second process waits for the write lock instead of failing with SQLITE_BUSY.
        sqlite3_busy_handler(db, LockWait.callback, Unmanaged.passUnretained(waiting).toOpaque())
        do {
            // A file that is not a database fails on its first read, here.
            try execute(
                """
                PRAGMA foreign_keys = ON;
                PRAGMA secure_delete = ON;
                PRAGMA trusted_schema = OFF;
                PRAGMA synchronous = FULL;
                """)
            if try scalarText("PRAGMA journal_mode") != "wal" {
                _ = try scalarText("PRAGMA journal_mode = WAL")
            }
        } catch StoreError.sqlite(let code, _) where code & 0xff == SQLITE_NOTADB {
            throw StoreError.notAVault(path: path)
        }
    }

    deinit {
        interrupter.setStop(nil)
        statements.removeAll()  // finalises every statement before the close
        sqlite3_close_v2(handle)
    }

    /// Ends the running statement or lock wait, and refuses new statements
    /// until cleared.
    let interrupter = Interrupter()

    /// Every statement starts here: none runs once interrupted, or once the
    /// file at the path is known not to be this connection's.
    private func refuseIfInterrupted() throws {
        try interrupter.check()
        if let replaced { throw replaced }
    }

    var lastError: StoreError {
        let code = sqlite3_extended_errcode(handle)
        if code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED { return .busy }
        if code & 0xff == SQLITE_INTERRUPT { return .interrupted }
        return .sqlite(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE else { throw lastError }
    }

    /// Runs one or more statements that take no parameters.
    package func execute(_ sql: String) throws {
        try refuseIfInterrupted()
        try check(sqlite3_exec(handle, sql, nil, nil, nil))
    }

    /// A cached prepared statement for `sql`, reset and with bindings cleared.
    func prepare(_ sql: String) throws -> Statement {
        try refuseIfInterrupted()
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil))
        let statement = Statement(raw!, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Runs `sql` with `values` and returns each row mapped by `row`.
    package func query<T>(_ sql: String, _ values: [SQLValue] = [], row: (Row) throws -> T) throws -> [T] {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        var out: [T] = []
        while try statement.step() { out.append(try row(Row(statement: statement))) }
        return out
    }

    /// Runs `sql` with `values`, calling `row` for each result row without collecting them.
    func forEach(_ sql: String, _ values: [SQLValue] = [], row: (Row) throws -> Void) throws {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() { try row(Row(statement: statement)) }
    }

    /// Runs `sql` once per element of `rows`, with one prepared statement.
    func run<Rows: Sequence>(_ sql: String, eachOf rows: Rows) throws where Rows.Element == [SQLValue] {
        let statement = try prepare(sql)
        defer { statement.reset() }
        for values in rows {
            try statement.bind(values)
            while try statement.step() {}
            statement.reset()
        }
    }

    package func run(_ sql: String, _ values: [SQLValue] = []) throws {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
    }

    func scalarText(_ sql: String) throws -> String? {
        try query(sql) { $0.text(0) }.first ?? nil
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`: the write lock is
    /// taken up front, so concurrent writers queue on the lock wait instead
    /// of failing when they upgrade), committing on success and rolling back on
    /// any error.
    func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            try checkIdentity()
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            rollBack()
            throw error
        }
    }

    /// Runs `body` in a read transaction, so it sees one consistent snapshot.
    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try checkIdentity()
        try execute("BEGIN DEFERRED")
        defer { rollBack() }
        return try body()
    }

    /// Fails with `StoreError.vaultReplaced` when the file at `path` is not
    /// the one this connection opened: SQLite says it has moved
    /// (`SQLITE_FCNTL_HAS_MOVED`: renamed, deleted, or another file renamed
    /// over it), its device and inode differ, or it is smaller than it has
    /// been (a vault file never shrinks: it was truncated or overwritten in
    /// place). One `stat` and one file control, at the start of every
    /// transaction. From the first failure on, the connection refuses every
    /// transaction, and closing it will not checkpoint into the file at the
    /// path; `protectPathAfterMove` says what it does to its WAL.
    private func checkIdentity() throws {
        if let replaced { throw replaced }
        var moved: Int32 = 0
        let asked = sqlite3_file_control(handle, "main", SQLITE_FCNTL_HAS_MOVED, &moved)
        let change: String
        let elsewhere: Bool
        if let now = OpenedFile(path: path) {
            if (asked == SQLITE_OK && moved != 0) || now.device != opened.device || now.inode != opened.inode {
                (change, elsewhere) = ("was replaced by another file (renamed or moved over it)", true)
            } else if now.largestSize < opened.largestSize {
                change = "shrank from \(opened.largestSize) to \(now.largestSize) bytes (truncated or overwritten in place)"
                elsewhere = false
            } else {
                opened.largestSize = now.largestSize
                return
            }
        } else {
            (change, elsewhere) = ("was moved away or deleted", true)
        }
        pirvault_sqlite3_no_checkpoint_on_close(handle)
        rollBack()
        if elsewhere { protectPathAfterMove() }
        let error = StoreError.vaultReplaced(path: path, change: change)
        replaced = error
        throw error
    }

    /// The file opened is no longer at `path`, but its WAL and shared-memory
    /// index still are (SQLite names them after the path): the next process
    /// to open the file now at `path` would read this vault's pages from
    /// them, and write them into that file at its next checkpoint. Moving
    /// every page of the WAL into the file this connection opened (through
    /// its open descriptor, not the path) and emptying the WAL leaves that
    /// file whole wherever it went, and nothing in the WAL for the new one.
    /// A file overwritten or truncated in place is left alone instead: it is
    /// the one at the path, and nothing more is written into it.
    private func protectPathAfterMove() {
        sqlite3_exec(handle, "PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
    }

    /// Ends the open transaction, if any, without changes; also after an
    /// interrupt (which may itself have rolled the transaction back).
    private func rollBack() {
        if sqlite3_get_autocommit(handle) == 0 { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
    }
}

/// A vault file as `stat` sees it: which file, and the largest size seen.
private struct OpenedFile {
    let device: UInt64
    let inode: UInt64
    var largestSize: Int64

    /// The file at `path` now; nil when there is none.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        (device, inode, largestSize) = (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
    }
}

/// How long a statement waits for another connection's lock, and whether
/// it was told to stop: the state of the connection's busy handler.
private final class LockWait {
    let timeout: Duration
    let interrupter: Interrupter
    private var waitingSince = ContinuousClock.now

    init(timeout: Duration, interrupter: Interrupter) {
        self.timeout = timeout
        self.interrupter = interrupter
    }

    /// SQLite's busy handler: nonzero to try again. `count` is 0 at the start
    /// of each wait. Sleeps 1 ms at first, doubling up to 16 ms, so a lock
    /// released soon is taken soon and a long wait costs little.
    static let callback: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, count in
        let wait = Unmanaged<LockWait>.fromOpaque(context!).takeUnretainedValue()
        let now = ContinuousClock.now
        if count == 0 { wait.waitingSince = now }
        guard !wait.interrupter.isInterrupted, now - wait.waitingSince < wait.timeout else {
            return 0
        }
        usleep(UInt32(1000 << min(count, 4)))
        return 1
    }
}

/// A prepared statement, owned by its connection's cache.
final class Statement {
    fileprivate let raw: OpaquePointer
    private unowned let connection: Connection

    init(_ raw: OpaquePointer, connection: Connection) {
        self.raw = raw
        self.connection = connection
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ values: [SQLValue]) throws {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .integer(let i): rc = sqlite3_bind_int64(raw, index, i)
            case .text(let s): rc = sqlite3_bind_text(raw, index, s, -1, transient)
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient) }
            case .null: rc = sqlite3_bind_null(raw, index)
            }
            try connection.check(rc)
        }
    }

    /// Advances to the next row; false when done.
    func step() throws -> Bool {
        let rc = sqlite3_step(raw)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.lastError
    }
}

/// The current row of a statement. Columns are read by index, in select order.
package struct Row {
    fileprivate let statement: Statement

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement.raw, column) == SQLITE_NULL }

    package func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement.raw, column) }

    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement.raw, column) else { return nil }
        let length = Int(sqlite3_column_bytes(statement.raw, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    package func string(_ column: Int32) -> String { text(column) ?? "" }

    /// The cell as its storage class says (a STRICT table has no REAL columns here).
    func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement.raw, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(int(column))
        case SQLITE_BLOB: .blob(blob(column) ?? [])
        default: .text(string(column))
        }
    }

    package func blob(_ column: Int32) -> [UInt8]? { bytes(column).map(Array.init) }

    /// The cell's bytes (a text cell's UTF-8) in SQLite's own buffer, valid
    /// until the statement steps again; nil for NULL.
    func bytes(_ column: Int32) -> UnsafeRawBufferPointer? {
        guard !isNull(column) else { return nil }
        let pointer = sqlite3_column_blob(statement.raw, column)
        return UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : Int(sqlite3_column_bytes(statement.raw, column)))
    }
}

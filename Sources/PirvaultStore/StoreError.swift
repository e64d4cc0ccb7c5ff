/// Errors of the storage layer. Messages name the problem and what to do, and
/// never carry bound values (which may be secrets).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case vaultMissing(path: String)
    case vaultExists(path: String)
    case notAVault(path: String)
    case schemaTooNew(found: Int, supported: Int)
    case migrationChanged(version: Int, name: String)
    case busy
    /// The work was stopped from outside: its deadline passed, or its task was cancelled.
    case interrupted
    case io(path: String, problem: String)
    case corrupt(what: String)
    case sqlite(code: Int32, message: String)
    /// The database server cannot be reached (or the connection was lost).
    case unavailable(String, problem: String)
    /// The database server refused or failed an operation.
    case postgres(String)
    /// `init` or `vault copy` was pointed at a database that already holds tables.
    case databaseNotEmpty(String, holdsVault: Bool)
    /// The file at the vault's path is no longer the one this connection
    /// opened (`change` says how), so the connection reads and writes
    /// nothing more: what it would write belongs to a file no longer there.
    case vaultReplaced(path: String, change: String)

    public var description: String {
        switch self {
        case .vaultMissing(let path):
            return "no vault at \(path); create one with 'pirvault init' or point --vault / PIRVAULT_PATH at an existing one"
        case .vaultExists(let path):
            return "a file already exists at \(path); refusing to overwrite it — choose another --vault path"
        case .notAVault(let path):
            return "\(path) is not a pirvault vault (not an SQLite database with a pirvault schema)"
        case .schemaTooNew(let found, let supported):
            return "this vault has schema version \(found), newer than this pirvault understands (\(supported)); upgrade pirvault"
        case .migrationChanged(let version, let name):
            return "migration \(version) (\(name)) differs from the one applied to this vault; shipped migrations must not change — restore it and add a new migration instead"
        case .busy:
            return "the vault stayed locked by another process for too long; retry when it is idle"
        case .interrupted:
            return "the vault did not answer in time; retry when it is reachable and idle"
        case .io(let path, let problem):
            return "cannot use \(path): \(problem)"
        case .corrupt(let what):
            return "the vault is damaged: \(what); restore it from a backup"
        case .sqlite(let code, let message):
            return "vault storage error (SQLite \(code)): \(message)"
        case .unavailable(let target, let problem):
            return "cannot reach the vault database at \(target): \(problem); check that PostgreSQL runs and accepts connections, then retry"
        case .postgres(let message):
            return message
        case .databaseNotEmpty(let target, let holdsVault):
            return holdsVault
                ? "a vault already exists at \(target); refusing to overwrite it — choose an empty database"
                : "the database at \(target) holds tables that are not a pirvault vault; refusing to use it — choose an empty database"
        case .vaultReplaced(let path, let change):
            return "the vault file \(path) \(change) while it was open; nothing more is read from or written to it. Stop pirvault, restore the vault as docs/reliability.md describes (never rename or copy a file over a vault in use), then start it again"
        }
    }
}

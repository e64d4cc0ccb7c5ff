/// Where a vault lives, as given by `--vault` / `PIRVAULT_PATH`: a file path
/// (SQLite) or a URL naming a PostgreSQL database.
///
/// The URL form is `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full]`
/// (`postgresql://` too, the scheme in any case), or
/// `postgres://USER@[:PORT]/DATABASE?host=/SOCKET/DIR` for a Unix socket. It
/// never carries the database password: that comes from `PGPASSWORD`, a
/// `PGPASSFILE` file or `~/.pgpass` (see ``PostgresLocation/password(environment:homeDirectory:)``).
public enum VaultLocation: Sendable, Equatable, CustomStringConvertible {
    case file(path: String)
    case postgres(PostgresLocation)

    /// Reads a `--vault` value. Anything that does not begin with
    /// `postgres://` or `postgresql://` is a file path, kept unchanged.
    ///
    /// - Throws: ``VaultLocationError`` (a usage error) for a URL that is not
    ///   usable, including one that contains a password.
    public static func parse(_ text: String) throws -> VaultLocation {
        for scheme in ["postgres://", "postgresql://"] where text.lowercased().hasPrefix(scheme) {
            return .postgres(try PostgresLocation(urlAfterScheme: text.dropFirst(scheme.count)))
        }
        return .file(path: text)
    }

    /// The path, or the URL with every setting spelled out; never a password.
    /// Fit for messages and `vault info`.
    public var description: String {
        switch self {
        case .file(let path): return path
        case .postgres(let location): return location.description
        }
    }
}

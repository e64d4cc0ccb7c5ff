/// Why a `--vault` / `PIRVAULT_PATH` value is not a usable PostgreSQL URL.
///
/// Each description is one line that names the problem and what to do. None
/// repeats the URL or a value from it, so a password typed in the wrong place
/// is never echoed; only the name of an unknown query parameter is shown, and
/// only when it is a plain word.
public enum VaultLocationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `user:password@` in the URL, or a `password` query parameter.
    case passwordInURL
    case missingUser
    case missingHost
    case missingDatabase
    /// Not a number from 1 to 65535.
    case badPort
    /// Not a name, an IPv4 address or a bracketed IPv6 address.
    case badHost
    /// Both a host and `?host=` (a socket directory).
    case hostAndSocket
    /// `?host=` that is not an absolute path.
    case socketNotAbsolute
    case unknownParameter(name: String)
    case repeatedParameter(name: String)
    case badSSLMode
    /// A `%` not followed by two hex digits, or escapes that are not UTF-8.
    case badPercentEncoding(part: String)

    /// Whether the CLI reports this as a usage error (exit 2): true for every
    /// case, since each is a mistake in the argument or environment variable.
    public var isUsageError: Bool { true }

    public var description: String {
        let form = "postgres://USER@HOST[:PORT]/DATABASE"
        switch self {
        case .passwordInURL:
            return
                "the --vault URL contains a password; remove it and put the password in PGPASSWORD, a PGPASSFILE file or ~/.pgpass"
        case .missingUser:
            return "the --vault URL names no user; write it as \(form)"
        case .missingHost:
            return
                "the --vault URL names no host; write it as \(form), or postgres://USER@/DATABASE?host=/SOCKET/DIR for a Unix socket"
        case .missingDatabase:
            return "the --vault URL names no database; write it as \(form)"
        case .badPort:
            return "the --vault URL has a bad port; give a number from 1 to 65535, or leave it out for 5432"
        case .badHost:
            return
                "the --vault URL has a bad host; give a name, an IPv4 address or an IPv6 address in brackets such as [::1]"
        case .hostAndSocket:
            return "the --vault URL gives both a host and ?host= (a socket directory); keep one of them"
        case .socketNotAbsolute:
            return "the --vault URL's ?host= must be an absolute socket directory such as /var/run/postgresql"
        case .unknownParameter(let name):
            let which = Self.isPlainWord(name) ? " '\(name)'" : ""
            return "the --vault URL has an unknown parameter\(which); only sslmode and host are accepted"
        case .repeatedParameter(let name):
            return "the --vault URL gives \(name) more than once; keep one"
        case .badSSLMode:
            return "the --vault URL's sslmode must be disable, require or verify-full"
        case .badPercentEncoding(let part):
            return "the --vault URL's \(part) has a bad %-escape; write a literal % as %25"
        }
    }

    private static func isPlainWord(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 32
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}

/// A PostgreSQL database that holds a vault: the settings of a
/// `postgres://` `--vault` URL, checked and percent-decoded.
///
/// Exactly one of ``host`` and ``socketDirectory`` is set. When the URL gives
/// no `sslmode`, it is ``SSLMode/disable`` for a Unix socket and for the
/// loopback hosts `localhost`, `127.0.0.1` and `::1`, and ``SSLMode/require``
/// for every other host. (libpq's default, `prefer`, silently falls back to
/// plain text, so it is not offered.)
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection uses TLS, named as libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, Equatable, CaseIterable {
        /// Plain text.
        case disable
        /// TLS, without checking the server's certificate.
        case require
        /// TLS, with the server's certificate checked against trusted roots and the host name.
        case verifyFull = "verify-full"
    }

    /// The database role to log in as.
    public let user: String
    /// The TCP host (an IPv6 address without brackets), or nil for a Unix socket.
    public let host: String?
    /// The absolute directory of the server's Unix socket, or nil for TCP.
    public let socketDirectory: String?
    /// The TCP port, or the number in the socket file's name; 5432 unless given.
    public let port: Int
    public let database: String
    public let sslMode: SSLMode

    /// A TCP location; `sslMode` nil picks the default described above.
    public init(user: String, host: String, port: Int = 5432, database: String, sslMode: SSLMode? = nil) {
        self.init(user: user, host: host, socketDirectory: nil, port: port, database: database, sslMode: sslMode)
    }

    /// A Unix socket location; `sslMode` nil means ``SSLMode/disable``.
    public init(user: String, socketDirectory: String, port: Int = 5432, database: String, sslMode: SSLMode? = nil) {
        self.init(
            user: user, host: nil, socketDirectory: socketDirectory, port: port, database: database, sslMode: sslMode)
    }

    private init(user: String, host: String?, socketDirectory: String?, port: Int, database: String, sslMode: SSLMode?)
    {
        self.user = user
        self.host = host
        self.socketDirectory = socketDirectory
        self.port = port
        self.database = database
        let loopback = host.map { ["localhost", "127.0.0.1", "::1"].contains($0.lowercased()) } ?? true
        self.sslMode = sslMode ?? (loopback ? .disable : .require)
    }

    /// The URL with every setting spelled out, percent-encoded so that
    /// ``VaultLocation/parse(_:)`` reads it back to this location.
    public var description: String {
        let user = URLText.encode(user), database = URLText.encode(database)
        if let socketDirectory {
            let port = port == 5432 ? "" : ":\(port)"
            let directory = URLText.encode(socketDirectory, keeping: "/")
            return "postgres://\(user)@\(port)/\(database)?host=\(directory)&sslmode=\(sslMode.rawValue)"
        }
        let host = host ?? ""
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// Reads `USER@HOST[:PORT]/DATABASE[?QUERY]`. A password is looked for
    /// first, so that it is refused whatever else is wrong.
    init(urlAfterScheme text: Substring) throws {
        // Up to the first "@", so that a password holding "/", "?" or "@" is caught too.
        if let at = text.firstIndex(of: "@"), text[..<at].contains(":") { throw VaultLocationError.passwordInURL }
        let (beforeQuery, query) = URLText.split(text, at: "?")
        let (authority, path) = URLText.split(beforeQuery, at: "/")
        guard let at = authority.lastIndex(of: "@") else { throw VaultLocationError.missingUser }
        let userInfo = authority[..<at]
        let parameters = try Self.parameters(query ?? "")
        let user = try URLText.decode(userInfo, part: "user")
        guard !user.isEmpty else { throw VaultLocationError.missingUser }
        let (host, port) = try Self.hostAndPort(authority[authority.index(after: at)...])
        guard let path, !path.isEmpty else { throw VaultLocationError.missingDatabase }
        let database = try URLText.decode(path, part: "database")
        var sslMode: SSLMode?
        if let text = parameters["sslmode"] {
            guard let mode = SSLMode(rawValue: text) else { throw VaultLocationError.badSSLMode }
            sslMode = mode
        }
        switch (host, parameters["host"]) {
        case (nil, nil): throw VaultLocationError.missingHost
        case (.some, .some): throw VaultLocationError.hostAndSocket
        case (nil, .some(let directory)):
            guard directory.hasPrefix("/") else { throw VaultLocationError.socketNotAbsolute }
            self.init(user: user, socketDirectory: directory, port: port, database: database, sslMode: sslMode)
        case (.some(let host), nil):
            self.init(user: user, host: host, port: port, database: database, sslMode: sslMode)
        }
    }

    /// The query's `sslmode` and `host`, percent-decoded; a `password`
    /// parameter is refused as a password in the URL.
    private static func parameters(_ query: Substring) throws -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let (name, value) = URLText.split(pair, at: "=")
            let key = String(name)
            guard key != "password" else { throw VaultLocationError.passwordInURL }
            guard key == "sslmode" || key == "host" else { throw VaultLocationError.unknownParameter(name: key) }
            guard parameters[key] == nil else { throw VaultLocationError.repeatedParameter(name: key) }
            parameters[key] = try URLText.decode(value ?? "", part: key)
        }
        return parameters
    }

    /// `HOST[:PORT]`, `[IPV6][:PORT]` or `[:PORT]` (empty host: a socket).
    private static func hostAndPort(_ text: Substring) throws -> (host: String?, port: Int) {
        var host: Substring, portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw VaultLocationError.badHost }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":") else { throw VaultLocationError.badHost }
            portText = rest.isEmpty ? nil : rest.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") })
            else {
                throw VaultLocationError.badHost
            }
        } else {
            (host, portText) = URLText.split(text, at: ":")
            guard portText?.contains(":") != true else { throw VaultLocationError.badHost }  // IPv6 without brackets
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
            else {
                throw VaultLocationError.badHost
            }
        }
        var port = 5432
        if let portText {
            guard portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(portText),
                (1...65535).contains(number)
            else {
                throw VaultLocationError.badPort
            }
            port = number
        }
        return (host.isEmpty ? nil : String(host), port)
    }
}

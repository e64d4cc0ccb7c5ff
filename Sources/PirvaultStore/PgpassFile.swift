/// The entries of a libpq password file (`~/.pgpass`, `PGPASSFILE`): lines
/// `hostname:port:database:username:password`, where a field that is just
/// `*` matches anything, `\:` and `\\` stand for `:` and `\`, and lines
/// beginning with `#` are comments. The first matching entry wins.
struct PgpassFile {
    private struct Entry {
        /// Host, port, database and user; nil is the `*` wildcard.
        let keys: [String?]
        let password: String
    }

    private let entries: [Entry]

    init(_ text: String) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = Self.fields(line)
            guard fields.count >= 5 else { return nil }
            return Entry(keys: fields.prefix(4).map { $0.isWildcard ? nil : $0.text }, password: fields[4].text)
        }
    }

    /// The password of the first entry that matches; nil when none does, or
    /// when that entry's password is empty. Any of `hosts` may match the host field.
    func password(hosts: [String], port: Int, database: String, user: String) -> String? {
        let entry = entries.first { entry in
            let (host, portKey, databaseKey, userKey) = (entry.keys[0], entry.keys[1], entry.keys[2], entry.keys[3])
            return (host.map(hosts.contains) ?? true) && (portKey.map { $0 == String(port) } ?? true)
                && (databaseKey.map { $0 == database } ?? true) && (userKey.map { $0 == user } ?? true)
        }
        guard let password = entry?.password, !password.isEmpty else { return nil }
        return password
    }

    /// The line's fields, split at unescaped colons, with escapes removed.
    private static func fields(_ line: Substring) -> [(text: String, isWildcard: Bool)] {
        var fields: [(text: String, isWildcard: Bool)] = []
        var text = "", raw = "", escaped = false
        for character in line {
            if escaped {
                text.append(character)
                raw.append(character)
                escaped = false
            } else if character == "\\" {
                raw.append(character)
                escaped = true
            } else if character == ":" {
                fields.append((text, raw == "*"))
                (text, raw) = ("", "")
            } else {
                text.append(character)
                raw.append(character)
            }
        }
        fields.append((text, raw == "*"))
        return fields
    }
}

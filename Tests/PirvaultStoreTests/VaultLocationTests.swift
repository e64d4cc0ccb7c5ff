import Testing

@testable import PirvaultStore

/// `--vault` values: file paths, PostgreSQL URLs and the ones refused.
struct VaultLocationTests {
    struct Accepted: Sendable, CustomTestStringConvertible {
        let text: String
        let location: VaultLocation
        var testDescription: String { text }
    }

    static let accepted: [Accepted] = [
        Accepted(text: "./vault.db", location: .file(path: "./vault.db")),
        Accepted(text: "/var/lib/pirvault/vault.db", location: .file(path: "/var/lib/pirvault/vault.db")),
        Accepted(text: "postgres.db", location: .file(path: "postgres.db")),
        Accepted(text: "postgres:/not-a-url", location: .file(path: "postgres:/not-a-url")),
        Accepted(
            text: "postgres://alice@db.example.com/vault",
            location: .postgres(.init(user: "alice", host: "db.example.com", database: "vault", sslMode: .require))),
        Accepted(
            text: "postgresql://alice@db.example.com:6543/vault?sslmode=verify-full",
            location: .postgres(
                .init(user: "alice", host: "db.example.com", port: 6543, database: "vault", sslMode: .verifyFull))),
        Accepted(
            text: "PostgreSQL://alice@db.example.com/vault?sslmode=disable",
            location: .postgres(.init(user: "alice", host: "db.example.com", database: "vault", sslMode: .disable))),
        Accepted(
            text: "POSTGRES://alice@localhost/vault",
            location: .postgres(.init(user: "alice", host: "localhost", database: "vault", sslMode: .disable))),
        Accepted(
            text: "postgres://alice@127.0.0.1:5433/vault",
            location: .postgres(
                .init(user: "alice", host: "127.0.0.1", port: 5433, database: "vault", sslMode: .disable))),
        Accepted(
            text: "postgres://alice@localhost/vault?sslmode=require",
            location: .postgres(.init(user: "alice", host: "localhost", database: "vault", sslMode: .require))),
        Accepted(
            text: "postgres://alice@[::1]:5433/vault",
            location: .postgres(.init(user: "alice", host: "::1", port: 5433, database: "vault", sslMode: .disable))),
        Accepted(
            text: "postgres://alice@[2001:db8::5]/vault",
            location: .postgres(.init(user: "alice", host: "2001:db8::5", database: "vault", sslMode: .require))),
        Accepted(
            text: "postgres://alice@/vault?host=/var/run/postgresql",
            location: .postgres(
                .init(user: "alice", socketDirectory: "/var/run/postgresql", database: "vault", sslMode: .disable))),
        Accepted(
            text: "postgres://alice@:5433/vault?host=%2Ftmp%2Fpg%20sockets&sslmode=disable",
            location: .postgres(.init(user: "alice", socketDirectory: "/tmp/pg sockets", port: 5433, database: "vault"))
        ),
        Accepted(
            text: "postgres://al%40ice%20b@db.example.com/va%2Fult%C3%A9",
            location: .postgres(.init(user: "al@ice b", host: "db.example.com", database: "va/ulté"))),
        Accepted(
            text: "postgres://alice@db.example.com/vault?",
            location: .postgres(.init(user: "alice", host: "db.example.com", database: "vault"))),
    ]

    @Test(arguments: accepted) func acceptsAndReadsBack(_ example: Accepted) throws {
        let location = try VaultLocation.parse(example.text)
        #expect(location == example.location)
        #expect(try VaultLocation.parse(location.description) == location)
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        let text: String
        let error: VaultLocationError
        /// What the message must not repeat.
        var secret = "s3cret-pw"
        var testDescription: String { text }
    }

    static let refused: [Refused] = [
        Refused(text: "postgres://alice:s3cret-pw@db.example.com/vault", error: .passwordInURL),
        Refused(text: "postgresql://alice:s3cret-pw@db.example.com:5432/vault?sslmode=require", error: .passwordInURL),
        Refused(text: "postgres://alice:s3cret-pw@db.example.com", error: .passwordInURL),
        Refused(text: "postgres://alice:s3cret/pw@db.example.com/vault", error: .passwordInURL, secret: "s3cret/pw"),
        Refused(text: "postgres://alice:s3c@ret-pw@db.example.com/vault", error: .passwordInURL, secret: "s3c@ret-pw"),
        Refused(text: "postgres://alice:@db.example.com/vault", error: .passwordInURL, secret: "alice:"),
        Refused(text: "postgres://alice@db.example.com/vault?password=s3cret-pw", error: .passwordInURL),
        Refused(text: "postgres://db.example.com/vault", error: .missingUser),
        Refused(text: "postgres://@db.example.com/vault", error: .missingUser),
        Refused(text: "postgres://alice@db.example.com", error: .missingDatabase),
        Refused(text: "postgres://alice@db.example.com/", error: .missingDatabase),
        Refused(text: "postgres://alice@/vault", error: .missingHost),
        Refused(text: "postgres://alice@db.example.com:0/vault", error: .badPort),
        Refused(text: "postgres://alice@db.example.com:65536/vault", error: .badPort),
        Refused(text: "postgres://alice@db.example.com:/vault", error: .badPort),
        Refused(text: "postgres://alice@db.example.com:+543/vault", error: .badPort),
        Refused(text: "postgres://alice@db.example.com:54x/vault", error: .badPort),
        Refused(text: "postgres://alice@::1/vault", error: .badHost),
        Refused(text: "postgres://alice@[::1/vault", error: .badHost),
        Refused(text: "postgres://alice@[::1]x/vault", error: .badHost),
        Refused(text: "postgres://alice@[db.example.com]/vault", error: .badHost),
        Refused(text: "postgres://alice@db example.com/vault", error: .badHost),
        Refused(text: "postgres://alice@db.example.com/vault?host=/tmp", error: .hostAndSocket),
        Refused(text: "postgres://alice@/vault?host=tmp", error: .socketNotAbsolute),
        Refused(text: "postgres://alice@db.example.com/vault?sslmode=prefer", error: .badSSLMode),
        Refused(text: "postgres://alice@db.example.com/vault?sslmode=", error: .badSSLMode),
        Refused(
            text: "postgres://alice@db.example.com/vault?application_name=x",
            error: .unknownParameter(name: "application_name")),
        Refused(
            text: "postgres://alice@db.example.com/vault?pass%0Aword=x", error: .unknownParameter(name: "pass%0Aword")),
        Refused(
            text: "postgres://alice@db.example.com/vault?sslmode=require&sslmode=disable",
            error: .repeatedParameter(name: "sslmode")),
        Refused(text: "postgres://al%4@db.example.com/vault", error: .badPercentEncoding(part: "user")),
        Refused(text: "postgres://alice@db.example.com/va%ZZult", error: .badPercentEncoding(part: "database")),
        Refused(text: "postgres://alice@db.example.com/%FF", error: .badPercentEncoding(part: "database")),
        Refused(text: "postgres://alice@/vault?host=%2", error: .badPercentEncoding(part: "host")),
    ]

    @Test(arguments: refused) func refusesWithOneLineThatKeepsThePasswordOut(_ example: Refused) {
        #expect(throws: example.error) { try VaultLocation.parse(example.text) }
        let message = example.error.description
        #expect(!message.contains("\n") && !message.contains("\r"))
        #expect(!message.contains(example.secret))
        #expect(message.hasPrefix("the --vault URL"))
        #expect(example.error.isUsageError)
    }

    @Test func thePasswordMessageSaysWhereThePasswordGoes() {
        #expect(
            VaultLocationError.passwordInURL.description
                == "the --vault URL contains a password; remove it and put the password in PGPASSWORD, a PGPASSFILE file or ~/.pgpass"
        )
    }

    @Test func descriptionsSpellOutEverySettingAndNoPassword() throws {
        #expect(
            try VaultLocation.parse("postgres://alice@db.example.com/vault").description
                == "postgres://alice@db.example.com:5432/vault?sslmode=require")
        #expect(
            try VaultLocation.parse("postgresql://alice@[::1]/vault").description
                == "postgres://alice@[::1]:5432/vault?sslmode=disable")
        #expect(
            try VaultLocation.parse("postgres://alice@/vault?host=/var/run/postgresql").description
                == "postgres://alice@/vault?host=/var/run/postgresql&sslmode=disable")
        #expect(
            try VaultLocation.parse("postgres://al%40ice@db.example.com:6543/v%20x").description
                == "postgres://al%40ice@db.example.com:6543/v%20x?sslmode=require")
        #expect(try VaultLocation.parse("./vault.db").description == "./vault.db")
    }

    @Test func theSocketFormHasNoHost() throws {
        guard case .postgres(let location) = try VaultLocation.parse("postgres://alice@:6000/vault?host=/run/pg") else {
            Issue.record("not a PostgreSQL location")
            return
        }
        #expect(location.host == nil)
        #expect(location.socketDirectory == "/run/pg")
        #expect(location.port == 6000)
        #expect(location.sslMode == .disable)
    }
}

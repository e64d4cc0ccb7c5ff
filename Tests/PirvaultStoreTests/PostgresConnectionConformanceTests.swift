import Foundation
import PirvaultTestSupport
import Testing

import PirvaultPostgres
@testable import PirvaultStore

/// What a PostgreSQL vault says when the database cannot be used: one line
/// that names the problem and what to do, and never a password.
struct PostgresConnectionConformanceTests {
    let wrongPassword = "not-the-password-" + UUID().uuidString

    /// The error opening `url` gives, after checking it is one line without a password.
    func refusal(_ url: String, password: String? = nil) throws -> StoreError? {
        let server = try TestPostgres.shared
        guard case .postgres(let location) = try VaultLocation.parse(url) else {
            Issue.record("\(url) is not a PostgreSQL location")
            return nil
        }
        do {
            _ = try PostgresStore.open(at: location, password: password ?? server.superuserPassword)
        } catch let error as StoreError {
            let message = error.description
            #expect(!message.contains("\n"), "\(message)")
            #expect(!message.contains(server.superuserPassword))
            #expect(!message.contains(wrongPassword))
            return error
        }
        Issue.record("\(url) opened")
        return nil
    }

    @Test func anUnreachablePortIsUnavailable() throws {
        let port = try LoopbackPort.free()
        let error = try #require(try refusal("postgres://postgres@127.0.0.1:\(port)/vault"))
        guard case .unavailable(let target, _) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(target.contains("127.0.0.1:\(port)/vault"), "\(target)")
    }

    @Test func aWrongPasswordNamesWhereThePasswordComesFrom() throws {
        let server = try TestPostgres.shared
        let error = try #require(try refusal(server.url(database: "postgres"), password: wrongPassword))
        #expect(error.description.contains("PGPASSWORD"))
        #expect(error.description.contains("~/.pgpass"))
        #expect(error.description.contains("postgres"))
    }

    @Test func aMissingDatabaseIsNamed() throws {
        let server = try TestPostgres.shared
        let error = try #require(try refusal(server.url(database: "no_such_vault_db")))
        #expect(error.description.contains("the database no_such_vault_db does not exist"), "\(error)")
    }

    @Test func sslRequiredAgainstAServerWithoutTLSSaysSo() throws {
        let server = try TestPostgres.shared
        let error = try #require(try refusal(server.url(database: "postgres") + "?sslmode=require"))
        #expect(error.description.contains("does not offer TLS"), "\(error)")
        #expect(error.description.contains("sslmode"), "\(error)")
    }
}

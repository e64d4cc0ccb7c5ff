import Foundation
import Synchronization
import Testing

struct ConcurrencyTests {
    /// Two writers hammering one vault: SQLite's busy timeout makes the second
    /// wait for the first's write lock, so neither sees "database is locked".
    @Test func twoProcessesCreating200InstancesEachBothSucceed() throws {
        let cli = try CLI.withVault()
        let failures = Mutex(0)
        let messages = Mutex([String]())
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            for i in 0..<200 {
                let result = cli.run("instance", "create", "w\(writer)-\(i)", "--customer", "customer-\(writer)")
                if result.code != 0 {
                    failures.withLock { $0 += 1 }
                    messages.withLock { $0.append(result.stderr) }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0, "\(messages.withLock { $0.prefix(3) })")
        let list = try #require(try parseJSON(cli.run("instance", "list", "--json").stdout) as? [[String: Any]])
        #expect(list.count == 400)
        let audit = try #require(try parseJSON(cli.run("audit", "list", "--json", "--event", "instance.create").stdout) as? [[String: Any]])
        #expect(audit.count == 400)
    }
}


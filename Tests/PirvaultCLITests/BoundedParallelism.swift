import Foundation
import Testing

/// Runs each test of a suite while it holds one of ``TestSlots/shared``'s
/// slots, so that at most as many CLI tests run at once as the machine has
/// cores.
///
/// swift-testing (6.3) starts every test at once. When the tests blocked
/// their threads, the cooperative pool (one thread per core) let only a few
/// run at a time; now that they await, all of them would, each with its
/// servers, load clients and CLI runs, and on two cores the child processes
/// of one test would starve those of another past their own time limits
/// (OpenAPI's driver, curl's `-m 10`, a server's 20 s to start). Waiting for
/// a slot holds no thread. Tests with a time limit of their own (which
/// counts while they wait) stay out of it.
struct BoundedParallelism: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await TestSlots.shared.acquire()
        do {
            try await function()
        } catch {
            await TestSlots.shared.release()
            throw error
        }
        await TestSlots.shared.release()
    }
}

extension Trait where Self == BoundedParallelism {
    /// Each test of the suite waits for one of ``TestSlots/shared``'s slots.
    static var boundedParallelism: Self { Self() }
}

/// A counting semaphore for tasks: ``acquire()`` suspends (holding no thread)
/// while all slots are taken, and waiters get slots in the order they asked.
actor TestSlots {
    /// One slot per core: as many CLI tests at once as ran when each held a
    /// thread of the cooperative pool.
    static let shared = TestSlots(width: ProcessInfo.processInfo.activeProcessorCount)

    private let width: Int
    private var taken = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { self.width = max(1, width) }

    func acquire() async {
        guard taken == width else {
            taken += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the slot to the longest waiter, or frees it.
    func release() {
        if waiting.isEmpty {
            taken -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

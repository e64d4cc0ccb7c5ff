import Foundation
import Testing

/// Runs each test of a suite while it holds one of ``TestSlots/shared``'s
/// slots, so that at most as many CLI tests run at once as the machine has
/// cores.
///
/// swift-testing (6.3) starts every test at once. When the tests blocked
/// their threads, the cooperative pool (one thread per core) let only that
/// many run at a time; now that they await, all of them would, each with its
/// servers, load clients and CLI runs, and on two cores the child processes
/// of one test starve those of another past their own limits (in a trial run
/// without this, OpenAPITests' driver outlived its 90 s timeout). Waiting for
/// a slot holds no thread. A test with a time limit, which counts the wait
/// too, goes to the head of the queue.
struct BoundedParallelism: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await TestSlots.shared.acquire(first: test.timeLimit != nil)
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

/// A counting semaphore for tasks: ``acquire(first:)`` suspends (holding no
/// thread) while all slots are taken, and a released slot goes to the
/// longest waiter, or to one that asked to go first.
actor TestSlots {
    /// One slot per core: as many CLI tests at once as ran when each held a
    /// thread of the cooperative pool.
    static let shared = TestSlots(width: ProcessInfo.processInfo.activeProcessorCount)

    private let width: Int
    private var taken = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { self.width = max(1, width) }

    func acquire(first: Bool = false) async {
        guard taken == width else {
            taken += 1
            return
        }
        await withCheckedContinuation { waiting.insert($0, at: first ? 0 : waiting.count) }
    }

    /// Hands the slot to the next waiter, or frees it.
    func release() {
        if waiting.isEmpty {
            taken -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

import Foundation
import Synchronization

/// A serial executor that runs every job on one thread of its own. An actor
/// that owns a blocking resource (a database connection) uses it, so that
/// the resource's blocking calls never occupy a thread of Swift's
/// cooperative pool, which on two cores has two threads and serves every
/// request. It is a task executor too: a task that prefers it (the audit
/// committer's loop) runs on the same thread, so going from the loop into
/// the actor and back needs no other thread.
///
/// Written by hand because nothing in the dependency graph offers one on
/// Linux: Dispatch has no `DispatchSerialQueue` executor there, and NIO's
/// event loops must never block. The queue is a locked array and the
/// thread sleeps on a semaphore counting the jobs.
final class ThreadExecutor: SerialExecutor, TaskExecutor, Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let waiting = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    let name: String

    /// Starts the thread, named `name` (as `top` and profilers show it).
    init(name: String) {
        self.name = name
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        waiting.signal()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Lets the thread end once the jobs queued so far have run.
    func stop() {
        stopping.store(true, ordering: .releasing)
        waiting.signal()
    }

    private func runJobs() {
        while true {
            waiting.wait()
            let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            if let job {
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            } else if stopping.load(ordering: .acquiring) {
                return
            }
        }
    }
}

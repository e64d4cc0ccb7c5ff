import Foundation
import Synchronization

/// Work split over the machine's cores: pirvault's one primitive for
/// parallel CPU work in synchronous code (audit verification and Merkle
/// hashing, which run on a command's thread or a `SerializedVault`'s, never
/// on the cooperative pool). Everything here returns only when its workers
/// are done, so borrowed buffers never outlive the call.
enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` once for each of up to `cores` contiguous chunks of
    /// `0..<count`, at the same time, each of at least `minimumChunk` items
    /// (so small inputs stay on the calling thread), and returns when all are done.
    static func forEachChunk(of count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(cores, count / max(minimumChunk, 1)))
        guard chunks > 1 else {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = SharedWithWorkers(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                shared.value(chunkRange(chunk, of: chunks, count: count))
            }
        }
    }

    /// The smallest `i` in `0..<count` for which `isBad(i)`, searching
    /// `chunks` contiguous chunks at once. Exact whatever the timing: each
    /// chunk stops at its own first bad index, and the smallest of those wins,
    /// even when a later chunk found its one first.
    static func firstIndex(in count: Int, chunks: Int = cores, where isBad: (Int) -> Bool) -> Int? {
        let chunks = max(1, min(chunks, count))
        let found = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { found.deallocate() }
        found.initialize(repeating: .max)
        withoutActuallyEscaping(isBad) { isBad in
            let shared = SharedWithWorkers((isBad: isBad, found: found))
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for i in chunkRange(chunk, of: chunks, count: count) where shared.value.isBad(i) {
                    shared.value.found[chunk] = i
                    return
                }
            }
        }
        let first = found.min()!
        return first == .max ? nil : first
    }

    /// A value worked on by another thread while the caller goes on (the
    /// audit reader fills one batch of rows while the cores hash the one
    /// before). The value moves to the worker and `wait()` moves it back; the
    /// caller holds no copy meanwhile, so nothing is shared.
    final class BackgroundWork<Value: Sendable>: Sendable {
        private let value: Mutex<Value?>
        private let done = DispatchSemaphore(value: 0)

        init(on value: consuming Value, _ work: @escaping @Sendable (inout Value) -> Void) {
            self.value = Mutex(value)
            DispatchQueue.global().async { [self] in
                self.value.withLock { work(&$0!) }
                done.signal()
            }
        }

        /// Blocks until the work is done; the value, worked on. Call it once.
        func wait() -> Value {
            done.wait()
            return value.withLock { $0.take()! }
        }
    }

    /// The `chunk`th of `chunks` near-equal contiguous parts of `0..<count`.
    static func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
        (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
    }
}

/// What `concurrentPerform`'s workers share with the caller: closures and
/// buffers that are not `Sendable`, but are used only while the caller waits
/// for the workers, and written by each worker only in its own chunk.
private struct SharedWithWorkers<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

import PirvaultCore
import Synchronization

/// Counts failed client authentications per key (client id, remote address)
/// in a fixed window, so a secret cannot be brute-forced: past the limit the
/// caller gets 429 with Retry-After until the window ends.
final class FailureLimiter: Sendable {
    private struct Window {
        var start: Int64
        var failures: Int
    }

    private let limit: Int
    let windowSeconds: Int64
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, windowSeconds: Int64) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// Seconds to wait when `key` is over its limit, else nil.
    func retryAfter(_ key: String, now: Int64) -> Int64? {
        windows.withLock { windows in
            guard let window = windows[key], now - window.start < windowSeconds, window.failures >= limit else { return nil }
            return window.start + windowSeconds - now
        }
    }

    func recordFailure(_ key: String, now: Int64) {
        windows.withLock { windows in
            if windows.count > 100_000 { windows = windows.filter { now - $0.value.start < windowSeconds } }
            if var window = windows[key], now - window.start < windowSeconds {
                window.failures += 1
                windows[key] = window
            } else {
                windows[key] = Window(start: now, failures: 1)
            }
        }
    }
}

import Logging
import PirvaultCore
import PirvaultStore
import Synchronization

/// Whether the writer connection can commit, as the audit committer and
/// `GET /readyz` find out, and the one place that logs a change of it: one
/// line when commits start failing (with the vault's error, which says what
/// to do and never holds a secret) and one when they succeed again — not a
/// line per request, however many get 503 meanwhile.
final class CommitHealth: Sendable {
    private struct Failing {
        let since: ContinuousClock.Instant
        var attempts: Int
    }

    private let logger: Logger
    private let failing = Mutex<Failing?>(nil)

    init(logger: Logger) { self.logger = logger }

    /// A commit (or an empty write transaction) went through.
    func succeeded() {
        guard let was = failing.withLock({ failing -> Failing? in
            defer { failing = nil }
            return failing
        }) else { return }
        let seconds = Double((ContinuousClock.now - was.since).nanoseconds / 1_000_000) / 1000
        logger.notice("audit commits succeed again after \(seconds) s and \(was.attempts) failed attempts; serving normally")
    }

    /// A commit failed with `error` (its requests got 503).
    func failed(_ error: any Error) {
        let first = failing.withLock { failing -> Bool in
            if failing != nil {
                failing!.attempts += 1
                return false
            }
            failing = Failing(since: .now, attempts: 1)
            return true
        }
        if first {
            logger.error("audit commits are failing, so requests get 503 until they succeed: \(Self.describe(error))")
        }
    }

    /// The vault's own message (it names the problem and what to do); for
    /// anything else only its type, whose text might quote input.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as VaultError: error.description
        case let error as StoreError: error.description
        default: "\(type(of: error))"
        }
    }
}

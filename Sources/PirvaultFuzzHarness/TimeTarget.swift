import PirvaultCore
import PirvaultStore

/// Feeds text to `TimeInput` (`--grace`, `--since`, `audit prune --before`,
/// PIRVAULT_CHECKPOINT_INTERVAL).
///
/// Invariants: a duration is within 0…10 years, and `1h30m` is the sum of
/// `1h` and `30m` wherever the text splits into two valid durations; a point
/// in time is the RFC 3339 time written, which survives being written as
/// RFC 3339 and read again, or `now` minus the duration; refusals are usage
/// errors with a one-line message.
enum TimeTarget {
    static let now = Timestamp(seconds: 1_800_000_000)
    static let tenYears: Int64 = 10 * 366 * 86_400

    static func check(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        if let seconds = try duration(text) {
            guard (0...tenYears).contains(seconds) else {
                throw InvariantViolation("duration \(text.debugDescription) is \(seconds) s")
            }
            for split in text.indices.dropFirst() {
                if let first = try duration(String(text[..<split])), let rest = try duration(String(text[split...])),
                    first + rest != seconds
                {
                    throw InvariantViolation("duration \(text.debugDescription) is \(seconds) s, its parts \(first) s + \(rest) s")
                }
            }
        }
        let time: Timestamp
        do {
            time = try TimeInput.timestamp(from: text, now: now)
        } catch {
            try expectUsageError(error, text)
            return
        }
        if let absolute = Timestamp(rfc3339: text) {
            guard time == absolute, Timestamp(rfc3339: time.rfc3339) == time else {
                throw InvariantViolation("time \(text.debugDescription) is read as \(time.rfc3339), which reads back differently")
            }
        } else {
            let ago = text.hasPrefix("-") ? String(text.dropFirst()) : text
            guard let seconds = try duration(ago), time == now.adding(seconds: -seconds) else {
                throw InvariantViolation("time \(text.debugDescription) is \(time.rfc3339), not that long before now")
            }
        }
    }

    /// The duration, or nil when refused as it should be.
    private static func duration(_ text: String) throws(InvariantViolation) -> Int64? {
        do {
            return try TimeInput.seconds(fromDuration: text)
        } catch {
            try expectUsageError(error, text)
            return nil
        }
    }

    private static func expectUsageError(_ error: any Error, _ text: String) throws(InvariantViolation) {
        guard let error = error as? VaultError, error.isUsageError, !containsControl(error.description) else {
            throw InvariantViolation("\(text.debugDescription) was refused with \(error)")
        }
    }
}

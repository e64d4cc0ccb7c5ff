import PirvaultStore

/// Durations (`90s`, `15m`, `24h`, `7d`, or sums like `1h30m`) and points in
/// time (RFC 3339, or a duration meaning "that long ago") as users type them.
public enum TimeInput {
    /// At most ten years, so arithmetic on the result cannot overflow.
    static let maximumSeconds: Int64 = 10 * 366 * 86_400

    public static func seconds(fromDuration text: String) throws -> Int64 {
        let problem = VaultError.invalidInput(
            "invalid duration '\(Validation.printable(text))'; use a number with s, m, h or d, such as 90s, 15m, 24h, 7d")
        var total: Int64 = 0
        var number: Int64? = nil
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let next = (number ?? 0) * 10 + Int64(digit)
                guard next <= maximumSeconds else { throw problem }
                number = next
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: throw problem
            }
            guard let value = number else { throw problem }
            total += value * unit
            guard total <= maximumSeconds else { throw problem }
            number = nil
        }
        guard number == nil, !text.isEmpty else { throw problem }
        return total
    }

    /// RFC 3339, or a duration before `now` (`24h` and `-24h` both mean 24 hours ago).
    public static func timestamp(from text: String, now: Timestamp) throws -> Timestamp {
        if let absolute = Timestamp(rfc3339: text) { return absolute }
        let duration = text.hasPrefix("-") ? String(text.dropFirst()) : text
        guard let seconds = try? Self.seconds(fromDuration: duration) else {
            throw VaultError.invalidInput(
                "invalid time '\(Validation.printable(text))'; use RFC 3339 (2026-11-21T09:30:00Z) or a duration ago (24h, 7d)")
        }
        return now.adding(seconds: -seconds)
    }
}

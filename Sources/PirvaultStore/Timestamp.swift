import Foundation

/// A point in time in whole microseconds since 1970-01-01T00:00:00Z, written
/// as RFC 3339 in UTC with microseconds (`2026-11-21T09:30:00.000000Z`).
public struct Timestamp: Comparable, Hashable, Sendable {
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(seconds: Int64) { self.microseconds = seconds * 1_000_000 }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000)
    }

    public var seconds: Int64 {
        microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
    }

    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microseconds: microseconds + seconds * 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// `YYYY-MM-DDThh:mm:ss.ffffffZ`, written digit by digit (audit
    /// verification formats one per event; `String(format:)` was the hot spot).
    public var rfc3339: String {
        var out: [UInt8] = []
        writeRFC3339(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `rfc3339`'s 27 bytes to `out`.
    public func writeRFC3339(into out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 27))
        func put(_ value: Int, at offset: Int, digits: Int) {
            var v = value
            for i in stride(from: start + offset + digits - 1, through: start + offset, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, digits: 4)
        out[start + 4] = UInt8(ascii: "-")
        put(Int(parts.tm_mon) + 1, at: 5, digits: 2)
        out[start + 7] = UInt8(ascii: "-")
        put(Int(parts.tm_mday), at: 8, digits: 2)
        out[start + 10] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), at: 11, digits: 2)
        out[start + 13] = UInt8(ascii: ":")
        put(Int(parts.tm_min), at: 14, digits: 2)
        out[start + 16] = UInt8(ascii: ":")
        put(Int(parts.tm_sec), at: 17, digits: 2)
        out[start + 19] = UInt8(ascii: ".")
        put(Int(microseconds - seconds * 1_000_000), at: 20, digits: 6)
        out[start + 26] = UInt8(ascii: "Z")
    }

    /// Parses RFC 3339 (`2026-11-21T09:30:00Z`, fractions and `±hh:mm` offsets allowed).
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for byte in b[start..<(start + count)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2),
            b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var micros = 0
        if index < b.count, b[index] == 0x2E {
            index += 1
            var scale = 100_000
            let start = index
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                micros += Int(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < b.count else { return nil }
        var offsetSeconds = 0
        switch b[index] {
        case 0x5A, 0x7A:  // Z z
            index += 1
        case 0x2B, 0x2D:  // + -
            guard let oh = digits(index + 1, 2), index + 3 < b.count, b[index + 3] == 0x3A,
                let om = digits(index + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[index] == 0x2B ? 1 : -1)
            index += 6
        default: return nil
        }
        guard index == b.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(min(second, 59))
        let epoch = Int64(timegm(&parts))
        // timegm normalises 31 February into March: refuse dates that moved.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return nil }
        // `rfc3339` writes four-digit years: refuse what an offset moves out of
        // 0000–9999 (it would be written as another time, or not at all).
        let seconds = epoch - Int64(offsetSeconds)
        guard (-62_167_219_200...253_402_300_799).contains(seconds) else { return nil }
        microseconds = seconds * 1_000_000 + Int64(micros)
    }
}

import Foundation
import PirvaultJSON

/// Everything the CLI writes goes through here.
enum Output {
    /// Buffered stdout for large listings: one write per 64 KiB.
    final class Writer {
        private var buffer: [UInt8] = []

        init() { buffer.reserveCapacity(1 << 16) }

        func write(_ text: String) {
            buffer += text.utf8
            if buffer.count >= 1 << 16 { flush() }
        }

        func write(bytes: [UInt8]) {
            buffer += bytes
            if buffer.count >= 1 << 16 { flush() }
        }

        func flush() {
            var offset = 0
            buffer.withUnsafeBytes { raw in
                while offset < raw.count {
                    let n = Foundation.write(STDOUT_FILENO, raw.baseAddress! + offset, raw.count - offset)
                    guard n > 0 else {
                        if errno == EINTR { continue }
                        Output.fail("cannot write to standard output: \(String(cString: strerror(errno)))", code: 1)
                    }
                    offset += n
                }
            }
            buffer.removeAll(keepingCapacity: true)
        }

        deinit { flush() }
    }

    static func line(_ text: String) {
        let writer = Writer()
        writer.write(text + "\n")
    }

    static func json(_ value: JSONValue) { line(value.prettyString()) }

    /// A JSON array streamed one compact element per line: `forEach` calls its
    /// argument with each element's JSON text.
    static func jsonArray(_ forEach: ((String) -> Void) throws -> Void) rethrows {
        let out = Writer()
        var first = true
        out.write("[")
        try forEach { element in
            out.write(first ? "\n  " : ",\n  ")
            out.write(element)
            first = false
        }
        out.write(first ? "]\n" : "\n]\n")
    }

    /// One line on stderr, then exit.
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("pirvault: \(message)\n".utf8))
        exit(code)
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("pirvault: \(message)\n".utf8))
    }

    /// Prints rows as an aligned table with a header.
    static func table(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let writer = Writer()
        for row in [header] + rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i + 1 < row.count ? cell.padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0) : cell
            }
            writer.write(line + "\n")
        }
    }
}

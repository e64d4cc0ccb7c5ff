import Foundation
import PirvaultTestSupport

/// One plain TCP connection to a server on 127.0.0.1 that a test keeps open
/// and drives by hand: idle, slow (a slowloris) or keep-alive. Closed on deinit.
///
/// Connecting and reading block (up to their timeouts), so they run on a
/// dedicated thread (``onDedicatedThread(_:)``), off the cooperative pool;
/// sending a request line and checking for a close do not block.
final class LoopbackConnection: Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Connects, giving up after `timeout` seconds (a full backlog); nil when refused or timed out.
    static func connect(port: Int, timeout: Int = 2) async -> LoopbackConnection? {
        await onDedicatedThread { blockingConnect(port: port, timeout: timeout).map(LoopbackConnection.init(fd:)) }
    }

    /// A connected socket, or nil (nothing left open).
    private static func blockingConnect(port: Int, timeout: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            return nil
        }
        return fd
    }

    deinit { close(fd) }

    /// Sends all of `text`; false when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// What arrives within `seconds`, up to the end of one HTTP answer with a
    /// Content-Length (or the server's close). Reads on a dedicated thread.
    func receiveResponse(within seconds: Double = 5) async -> String {
        await onDedicatedThread { self.blockingReceiveResponse(within: seconds) }
    }

    private func blockingReceiveResponse(within seconds: Double) -> String {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&poller, 1, 50) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[..<n]
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n"),
                let length = text[..<end.lowerBound].split(separator: "\r\n")
                    .first(where: { $0.lowercased().hasPrefix("content-length:") })
                    .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
                received.count >= text[..<end.upperBound].utf8.count + length
            {
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether the server has closed its side: end of stream or a reset, without blocking.
    var isClosedByServer: Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poller, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Seconds until the server closed the connection, polling every 50 ms for at most `limit` seconds; nil if it stayed open.
    func secondsUntilClosed(limit: Double) async throws -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            if isClosedByServer { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

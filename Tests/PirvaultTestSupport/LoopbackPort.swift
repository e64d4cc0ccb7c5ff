import Foundation

/// Free TCP ports on 127.0.0.1 for servers the tests start.
public enum LoopbackPort {
    /// A port nothing listens on right now (the kernel's pick for port 0).
    ///
    /// Another process may take it before the caller binds it; servers that
    /// fail to start on it can ask again.
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackPortError() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw LoopbackPortError() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The kernel gave no free loopback port.
public struct LoopbackPortError: Error, CustomStringConvertible {
    public var description: String {
        "no free TCP port on 127.0.0.1; check the loopback interface and the open-file limit"
    }
}

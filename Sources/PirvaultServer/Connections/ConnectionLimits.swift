import Foundation

/// How many HTTP connections `serve` keeps open, and for how long.
///
/// Hummingbird closes a connection that has been idle for `idleTimeout`
/// (its HTTP/1 channel's own timer). The header-read timeout and the cap
/// are pirvault's (`ConnectionGuardHandler`, `ConnectionTracker`):
/// Hummingbird's only cap stops accepting, which leaves every new client
/// waiting in the kernel's backlog behind the connections that hold the
/// slots.
public struct ConnectionLimits: Sendable {
    /// A keep-alive connection with no request for this long is closed.
    /// 75 s, above the 60 s idle timeout of common load balancers (AWS ALB,
    /// Google's): the balancer closes an idle connection first, so it never
    /// sends a request on one the server is closing.
    public var idleTimeout: Duration = .seconds(75)
    /// A request's header must have arrived this long after its first byte
    /// (after the accept, for a connection's first request, which covers the
    /// TLS handshake); otherwise the connection is closed (a slowloris).
    public var headerReadTimeout: Duration = .seconds(10)
    /// Connections served at once. At the cap, a new connection closes the
    /// one that has waited longest without a request in progress; when every
    /// connection has one in progress, the new one is answered 503.
    public var maxConnections: Int

    /// Connections accepted past `maxConnections` only to be answered 503;
    /// beyond those the server stops accepting (Hummingbird's own cap) and
    /// further clients wait in the kernel's backlog, which costs no descriptor.
    public static let refusalSlots = 32
    /// Descriptors never given to connections: the vault's files, the
    /// listening socket, the event loops' epoll and event descriptors, the
    /// upstream client's connections, the certificate files on SIGHUP.
    public static let minimumReserve = 64

    /// The default cap under the process's descriptor limit.
    public init() {
        maxConnections = Self.defaultMaximum(descriptorLimit: Self.descriptorLimit())
    }

    /// The soft limit on open descriptors (`ulimit -n`, systemd's `LimitNOFILE=`).
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur == rlim_t.max ? Int(Int32.max) : Int(clamping: limit.rlim_cur)  // rlim_t.max: RLIM_INFINITY
    }

    /// Descriptors kept back from connections under `limit`: an eighth, and at least `minimumReserve`.
    public static func reserve(descriptorLimit limit: Int) -> Int {
        max(minimumReserve, limit / 8)
    }

    /// The largest cap that leaves the reserve free: 896 under 1,024, 57,344 under 65,536.
    public static func defaultMaximum(descriptorLimit limit: Int) -> Int {
        max(1, limit - reserve(descriptorLimit: limit))
    }

    /// The largest cap an operator may ask for under `limit`: the refusal
    /// slots and the minimum reserve stay free.
    public static func largestMaximum(descriptorLimit limit: Int) -> Int {
        limit - refusalSlots - minimumReserve
    }
}

import Logging
import NIOCore
import Synchronization

/// The open HTTP connections of one server, across its event loops, kept
/// at `maximum` so that idle or slow clients cannot use up the process's
/// descriptors and lock everyone else out.
///
/// At the cap, a new connection is admitted by closing the connection that
/// has gone longest without a request in progress (idle between requests,
/// or still waiting for its first header): that one costs its client a
/// reconnect at worst, while turning the new one away would leave a server
/// full of idle sockets refusing real work (nginx reuses idle keep-alive
/// connections the same way). Only when every connection is in the middle
/// of a request is the new one refused, and `ConnectionGuardHandler`
/// answers it 503.
final class ConnectionTracker: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var evictable = EvictionQueue()
        var evicted = 0
        var refused = 0
    }

    let maximum: Int
    private let logger: Logger
    private let state = Mutex(State())

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
    }

    /// Counts `channel` in, closing the longest-idle connection when the
    /// server is full. False: every connection has a request in progress,
    /// and `channel` is not counted.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let (admitted, victim): (Bool, (any Channel)?) = state.withLock { state in
            var victim: (any Channel)? = nil
            if state.open.count >= maximum {
                guard let oldest = state.evictable.removeOldest() else {
                    state.refused += 1
                    return (false, nil)
                }
                victim = state.open.removeValue(forKey: oldest)
                state.evicted += 1
            }
            state.open[id] = channel
            state.evictable.append(id)
            return (true, victim)
        }
        if let victim {
            logger.debug("connection limit reached: closed the longest idle connection", metadata: ["max_connections": "\(maximum)"])
            victim.close(promise: nil)
        } else if !admitted {
            logger.debug("connection limit reached with every connection busy: answering 503", metadata: ["max_connections": "\(maximum)"])
        }
        return admitted
    }

    /// `channel` has a request in progress: it is not evicted until `idle`.
    func busy(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.evictable.remove(id) }
    }

    /// `channel` has nothing in progress (between requests, or reading a
    /// new request's header): evictable, as the newest.
    func idle(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            guard state.open[id] != nil else { return }
            state.evictable.remove(id)
            state.evictable.append(id)
        }
    }

    /// `channel` closed.
    func remove(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            if state.open.removeValue(forKey: id) != nil { state.evictable.remove(id) }
        }
    }

    /// Open, evicted so far, refused so far.
    var counts: (open: Int, evicted: Int, refused: Int) {
        state.withLock { ($0.open.count, $0.evicted, $0.refused) }
    }
}

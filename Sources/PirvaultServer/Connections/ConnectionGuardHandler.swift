import NIOCore

/// One connection's place under the connection cap, and its header-read
/// timeout. Sits on the plain bytes (after TLS, before the HTTP decoder), so
/// it sees a request's first byte; `RequestPhaseHandler`, behind the
/// decoder, tells it when a request's header is complete and when its
/// answer has been written.
///
/// - Admitted at once when the server has room (`ConnectionTracker`);
///   refused when every connection is busy, and then the first bytes it
///   sends are answered with a fixed 503 and the connection is closed.
/// - The header timer runs from the accept until the first request's header
///   is complete, and again from the first byte of each later request; when
///   it fires, the connection is closed. Between requests only Hummingbird's
///   idle timeout applies.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Waiting for (the rest of) a request's header; evictable.
        case readingHeader
        /// Requests whose header arrived and whose answer is not yet written; not evictable.
        case handling(requests: Int)
        /// Between requests; evictable.
        case idle
        /// Not admitted: answered 503 on its first bytes.
        case refused
        case closed
    }

    private let tracker: ConnectionTracker
    private let headerReadTimeout: TimeAmount
    private var state = State.closed
    private var headerTimer: Scheduled<Void>?
    private var channel: (any Channel)?

    /// The answer past the cap: a complete HTTP/1.1 response, written as
    /// bytes because a refused connection's request is never parsed.
    static let refusal: String = {
        let body =
            #"{"error":"temporarily_unavailable","error_description":"the server has as many connections as it serves at once; retry shortly"}"#
            + "\n"
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Cache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body
    }()

    init(tracker: ConnectionTracker, headerReadTimeout: TimeAmount) {
        self.tracker = tracker
        self.headerReadTimeout = headerReadTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        state = tracker.admit(context.channel) ? .readingHeader : .refused
        startHeaderTimer(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .refused:
            state = .closed
            cancelHeaderTimer()
            let answer = context.channel.allocator.buffer(string: Self.refusal)
            context.writeAndFlush(wrapOutboundOut(answer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        case .closed:
            return
        case .idle:
            state = .readingHeader
            if let channel { tracker.idle(channel) }
            startHeaderTimer(context)
        case .readingHeader, .handling:
            break
        }
        context.fireChannelRead(data)
    }

    /// A request's header is complete (`RequestPhaseHandler`).
    func headerReceived() {
        switch state {
        case .readingHeader, .idle:
            state = .handling(requests: 1)
            cancelHeaderTimer()
            if let channel { tracker.busy(channel) }
        case .handling(let requests):
            state = .handling(requests: requests + 1)  // pipelined
        case .refused, .closed:
            break
        }
    }

    /// A request's answer is written (`RequestPhaseHandler`).
    func responseFinished() {
        guard case .handling(let requests) = state else { return }
        if requests > 1 {
            state = .handling(requests: requests - 1)
        } else {
            state = .idle
            if let channel { tracker.idle(channel) }
        }
    }

    private func startHeaderTimer(_ context: ChannelHandlerContext) {
        cancelHeaderTimer()
        headerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: headerReadTimeout) { [self] in
            headerTimer = nil
            switch state {
            case .readingHeader, .refused:
                state = .closed
                context.close(promise: nil)
            case .handling, .idle, .closed:
                break
            }
        }
    }

    private func cancelHeaderTimer() {
        headerTimer?.cancel()
        headerTimer = nil
    }

    private func finish() {
        cancelHeaderTimer()
        if let channel {
            tracker.remove(channel)
            self.channel = nil
        }
        state = .closed
    }
}

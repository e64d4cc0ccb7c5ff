import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel with a `ConnectionGuardHandler` in
/// front of its HTTP handlers: the connection is counted against the cap
/// and given its header-read timeout before any byte is decoded. With TLS,
/// HummingbirdTLS's `TLSChannel` wraps this one, so the guard sees the
/// decrypted bytes and the cap counts connections still in their handshake.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let tracker: ConnectionTracker
    let headerReadTimeout: TimeAmount

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuardHandler(tracker: tracker, headerReadTimeout: headerReadTimeout))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

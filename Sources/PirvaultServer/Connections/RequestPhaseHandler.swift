import NIOCore
import NIOHTTPTypes

/// Tells the connection's `ConnectionGuardHandler` when a request's header
/// has been decoded and when its answer's last part is written. Added behind
/// the HTTP decoder through Hummingbird's `additionalChannelHandlers`, one
/// per connection; it passes every part on unchanged.
final class RequestPhaseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var connectionGuard: ConnectionGuardHandler?

    func handlerAdded(context: ChannelHandlerContext) {
        // The guard is added before the HTTP handlers, on the same pipeline.
        connectionGuard = try? context.pipeline.syncOperations.handler(type: ConnectionGuardHandler.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionGuard = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { connectionGuard?.headerReceived() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { connectionGuard?.responseFinished() }
        context.write(data, promise: promise)
    }
}

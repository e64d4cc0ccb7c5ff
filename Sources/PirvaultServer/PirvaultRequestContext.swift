import Hummingbird
import NIOCore

/// Each request's context: Hummingbird's, plus what pirvault's middleware
/// sets: the caller's address, the request id, when the request arrived,
/// and its body (read once, bounded).
public struct PirvaultRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?
    public let started = ContinuousClock.now
    /// From `X-Request-ID` (at most 64 characters) or made up; `RequestIDMiddleware` sets it.
    public var requestID = ""
    /// The whole request body; `RequestLimitsMiddleware` reads it.
    public var body = ByteBuffer()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

extension HTTPFields.Element.Name {
    static let requestID = Self("X-Request-ID")!
    static let originalURI = Self("X-Original-URI")!
    static let originalMethod = Self("X-Original-Method")!
    static let pragma = Self("Pragma")!
}

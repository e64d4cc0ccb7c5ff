import Hummingbird
import NIOCore
import PirvaultJSON

/// A response before Hummingbird's types: status, headers, body.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(status: HTTPResponse.Status, headers: HTTPFields, body: String) {
        self.init(status: status, headers: headers, body: ByteBuffer(string: body))
    }

    /// A JSON answer; never cached (it may carry a token or a decision).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Reply {
        var all = headers
        all[.contentType] = "application/json"
        all[.cacheControl] = "no-store"
        all[.pragma] = "no-cache"
        return Reply(status: status, headers: all, body: value.compactString() + "\n")
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Reply {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Reply(status: .ok, headers: headers, body: text)
    }

    var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

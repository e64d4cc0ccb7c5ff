/// How `pirvault serve` runs.
public struct ServerConfiguration: Sendable {
    /// Address to listen on; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8080
    /// Public base URL, named by tokens (`iss`, `jku`) and the metadata.
    public var issuer: String
    /// Largest request body accepted by the OAuth endpoints.
    public var maxFormBytes = 16 * 1024
    /// Largest request body accepted by the flow gateway.
    public var maxGatewayBodyBytes = 1 << 20
    /// Largest total size of request header fields.
    public var maxHeaderBytes = 16 * 1024
    /// Failed client authentications allowed per client id (and per remote
    /// address) within `failureWindowSeconds` before answering 429.
    public var maxFailedAuthentications = 10
    public var failureWindowSeconds: Int64 = 60
    /// How long a request waits for the vault — a read it needs, or its audit
    /// row's commit — before it is refused with 503.
    public var vaultTimeout: Duration = .seconds(3)
    /// Where allowed gateway calls go; without one the gateway answers a JSON receipt.
    public var upstream: UpstreamConfiguration?
    /// The certificate and key HTTPS is served with (checked, from
    /// `TLSCredential.load`); nil serves plain HTTP.
    public var tls: TLSCredential?
    /// Idle and header-read timeouts, and the cap on open connections.
    public var connections = ConnectionLimits()

    public init(issuer: String) { self.issuer = issuer }
}

import NIOCore
import NIOSSL
import Synchronization

/// The certificate that new TLS connections are served with, replaced on
/// SIGHUP while the server runs.
///
/// The `NIOSSLContext` that HummingbirdTLS builds at start keeps the first
/// credential; swift-nio-ssl asks `contextCallback` once per handshake
/// (BoringSSL's certificate callback, after the ClientHello), and the
/// callback answers with the credential this store holds now. A connection
/// that finished its handshake keeps the certificate it got: renewal never
/// touches it.
final class TLSCertificateStore: Sendable {
    /// The credential the context was built with.
    let initial: TLSCredential
    /// The override new handshakes apply: none until the first renewal.
    private let current: Mutex<(credential: TLSCredential, override: NIOSSLContextConfigurationOverride)>

    init(_ credential: TLSCredential) {
        initial = credential
        current = Mutex((credential, .noChanges))
    }

    /// The credential new connections get.
    var credential: TLSCredential { current.withLock { $0.credential } }

    /// Makes every handshake from now on use `credential`.
    func replace(with credential: TLSCredential) {
        let override = credential.override
        current.withLock { $0 = (credential, override) }
    }

    /// HummingbirdTLS's configuration: the first credential, and the
    /// callback that swaps in the current one.
    var tlsConfiguration: TLSConfiguration {
        initial.configuration(contextCallback: { [self] _, promise in
            promise.succeed(current.withLock { $0.override })
        })
    }
}

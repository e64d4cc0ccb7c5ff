import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Takes up a renewed TLS certificate on SIGHUP, without a restart and
/// without touching open connections.
///
/// A ServiceLifecycle `Service` of the application: it traps SIGHUP from
/// the moment it runs until graceful shutdown. On each signal it reads both
/// files again and checks them exactly as `serve` does at start
/// (`TLSCredential.load`); a good pair goes into the store, so the next
/// handshake uses it, and a bad one is logged in one line while the
/// previous certificate goes on being served. Without TLS (`store` nil) it
/// still traps SIGHUP, so `systemctl reload` never ends a plain server.
struct TLSCertificateReloader: Service {
    let store: TLSCertificateStore?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// One renewal attempt; the files are read on NIO's blocking-I/O pool,
    /// not on a task of the cooperative pool.
    func reload() async {
        guard let store else {
            logger.notice("SIGHUP: serving plain HTTP, there is no certificate to reload")
            return
        }
        let old = store.credential
        let attempt: Result<TLSCredential, TLSCredentialError>
        do {
            attempt = try await NIOThreadPool.singleton.runIfActive {
                Result { () throws(TLSCredentialError) in
                    try TLSCredential.load(certificateFile: old.certificateFile, keyFile: old.keyFile)
                }
            }
        } catch {
            logger.error("TLS certificate not renewed: the blocking-I/O pool is shutting down; still serving SHA-256 \(old.fingerprint)")
            return
        }
        switch attempt {
        case .success(let renewed):
            store.replace(with: renewed)
            logger.notice(
                "TLS certificate renewed: new connections get SHA-256 \(renewed.fingerprint), valid until \(renewed.notValidAfter.formatted(.iso8601)); open connections keep theirs")
        case .failure(let error):
            logger.error("TLS certificate not renewed, still serving SHA-256 \(old.fingerprint): \(error)")
        }
    }
}

import Foundation
import NIOSSL
import PirvaultCore
import PirvaultCrypto

/// The certificate chain and private key that `serve --tls-cert --tls-key`
/// serves with, read from their PEM files and checked before any
/// connection sees them: at start and on every SIGHUP
/// (`TLSCertificateReloader`), by the same `load`.
public struct TLSCredential: Sendable {
    /// The certificate file (PEM: the server's certificate first, then any intermediates).
    public let certificateFile: String
    /// The private key file (unencrypted PEM, mode 0600 or stricter).
    public let keyFile: String
    /// The chain as parsed, the server's own certificate first.
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// SHA-256 of the server certificate's DER, lower-case hex: what a
    /// client's `openssl x509 -fingerprint -sha256` shows (without colons).
    public let fingerprint: String
    /// When the server certificate stops being valid.
    public let notValidAfter: Date

    /// The TLS versions served: 1.2 and 1.3; a client that offers only 1.0
    /// or 1.1 fails its handshake.
    static let minimumVersion = TLSVersion.tlsv12
    static let maximumVersion = TLSVersion.tlsv13
    /// TLS 1.2 suites: ephemeral ECDH with an AEAD only (Mozilla's
    /// "intermediate" list as BoringSSL names it). TLS 1.3 has its own
    /// three suites, all AEAD, which BoringSSL does not let one change.
    static let tls12CipherSuites =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    /// The shortest RSA key served (NIST SP 800-57: 112-bit security).
    static let minimumRSABits = 2048
    /// Larger than any certificate chain a server sends.
    static let maximumCertificateFileSize = 1 << 20

    /// Reads both files and checks them: the key file's mode (`SecretFile`,
    /// as for the vault's key file), PEM in both, every certificate valid at
    /// `now`, an RSA key of at least 2048 bits, and a key that belongs to
    /// the certificate (BoringSSL's own check, when it builds a context).
    ///
    /// - Throws: `TLSCredentialError`, one line that names the file and says
    ///   what to do; never anything from the key file.
    public static func load(certificateFile: String, keyFile: String, now: Date = Date()) throws(TLSCredentialError)
        -> TLSCredential
    {
        let keyBytes: SecretBytes
        do {
            keyBytes = try SecretFile.read(keyFile, what: "TLS key file")
        } catch {
            throw TLSCredentialError(error.description)
        }
        let chain = try certificates(in: certificateFile)
        let key = try privateKey(keyBytes, file: keyFile)
        for (index, certificate) in chain.enumerated() {
            let name = index == 0 ? "the certificate in \(certificateFile)" : "certificate \(index + 1) of the chain in \(certificateFile)"
            if Double(certificate.notValidAfter) < now.timeIntervalSince1970 {
                throw TLSCredentialError("\(name) expired on \(utc(certificate.notValidAfter)); renew it")
            }
            if Double(certificate.notValidBefore) > now.timeIntervalSince1970 {
                throw TLSCredentialError(
                    "\(name) is not valid before \(utc(certificate.notValidBefore)); check the clock, or use a certificate that is valid now")
            }
        }
        let leaf = chain[0]
        let credential = TLSCredential(
            certificateFile: certificateFile, keyFile: keyFile, chain: chain, key: key,
            fingerprint: SHA256.hash((try? leaf.toDERBytes()) ?? []).hexString,
            notValidAfter: Date(timeIntervalSince1970: Double(leaf.notValidAfter)))
        do {
            // BoringSSL compares the key with the certificate's public key
            // here (SSL_CTX_use_PrivateKey). The key already parsed, and is of
            // a type BoringSSL serves (RSA, ECDSA, Ed25519), so its refusal
            // means the two do not belong together.
            _ = try NIOSSLContext(configuration: credential.configuration())
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw TLSCredentialError(
                "the TLS key in \(keyFile) is not the key of the certificate in \(certificateFile); give the key the certificate was issued for")
        } catch {
            throw TLSCredentialError(
                "the certificate in \(certificateFile) and the key in \(keyFile) cannot be used for TLS (\(error)); check that both are PEM files made for a server")
        }
        if let spki = try? leaf.extractPublicKey().toSPKIBytes(), let bits = RSAKeySize.bits(subjectPublicKeyInfo: spki),
            bits < minimumRSABits
        {
            throw TLSCredentialError(
                "the certificate in \(certificateFile) has an RSA key of \(bits) bits; TLS needs at least \(minimumRSABits): make a new key and certificate (e.g. 'openssl req -newkey rsa:3072 …')")
        }
        return credential
    }

    /// swift-nio-ssl's server configuration for this credential: TLS 1.2 and
    /// 1.3 only, and `contextCallback` (the per-handshake override that
    /// serves a renewed certificate) when given.
    func configuration(contextCallback: NIOSSLContextCallback? = nil) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = Self.minimumVersion
        configuration.maximumTLSVersion = Self.maximumVersion
        configuration.cipherSuites = Self.tls12CipherSuites
        configuration.sslContextCallback = contextCallback
        return configuration
    }

    /// The change a handshake applies to serve this credential instead of the one the context was built with.
    var override: NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = chain.map { .certificate($0) }
        override.privateKey = .privateKey(key)
        return override
    }

    private static func certificates(in path: String) throws(TLSCredentialError) -> [NIOSSLCertificate] {
        let bytes = try contents(of: path)
        let chain = (try? NIOSSLCertificate.fromPEMBytes(bytes)) ?? []
        guard !chain.isEmpty else {
            throw TLSCredentialError(
                "TLS certificate file \(path) is not a PEM certificate (it needs a BEGIN CERTIFICATE block); convert a DER one with 'openssl x509 -inform der -in \(path) -out cert.pem'")
        }
        return chain
    }

    /// The key, parsed by BoringSSL from a copy that is wiped right after.
    private static func privateKey(_ secret: SecretBytes, file path: String) throws(TLSCredentialError) -> NIOSSLPrivateKey {
        var copy = secret.copyBytes()
        defer { copy.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let marker = Array("PRIVATE KEY-----".utf8)
        let encrypted = Array("ENCRYPTED PRIVATE KEY-----".utf8)
        func holds(_ needle: [UInt8]) -> Bool {
            copy.count >= needle.count && (0...(copy.count - needle.count)).contains { copy[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        if holds(encrypted) || holds(Array("Proc-Type: 4,ENCRYPTED".utf8)) {
            throw TLSCredentialError(
                "TLS key file \(path) is encrypted; pirvault needs it unencrypted, protected by its mode: 'openssl pkey -in \(path) -out key.pem' and 'chmod 600 key.pem'")
        }
        guard holds(marker), let key = try? NIOSSLPrivateKey(bytes: copy, format: .pem) else {
            throw TLSCredentialError(
                "TLS key file \(path) is not a PEM private key (it needs a BEGIN PRIVATE KEY block); convert a DER one with 'openssl pkey -inform der -in \(path) -out key.pem'")
        }
        return key
    }

    /// A certificate file's bytes: it holds nothing secret, but is bounded all the same.
    private static func contents(of path: String) throws(TLSCredentialError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TLSCredentialError("cannot open TLS certificate file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= maximumCertificateFileSize {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw TLSCredentialError("cannot read TLS certificate file \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
        throw TLSCredentialError("TLS certificate file \(path) is larger than 1 MiB; is it the right file?")
    }

    private static func utc(_ time: time_t) -> String {
        Date(timeIntervalSince1970: Double(time)).formatted(.iso8601)
    }
}

import Foundation

/// A throw-away certificate authority, made with `openssl` in a test's
/// folder, that issues server certificates for 127.0.0.1 (subjectAltName
/// IP:127.0.0.1) with the key type and validity a test asks for. Each
/// certificate gets the next serial number (`openssl ca`'s serial file).
struct TestCertificates {
    let directory: String
    let cli: CLI
    /// The CA's certificate: what clients trust (`curl --cacert`, `verify=`).
    var authority: String { directory + "/ca.pem" }

    /// A certificate file, its key file and its SHA-256 fingerprint (lower-case hex).
    struct Issued {
        let certificate: String
        let key: String
        let fingerprint: String
    }

    init(cli: CLI) async throws {
        self.cli = cli
        directory = cli.directory + "/pki"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "".write(toFile: directory + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: directory + "/serial", atomically: true, encoding: .utf8)
        try """
            [ ca ]
            default_ca = test
            [ test ]
            database = \(directory)/index.txt
            new_certs_dir = \(directory)
            serial = \(directory)/serial
            default_md = sha256
            policy = anything
            copy_extensions = copy
            unique_subject = no
            [ anything ]
            commonName = supplied
            """.write(toFile: directory + "/ca.cnf", atomically: true, encoding: .utf8)
        try await openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory + "/ca.key",
            "-out", authority, "-subj", "/CN=pirvault test CA", "-days", "2",
        ])
    }

    /// A server certificate for 127.0.0.1 named `name`, with a key of
    /// `keyType` (openssl's -newkey: "ec", "rsa:2048", "rsa:1024"), valid
    /// from `notBefore` to `notAfter` (default: an hour ago to two days on);
    /// its key file has mode 0600.
    func issue(_ name: String, keyType: String = "ec", notBefore: Date? = nil, notAfter: Date? = nil) async throws -> Issued {
        let stem = directory + "/" + name
        var keyOptions = ["-newkey", keyType]
        if keyType == "ec" { keyOptions += ["-pkeyopt", "ec_paramgen_curve:P-256"] }
        try await openssl(
            ["req", "-new"] + keyOptions + [
                "-nodes", "-keyout", stem + ".key", "-out", stem + ".csr", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        let now = Date()
        try await openssl([
            "ca", "-batch", "-config", directory + "/ca.cnf", "-cert", authority, "-keyfile", directory + "/ca.key",
            "-in", stem + ".csr", "-out", stem + ".pem", "-notext",
            "-startdate", Self.opensslTime(notBefore ?? now.addingTimeInterval(-3600)),
            "-enddate", Self.opensslTime(notAfter ?? now.addingTimeInterval(2 * 86400)),
        ])
        chmod(stem + ".key", 0o600)
        return Issued(certificate: stem + ".pem", key: stem + ".key", fingerprint: try await fingerprint(ofCertificate: stem + ".pem"))
    }

    /// SHA-256 of a PEM certificate's DER, as `openssl x509 -fingerprint` computes it.
    func fingerprint(ofCertificate path: String) async throws -> String {
        let out = try await openssl(["x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
        guard let equals = out.firstIndex(of: "=") else { throw CLI.CLIError("no fingerprint in: \(out)") }
        return out[out.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: ":", with: "").lowercased()
    }

    /// The SHA-256 fingerprint of the certificate a new TLS 1.3 connection to `port` is served.
    func servedFingerprint(port: Int) async throws -> String {
        let served = await cli.runExecutable(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", authority, "-verify_return_error"],
            stdin: "")
        guard served.code == 0, let begin = served.stdout.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = served.stdout.range(of: "-----END CERTIFICATE-----")
        else { throw CLI.CLIError("openssl s_client got no certificate: \(served.stderr)") }
        let path = directory + "/served-\(UUID().uuidString).pem"
        try String(served.stdout[begin.lowerBound..<end.upperBound]).write(toFile: path, atomically: true, encoding: .utf8)
        return try await fingerprint(ofCertificate: path)
    }

    @discardableResult
    func openssl(_ arguments: [String]) async throws -> String {
        let result = await cli.runExecutable("/usr/bin/openssl", arguments)
        guard result.code == 0 else { throw CLI.CLIError("openssl \(arguments.first ?? "") failed: \(result.stderr)") }
        return result.stdout
    }

    private static func opensslTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }
}

import Foundation
import Testing

/// Each certificate or key `serve` must not serve with is refused at start:
/// one line on stderr, exit 1 (2 for a usage error), nothing on stdout (it
/// never listened), the vault file untouched, and no PEM or key text in
/// anything it printed.
@Suite(.serialized, .boundedParallelism) struct TLSBadInputTests {
    struct Case: CustomStringConvertible {
        let name: String
        var arguments: [String] = []
        var environment: [String: String] = [:]
        let code: Int32
        let message: String
        var description: String { name }
    }

    static func cases(_ pki: TestCertificates, _ good: TestCertificates.Issued, _ directory: String) async throws -> [Case] {
        func tls(_ certificate: String, _ key: String) -> [String] { ["--tls-cert", certificate, "--tls-key", key] }
        let other = try await pki.issue("other")
        let expired = try await pki.issue("expired", notBefore: Date().addingTimeInterval(-10 * 86400), notAfter: Date().addingTimeInterval(-86400))
        let future = try await pki.issue("future", notBefore: Date().addingTimeInterval(86400), notAfter: Date().addingTimeInterval(3 * 86400))
        let weak = try await pki.issue("weak", keyType: "rsa:1024")
        let der = directory + "/cert.der"
        try await pki.openssl(["x509", "-in", good.certificate, "-outform", "der", "-out", der])
        let text = directory + "/not-a-key.pem"
        FileManager.default.createFile(atPath: text, contents: Data("just some text, no key here\n".utf8), attributes: [.posixPermissions: 0o600])
        let derKey = directory + "/key.der"
        try await pki.openssl(["pkey", "-in", good.key, "-outform", "der", "-out", derKey])
        chmod(derKey, 0o600)
        var loose: [Case] = []
        for mode in [0o644, 0o640, 0o604, 0o620, 0o666] {
            let path = directory + "/loose-\(String(mode, radix: 8)).key"
            try FileManager.default.copyItem(atPath: good.key, toPath: path)
            chmod(path, mode_t(mode))
            loose.append(
                Case(name: "key file of mode \(String(mode, radix: 8))", arguments: tls(good.certificate, path), code: 1,
                     message: "TLS key file \(path) is accessible by other users (mode \(String(mode, radix: 8))); run 'chmod 600 \(path)'"))
        }
        return [
            Case(name: "--tls-cert alone", arguments: ["--tls-cert", good.certificate], code: 2, message: "go together"),
            Case(name: "--tls-key alone", arguments: ["--tls-key", good.key], code: 2, message: "go together"),
            Case(name: "PIRVAULT_TLS_KEY alone", environment: ["PIRVAULT_TLS_KEY": good.key], code: 2, message: "go together"),
            Case(name: "certificate not PEM (DER)", arguments: tls(der, good.key), code: 1, message: "is not a PEM certificate"),
            Case(name: "certificate file is text", arguments: tls(text, good.key), code: 1, message: "is not a PEM certificate"),
            Case(name: "key not PEM (text)", arguments: tls(good.certificate, text), code: 1, message: "is not a PEM private key"),
            Case(name: "key not PEM (DER)", arguments: tls(good.certificate, derKey), code: 1, message: "is not a PEM private key"),
            Case(name: "missing key file", arguments: tls(good.certificate, directory + "/missing.key"), code: 1, message: "cannot open TLS key file"),
            Case(name: "certificate and key do not match", arguments: tls(good.certificate, other.key), code: 1, message: "is not the key of the certificate"),
            Case(name: "expired certificate", arguments: tls(expired.certificate, expired.key), code: 1, message: "expired on"),
            Case(name: "not yet valid certificate", arguments: tls(future.certificate, future.key), code: 1, message: "is not valid before"),
            Case(name: "RSA key under 2048 bits", arguments: tls(weak.certificate, weak.key), code: 1, message: "RSA key of 1024 bits"),
            Case(
                name: "environment: mismatch", environment: ["PIRVAULT_TLS_CERT": good.certificate, "PIRVAULT_TLS_KEY": other.key], code: 1,
                message: "is not the key of the certificate"),
        ] + loose
    }

    /// The base64 lines of every key file the cases use: none may appear in any output.
    static func keyText(_ directory: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/pki")) ?? []
        return files.filter { $0.hasSuffix(".key") }.flatMap { name in
            ((try? String(contentsOfFile: directory + "/pki/" + name, encoding: .utf8)) ?? "")
                .split(separator: "\n").filter { !$0.hasPrefix("-----") && $0.count >= 16 }.map(String.init)
        }
    }

    @Test func eachBadCertificateOrKeyIsOneLineAndChangesNothing() async throws {
        var cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        cli.environment["LOG_LEVEL"] = "error"
        let pki = try await TestCertificates(cli: cli)
        let good = try await pki.issue("good")
        let cases = try await Self.cases(pki, good, cli.directory)
        let secrets = Self.keyText(cli.directory)
        #expect(secrets.count > 20)
        func vaultFiles() -> [Data?] { ["", "-wal", "-shm"].map { FileManager.default.contents(atPath: cli.vaultPath + $0) } }
        let vaultBefore = vaultFiles()
        for row in cases {
            var run = cli
            for (name, value) in row.environment { run.environment[name] = value }
            let port = Int.random(in: 20000...60000)
            let result = await run.run(["serve", "--listen", "127.0.0.1:\(port)"] + row.arguments)
            let line = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(result.code == row.code, "\(row): exit \(result.code): \(line)")
            #expect(line.contains(row.message), "\(row): \(line)")
            #expect(!line.isEmpty && !line.contains("\n"), "\(row): not one line: \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(row): \(result.stdout)")
            let everything = result.stdout + result.stderr
            #expect(!everything.contains("-----BEGIN") && !everything.contains("PRIVATE KEY-----"), "\(row): \(everything)")
            #expect(!secrets.contains { everything.contains($0) }, "\(row) printed key material")
        }
        #expect(vaultFiles() == vaultBefore, "a refused start changed the vault's files")
    }
}

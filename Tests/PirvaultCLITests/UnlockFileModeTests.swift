import Foundation
import Testing

/// A passphrase file that group or others can read or write is refused
/// exactly like such a key file: one line, exit 2, the same message, from
/// the one check every secret file goes through (`SecretFile`).
@Suite(.serialized, .boundedParallelism) struct UnlockFileModeTests {
    @Test(arguments: [0o644, 0o666, 0o640, 0o660, 0o604, 0o602])
    func aPassphraseFileOthersCanAccessIsRefused(mode: Int) async throws {
        let cli = CLI()
        defer { cli.removeDirectory() }
        let path = cli.directory + "/passphrase"
        FileManager.default.createFile(atPath: path, contents: Data("a long enough passphrase\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(await cli.run("init", "--passphrase-file", path).code == 0)
        chmod(path, mode_t(mode))
        let octal = String(mode, radix: 8)
        let expected = "pirvault: passphrase file \(path) is accessible by other users (mode \(octal)); run 'chmod 600 \(path)'\n"
        for arguments in [["instance", "list", "--passphrase-file", path], ["init", "--vault", cli.directory + "/new.db", "--passphrase-file", path]] {
            let refused = await cli.run(arguments)
            #expect(refused.code == 2, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr == expected, "\(arguments): \(refused.stderr)")
            #expect(!refused.stderr.contains("a long enough passphrase"))
        }
        #expect(!FileManager.default.fileExists(atPath: cli.directory + "/new.db"))

        // The key file's refusal has the same shape.
        let key = cli.directory + "/loose.key"
        FileManager.default.createFile(atPath: key, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: mode])
        chmod(key, mode_t(mode))
        let keyRefused = await cli.run("instance", "list", "--key-file", key)
        #expect(keyRefused.code == 2)
        #expect(keyRefused.stderr == "pirvault: key file \(key) is accessible by other users (mode \(octal)); run 'chmod 600 \(key)'\n")

        chmod(path, 0o600)
        #expect(await cli.run("instance", "list", "--passphrase-file", path).code == 0)
    }

    @Test func aNewPassphraseFileOthersCanReadIsRefused() async throws {
        let cli = try await CLI.withVault()
        defer { cli.removeDirectory() }
        let path = cli.directory + "/new-passphrase"
        FileManager.default.createFile(atPath: path, contents: Data("another long passphrase\n".utf8), attributes: [.posixPermissions: 0o644])
        chmod(path, 0o644)
        let refused = await cli.run("keys", "change-passphrase", "--new-passphrase-file", path)
        #expect(refused.code == 2)
        #expect(refused.stderr == "pirvault: new passphrase file \(path) is accessible by other users (mode 644); run 'chmod 600 \(path)'\n")
        #expect(await cli.run("instance", "list").code == 0, "the vault still opens with its key file")
    }
}

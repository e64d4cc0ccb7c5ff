import Foundation
import PirvaultCrypto
import PirvaultTestSupport
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

struct VaultUnlockTests {
    @Test func reopensWithTheSameKeyFile() throws {
        let fixture = try Fixture()
        let reopened = try fixture.reopen()
        #expect(reopened.vaultID == fixture.vault.vaultID)
    }

    @Test(arguments: Backend.allCases)
    func aWrongKeyFileFailsAndIsAudited(_ backend: Backend) throws {
        let fixture = try Fixture(backend: backend)
        let before = try fixture.auditEvents()
        #expect(throws: VaultError.unlockFailed(path: fixture.vault.path)) {
            try Vault.open(at: fixture.vaultPath, unlock: .keyFile(.random(count: 32)), stores: .all)
        }
        let after = try fixture.auditEvents()
        #expect(after.count == before.count + 1)
        #expect(after.last?.event == .vaultUnlock)
        #expect(after.last?.outcome == .denied)
    }

    @Test func passphraseVaultsUseStoredArgon2idParameters() throws {
        setenv("PIRVAULT_TEST_INSECURE_KDF", "1", 1)
        let directory = NSTemporaryDirectory() + "pirvault-pass-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/v.db"
        _ = try Vault.create(at: path, unlock: .passphrase("correct horse battery"), stores: .all)
        let header = try SQLiteStore.open(at: path).read { try $0.header() }
        #expect(header.unlockMethod == .passphrase)
        #expect(header.kdfSalt?.count == 16)
        #expect(header.kdfOpslimit == 1)
        #expect(try Vault.open(at: path, unlock: .passphrase("correct horse battery"), stores: .all).vaultID == header.vaultID)
        #expect(throws: VaultError.unlockFailed(path: path)) {
            try Vault.open(at: path, unlock: .passphrase("correct horse batterY"), stores: .all)
        }
        #expect(throws: VaultError.self) { try Vault.open(at: path, unlock: .keyFile(.random(count: 32)), stores: .all) }
    }

    @Test func refusesShortPassphrases() {
        let path = NSTemporaryDirectory() + "pirvault-short-" + UUID().uuidString + ".db"
        #expect(throws: VaultError.self) { try Vault.create(at: path, unlock: .passphrase("short"), stores: .all) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func keyFilesArePrivateAndNeverOverwritten() throws {
        let fixture = try Fixture()
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let original = FileManager.default.contents(atPath: fixture.keyPath)
        #expect(throws: VaultError.self) { try KeyFile.generate(at: fixture.keyPath) }
        #expect(FileManager.default.contents(atPath: fixture.keyPath) == original)
    }

    @Test func refusesKeyFilesOthersCanReadOrOfTheWrongSize() throws {
        let fixture = try Fixture()
        chmod(fixture.keyPath, 0o644)
        #expect(throws: VaultError.self) { try KeyFile.read(at: fixture.keyPath) }
        let short = fixture.directory + "/short.key"
        _ = FileManager.default.createFile(atPath: short, contents: Data(count: 31), attributes: [.posixPermissions: 0o600])
        #expect(throws: VaultError.self) { try KeyFile.read(at: short) }
    }

    @Test(arguments: Backend.allCases)
    func aDoctoredHeaderDoesNotUnlock(_ backend: Backend) throws {
        let fixture = try Fixture(backend: backend)
        try fixture.flipBit(table: "vault_header", column: "sealed_vault_key", where: "singleton = 1")
        #expect(throws: VaultError.unlockFailed(path: fixture.vault.path)) { try fixture.reopen() }
    }

    @Test(arguments: Backend.allCases)
    func aDoctoredVerifierKeyIsReportedAsTampering(_ backend: Backend) throws {
        let fixture = try Fixture(backend: backend)
        try fixture.flipBit(table: "vault_header", column: "sealed_verifier_key", where: "singleton = 1")
        #expect {
            try fixture.reopen()
        } throws: { error in
            guard case VaultError.tampered = error else { return false }
            return true
        }
    }
}

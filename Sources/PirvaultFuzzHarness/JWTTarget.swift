import Foundation
import PirvaultCore
import PirvaultStore

/// Feeds tokens to `Vault.decide` — `TokenAuthority.decide`, the decision
/// behind `token verify`, introspection and the gateway, over the store as
/// the CLI reads it — on a copy of the fixture vault at the moment its
/// tokens were issued. Input: a token, optionally followed
/// by a newline and a flow path.
///
/// Invariants: the verifier decides (a storage error on a read-only vault is
/// a failure); its reason is one line without control characters; and it
/// accepts a token only if it is byte for byte one the vault issued and did
/// not revoke.
final class JWTTarget: @unchecked Sendable {
    // Not Sendable because of the vault connection; used from one thread at
    // a time (libFuzzer's loop, or the serialized regression suite).
    static let shared = JWTTarget()

    private let vault: Vault
    private let authority: TokenAuthority
    private let now: Timestamp
    private let validTokens: Set<[UInt8]>

    private init() {
        let vaultPath = Fixture.scratchDirectory + "/vault.db"
        let keyPath = Fixture.scratchDirectory + "/vault.key"
        do {
            for (from, to) in [(Fixture.path("vault.db"), vaultPath), (Fixture.path("vault.key"), keyPath)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
            chmod(keyPath, 0o600)
            let key = try KeyFile.read(at: keyPath)
            // "Now" is the moment of the fixture's last audit event, when all its tokens were live.
            var newest: Timestamp?
            try Vault.open(at: vaultPath, unlock: .keyFile(key), stores: .sqlite).forEachAuditEvent(AuditFilter(limit: 1)) {
                newest = $0.time
            }
            guard let now = newest else { fatalError("the fuzz fixture vault has no audit events") }
            vault = try Vault.open(at: vaultPath, unlock: .keyFile(key), stores: .sqlite, clock: Clock { now })
            self.now = now
            authority = vault.tokenAuthority()
        } catch {
            fatalError("cannot open the fuzz fixture vault: \(error)")
        }
        validTokens = Set(Fixture.lines("valid-tokens.txt").map { Array($0.utf8) })
        // A fixture the verifier does not agree with would make the fuzzing meaningless.
        for token in Fixture.lines("valid-tokens.txt") where !decide(token, flow: nil).isAllowed {
            fatalError("fixture token refused: \(decide(token, flow: nil).reason); remake the fixture")
        }
        for token in Fixture.lines("revoked-tokens.txt") where decide(token, flow: nil).isAllowed {
            fatalError("fixture token \(token) was revoked but is accepted; remake the fixture")
        }
    }

    private func decide(_ token: String, flow: String?) -> AccessDecision {
        do {
            return try vault.decide(token: token, flow: flow, authority: authority, at: now)
        } catch {
            fatalError("the verifier failed on the fixture vault: \(error)")
        }
    }

    func check(_ input: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: input, as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let token = String(parts[0])
        let flow = parts.count > 1 ? String(parts[1]) : nil
        let decision: AccessDecision
        do {
            decision = try vault.decide(token: token, flow: flow, authority: authority, at: now)
        } catch {
            throw InvariantViolation("the verifier threw instead of deciding: \(error)")
        }
        if containsControl(decision.reason) {
            throw InvariantViolation("the refusal reason holds a control character: \(decision.reason.debugDescription)")
        }
        if decision.isAllowed, !validTokens.contains(Array(token.utf8)) {
            throw InvariantViolation("accepted a token the vault did not issue: \(token.debugDescription)")
        }
    }
}

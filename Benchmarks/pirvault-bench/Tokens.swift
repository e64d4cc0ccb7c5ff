import Foundation
import PirvaultCore
import PirvaultCrypto

/// An in-memory authorization state, as a server would keep.
struct MemoryState: AuthorizationState {
    var clients: [String: ClientState] = [:]
    var keys: [String: TokenVerificationKey] = [:]

    func client(clientID: String) throws -> ClientState? { clients[clientID] }
    func client(instanceID: Int64) throws -> ClientState? { clients.values.first { $0.instanceID == instanceID } }
    func isRevoked(jti: String) throws -> Bool { false }
    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? { nil }
    func publicKey(kid: String) throws -> TokenVerificationKey? { keys[kid] }
}

/// Calls `body` repeatedly for about `loopSeconds` (at most 5,000,000 times); returns calls per second.
func rate(_ body: () throws -> Void) rethrows -> Double {
    var count = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let deadline = start + UInt64(loopSeconds * 1e9)
    var now = start
    while now < deadline && count < 5_000_000 {
        for _ in 0..<100 { try body() }
        count += 100
        now = DispatchTime.now().uptimeNanoseconds
    }
    return Double(count) / (Double(now - start) / 1e9)
}

func perSecond(_ value: Double) -> String { String(format: "%.0f /s (%.1f µs each)", value, 1e6 / value) }

func tokenBenchmarks(vaultPath: String, keyPath: String, baseline: Double) throws {
    let vault = try Vault.open(at: vaultPath, unlock: .keyFile(KeyFile.read(at: keyPath)), stores: .sqlite)
    let key = try vault.createInstance(InstanceSpec(name: "bench", customer: "Bench", flows: ["orders/*"]))
    let request = TokenRequest(clientID: key.clientID, secret: key.clientSecret)
    let authority = vault.tokenAuthority()
    let signer = try vault.signingIdentity()
    var state = MemoryState()
    state.clients[key.clientID] = try vault.clientState(clientID: key.clientID)
    for entry in try vault.signingKeys().entries { state.keys[entry.kid] = entry.publicKey }
    let client = state.clients[key.clientID]!
    let now = Timestamp.now()

    let sampleInput = Array(try authority.answer(request, client: client, signer: signer, now: now).result.get().accessToken.utf8.prefix(700))
    let signingKey = Ed25519SigningKey.generate()
    let signRate = rate { _ = signingKey.signature(for: sampleInput) }
    row("baseline: libsodium Ed25519 sign of a 700-byte input", perSecond(signRate))
    let signature = signingKey.signature(for: sampleInput)
    let verifySigRate = rate { _ = signingKey.publicKey.isValidSignature(signature, for: sampleInput) }
    row("baseline: libsodium Ed25519 verify of a 700-byte input", perSecond(verifySigRate))
    let issueRate = try rate { _ = try authority.answer(request, client: client, signer: signer, now: now).result.get() }
    row(
        "issue JWT in process (verify secret, scope, sign, event)",
        perSecond(issueRate) + String(format: "  %.2f× raw sign (goal ≥0.80×: %@)", issueRate / signRate, issueRate >= 0.8 * signRate ? "met" : "NOT met"))
    let opaqueRequest = TokenRequest(clientID: key.clientID, secret: key.clientSecret, format: .opaque)
    let opaqueRate = try rate { _ = try authority.answer(opaqueRequest, client: client, signer: signer, now: now).result.get() }
    row("issue opaque token in process (not stored)", perSecond(opaqueRate))

    let token = try authority.answer(request, client: client, signer: signer, now: now).result.get().accessToken
    let verifyRate = try rate {
        guard try authority.decide(token: token, flow: nil, state: state, now: now).isAllowed else { fatalError("refused") }
    }
    row("verify JWT in process", perSecond(verifyRate))
    let decideRate = try rate {
        guard try authority.decide(token: token, flow: "/http/orders/42", state: state, now: now).isAllowed else { fatalError("refused") }
    }
    row("verify + authorize for a flow in process", perSecond(decideRate))

    // Durable: the CLI's path, one transaction (and audit row) per token.
    let durableCount = 300
    let durable = try seconds { for _ in 0..<durableCount { _ = try vault.issueToken(request) } }
    row("issue + audit row, one commit each (synchronous=FULL)", perSecond(Double(durableCount) / durable))
    let grouped = 20_000
    // The server's path: answers made in memory, their rows committed as one group.
    let groupedTime = try seconds {
        let answers = (0..<grouped).map { _ in
            PendingAudit(authority.answer(request, client: client, signer: signer, now: Timestamp.now()).event)
        }
        try vault.appendAuditEvents(answers)
    }
    row("issue + audit row, \(grouped) per commit", perSecond(Double(grouped) / groupedTime))

    let secretFile = work + "/secret"
    try key.clientSecret.write(toFile: secretFile, atomically: true, encoding: .utf8)
    let process = try timeProcess(
        ["token", "issue", "--client-id", key.clientID], vault: vaultPath, key: keyPath, stdin: secretFile, count: max(runs, 20))
    row("pirvault token issue as a new process (key file)", ms(process.median) + String(format: "  (%.1f× --version; goal ≤40 ms: %@)", process.median / baseline, process.median <= 0.040 ? "met" : "NOT met"))
}

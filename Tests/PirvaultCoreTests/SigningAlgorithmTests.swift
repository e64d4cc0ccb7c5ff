import Foundation
import PirvaultCrypto
import PirvaultJSON
import Testing

@testable import PirvaultCore
@testable import PirvaultStore

/// The store's view of a vault, but publishing this test's keys, of every
/// algorithm, instead of the vault's own.
struct KeyedState: AuthorizationState {
    let vault: Vault
    let now: Timestamp
    var keys: [String: TokenVerificationKey] = [:]

    /// A lookup in the vault, from a snapshot of its own.
    private func read<T>(_ lookUp: (StoreAuthorizationState) throws -> T) throws -> T {
        try vault.read { try lookUp(StoreAuthorizationState(store: $0, now: now)) }
    }

    func client(clientID: String) throws -> ClientState? { try read { try $0.client(clientID: clientID) } }
    func client(instanceID: Int64) throws -> ClientState? { try read { try $0.client(instanceID: instanceID) } }
    func isRevoked(jti: String) throws -> Bool { try read { try $0.isRevoked(jti: jti) } }
    func opaqueToken(hash: [UInt8]) throws -> OpaqueTokenRecord? { try read { try $0.opaqueToken(hash: hash) } }
    func publicKey(kid: String) throws -> TokenVerificationKey? { keys[kid] }
}

/// A vault with one flow instance, and a signing key of each algorithm
/// that the state publishes.
struct AlgorithmFixture {
    let time = TestClock()
    let fixture: Fixture
    let authority: TokenAuthority
    let client: ClientState
    let request: TokenRequest
    let signers: [SigningAlgorithm: SigningIdentity]
    let state: KeyedState

    init() throws {
        fixture = try Fixture(clock: time.clock)
        let created = try fixture.client(InstanceSpec(name: "acme", customer: "ACME", flows: ["orders/*"]))
        request = TokenRequest(clientID: created.id, secret: created.secret)
        authority = fixture.vault.tokenAuthority()
        client = try #require(try fixture.vault.clientState(clientID: created.id))
        var signers: [SigningAlgorithm: SigningIdentity] = [:]
        for algorithm in SigningAlgorithm.allCases { signers[algorithm] = SigningIdentity(key: try .generate(algorithm)) }
        self.signers = signers
        var state = KeyedState(vault: fixture.vault, now: time.now)
        for signer in signers.values { state.keys[signer.kid] = signer.key.publicKey }
        self.state = state
    }

    func issue(_ algorithm: SigningAlgorithm) throws -> String {
        try authority.answer(request, client: client, signer: signers[algorithm]!, now: time.now).result.get().accessToken
    }

    func refusal(of token: String, flow: String? = nil) throws -> Refusal? {
        try authority.decide(token: token, flow: flow, state: state, now: time.now).refusal
    }

    /// `header` (JSON text) over `payload` (a base64url segment), signed with `key`.
    func forged(header: String, payload: Substring, signedWith key: TokenSigningKey) -> String {
        let input = base64url(header) + "." + payload
        return input + "." + Base64.encode(key.signature(for: Array(input.utf8)), .urlSafeNoPadding)
    }
}

struct SigningAlgorithmTokenTests {
    @Test(arguments: SigningAlgorithm.allCases)
    func aTokenOfEachAlgorithmIsIssuedVerifiedAndAuthorized(_ algorithm: SigningAlgorithm) throws {
        let setup = try AlgorithmFixture()
        let signer = setup.signers[algorithm]!
        let token = try setup.issue(algorithm)
        #expect(
            try decodeSegment(token, 0).canonicalString()
                == JSONValue.object([
                    ("alg", .string(algorithm.rawValue)), ("typ", .string("JWT")), ("kid", .string(signer.kid)),
                    ("jku", .string("http://127.0.0.1:8080/token_keys")),
                ]).canonicalString())
        #expect(signer.kid == signer.key.publicKey.thumbprint)
        #expect(signer.algorithm == algorithm)
        let parsed = try JWT.parse(token)
        #expect(parsed.algorithm == algorithm)
        #expect(parsed.signature.count == (algorithm == .rs256 ? 256 : 64))
        #expect(try setup.refusal(of: token) == nil)
        #expect(try setup.refusal(of: token, flow: "/http/orders/1") == nil)
        #expect(try setup.refusal(of: token, flow: "/http/products/1") == .flowNotAllowed(flow: "/http/products/1", instance: "acme"))

        let parts = token.split(separator: ".").map(String.init)
        #expect(try setup.refusal(of: parts[0] + "." + base64url(#"{"scope":["x"]}"#) + "." + parts[2]) == .badSignature)
        #expect(try setup.refusal(of: parts[0] + "." + parts[1] + "." + flipFirstCharacter(parts[2])) == .badSignature)
        // Unpublished: the same algorithm, another key.
        var unpublished = setup.state
        unpublished.keys[signer.kid] = try TokenSigningKey.generate(algorithm).publicKey
        #expect(try setup.authority.decide(token: token, flow: nil, state: unpublished, now: setup.time.now).refusal == .badSignature)
    }

    /// A header naming one algorithm and the kid of another's key is refused
    /// before the key is used, whatever key signed it.
    @Test func aHeaderWhoseAlgorithmIsNotItsKeysIsRefused() throws {
        let setup = try AlgorithmFixture()
        let payload = try setup.issue(.rs256).split(separator: ".")[1]
        let rsa = setup.signers[.rs256]!, ec = setup.signers[.es256]!, ed = setup.signers[.edDSA]!
        let cases: [(String, SigningIdentity, TokenSigningKey, Refusal)] = [
            ("RS256", ec, rsa.key, .algorithmMismatch(alg: "RS256", key: "EC P-256")),
            ("RS256", ed, rsa.key, .algorithmMismatch(alg: "RS256", key: "Ed25519")),
            ("ES256", rsa, ec.key, .algorithmMismatch(alg: "ES256", key: "RSA 2048")),
            ("ES256", ed, ec.key, .algorithmMismatch(alg: "ES256", key: "Ed25519")),
            ("EdDSA", rsa, ed.key, .algorithmMismatch(alg: "EdDSA", key: "RSA 2048")),
            ("EdDSA", ec, ed.key, .algorithmMismatch(alg: "EdDSA", key: "EC P-256")),
            // Signed by the key the kid names, but under another algorithm's header.
            ("ES256", rsa, rsa.key, .algorithmMismatch(alg: "ES256", key: "RSA 2048")),
        ]
        for (alg, kidOf, signer, expected) in cases {
            let token = setup.forged(header: #"{"alg":"\#(alg)","typ":"JWT","kid":"\#(kidOf.kid)"}"#, payload: payload, signedWith: signer)
            #expect(try setup.refusal(of: token) == expected, "\(alg) with the kid of \(kidOf.algorithm)")
        }
        #expect(Refusal.algorithmMismatch(alg: "RS256", key: "EC P-256").reason.contains("RS256"))
        #expect(Refusal.algorithmMismatch(alg: "RS256", key: "EC P-256").isAuthentication)
    }

    /// Exactly RS256, ES256 and EdDSA, spelled so; refused before any key is
    /// looked up (the kid is a published key's).
    @Test func everyOtherAlgorithmIsRefusedBeforeAnyKeyIsUsed() throws {
        let setup = try AlgorithmFixture()
        let rsa = setup.signers[.rs256]!
        let payload = try setup.issue(.rs256).split(separator: ".")[1]
        for alg in ["none", "HS256", "HS512", "PS256", "ES384", "ES512", "RS512", "rs256", "RS256 ", "Ed25519", "EDDSA", ""] {
            let token = setup.forged(header: #"{"alg":"\#(alg)","typ":"JWT","kid":"\#(rsa.kid)"}"#, payload: payload, signedWith: rsa.key)
            #expect(try setup.refusal(of: token) == .unsupportedAlgorithm(alg), "\(alg)")
        }
        let unsigned = base64url(#"{"alg":"none","typ":"JWT","kid":"\#(rsa.kid)"}"#) + "." + payload + "."
        #expect(try setup.refusal(of: unsigned) == .unsupportedAlgorithm("none"))
        let hsHeader = base64url(#"{"alg":"HS256","typ":"JWT","kid":"\#(rsa.kid)"}"#)
        let hsSignature = hmacSHA256(key: Array(rsa.key.publicKey.pem.utf8), message: Array("\(hsHeader).\(payload)".utf8))
        #expect(try setup.refusal(of: hsHeader + "." + payload + "." + Base64.encode(hsSignature, .urlSafeNoPadding)) == .unsupportedAlgorithm("HS256"))
        #expect(Refusal.unsupportedAlgorithm("HS256").reason.contains("RS256, ES256 and EdDSA"))
    }

    @Test(arguments: SigningAlgorithm.allCases)
    func theTokenKeysEntryIsWhatXSUAAWrites(_ algorithm: SigningAlgorithm) throws {
        let key = try TokenSigningKey.generate(algorithm).publicKey
        let entry = key.jwk
        guard case .object(let members) = entry else { Issue.record("not an object"); return }
        let expected: [String] =
            switch algorithm {
            case .rs256: ["kty", "kid", "use", "alg", "n", "e", "value"]
            case .es256: ["kty", "kid", "use", "alg", "crv", "x", "y", "value"]
            case .edDSA: ["kty", "kid", "use", "alg", "crv", "x", "value"]
            }
        #expect(members.map(\.0) == expected)
        #expect(entry["kty"] == .string(algorithm.keyType))
        #expect(entry["kid"] == .string(key.thumbprint))
        #expect(entry["use"] == .string("sig"))
        #expect(entry["alg"] == .string(algorithm.rawValue))
        #expect(entry["value"] == .string(key.pem))
        for (name, value) in key.jwkMembers { #expect(entry[name] == .string(value)) }
    }

    /// A new vault signs RS256, as XSUAA does, unless told otherwise.
    @Test func aNewVaultSignsRS256() throws {
        let signer = try Fixture().vault.signingIdentity()
        #expect(signer.algorithm == .rs256)
    }

    /// An EdDSA vault keeps signing EdDSA with the key it has, and a
    /// rotation keeps the algorithm unless told another: same kid, and the
    /// JWKS entry carries `value` now too.
    @Test func anEdDSAVaultKeepsItsAlgorithmAndKid() throws {
        let fixture = try Fixture(signing: .edDSA)
        let signer = try fixture.vault.signingIdentity()
        #expect(signer.algorithm == .edDSA)
        let record = try #require(try fixture.vault.read { try $0.latestSigningKey() })
        #expect(record.kid == signer.kid)
        let entry = try #require(try fixture.vault.jwks()["keys"]?.arrayValue?.first)
        #expect(entry["kid"] == .string(signer.kid))
        #expect(entry["crv"] == .string("Ed25519"))
        #expect(entry["value"]?.stringValue?.hasPrefix("-----BEGIN PUBLIC KEY-----\n") == true)
    }

    /// joserfc (Python) verifies RS256, ES256 and EdDSA tokens from
    /// `JWT.sign` against the key set, from the JWK members and from the PEM.
    @Test func joserfcVerifiesEachAlgorithmAgainstTheKeySet() throws {
        let setup = try AlgorithmFixture()
        let extra = [try TokenSigningKey.generate(.rs256).publicKey, try TokenSigningKey.generate(.es256).publicKey]
        let published = SigningAlgorithm.allCases.map { setup.signers[$0]!.key.publicKey } + extra
        let jwks = JSONValue.object([("keys", .array(published.map(\.jwk)))])
        let jwksFile = setup.fixture.directory + "/jwks.json"
        try jwks.compactString().write(toFile: jwksFile, atomically: true, encoding: .utf8)
        let tokens = try SigningAlgorithm.allCases.map { try setup.issue($0) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, jwksFile] + tokens
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        let lines = text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
        #expect(lines.compactMap { $0["alg"]?.stringValue } == ["RS256", "ES256", "EdDSA"])
        #expect(lines.allSatisfy { $0["client_id"] == .string(setup.request.clientID) })
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/verify_token_keys.py").path
}

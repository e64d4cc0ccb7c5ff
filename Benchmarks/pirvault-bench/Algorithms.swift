import Crypto
import Foundation
import PirvaultCore
import PirvaultCrypto
import _CryptoExtras

/// `algorithms` section, one thread: for RS256, ES256 and EdDSA, the
/// in-process JWT issue (`TokenAuthority.answer`: the client secret checked,
/// the scope granted, a realistic claims set canonicalised and signed with
/// `JWT.sign`, the audit event built) against the raw sign rate of the
/// library that signs it (swift-crypto for RS256 and ES256, libsodium for
/// EdDSA) on an input of the same size as the token's signing input.
func algorithmBenchmarks() throws {
    let path = work + "/algorithms.db"
    let vault = try Vault.create(at: path, unlock: .keyFile(KeyFile.generate(at: work + "/algorithms.key")), stores: .sqlite)
    let key = try vault.createInstance(
        InstanceSpec(name: "bench", customer: "Bench Customer", flows: ["orders/*", "products/*"]))
    let request = TokenRequest(clientID: key.clientID, secret: key.clientSecret)
    let authority = vault.tokenAuthority(issuer: "https://pirvault.example.com")
    guard let client = try vault.clientState(clientID: key.clientID) else { fatalError("the instance is missing") }
    let now = Timestamp.now()
    var sink: UInt8 = 0

    for algorithm in SigningAlgorithm.allCases {
        let signer = SigningIdentity(key: try TokenSigningKey.generate(algorithm))
        func issue() throws -> String {
            try authority.answer(request, client: client, signer: signer, now: now).result.get().accessToken
        }
        let token = try issue()
        // The signing input: header.payload, everything before the last dot.
        let inputLength = token.utf8.count - (token.utf8.split(separator: UInt8(ascii: ".")).last?.count ?? 0) - 1
        let input = [UInt8](repeating: 0x61, count: inputLength)

        let rawSign: () throws -> Void
        let library: String
        switch algorithm {
        case .rs256:
            let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            rawSign = {
                let signature = try rsa.signature(for: Crypto.SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
                sink ^= signature.rawRepresentation[0]
            }
            library = "swift-crypto RSA 2048 PKCS#1 v1.5"
        case .es256:
            let p256 = P256.Signing.PrivateKey()
            rawSign = { sink ^= try p256.signature(for: Crypto.SHA256.hash(data: input)).rawRepresentation[0] }
            library = "swift-crypto P-256 ECDSA"
        case .edDSA:
            let ed25519 = Ed25519SigningKey.generate()
            rawSign = { sink ^= ed25519.signature(for: input)[0] }
            library = "libsodium Ed25519"
        }
        // The two alternate in short slices, so that load from elsewhere on a
        // shared machine falls on both alike; each figure is the median slice.
        var raw: [Double] = []
        var issued: [Double] = []
        var ratios: [Double] = []
        for _ in 0..<algorithmSlices {
            raw.append(try rate(for: loopSeconds / Double(algorithmSlices), rawSign))
            issued.append(try rate(for: loopSeconds / Double(algorithmSlices)) { sink ^= try issue().utf8.last! })
            ratios.append(issued.last! / raw.last!)
        }
        row("\(algorithm.rawValue) raw sign, \(library), \(inputLength) B", perSecond(median(raw)))
        row(
            "\(algorithm.rawValue) issue JWT in process (\(token.utf8.count) B token)",
            perSecond(median(issued))
                + String(format: "  %.2f× raw sign (median of %d slices)", median(ratios), algorithmSlices))
    }
    if sink == 0xFF { print("") }
}

let algorithmSlices = 7

/// Calls `body` for about `seconds` (whole calls, at least one); returns calls per second.
private func rate(for seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    var count = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let deadline = start + UInt64(seconds * 1e9)
    var now = start
    repeat {
        try body()
        count += 1
        now = DispatchTime.now().uptimeNanoseconds
    } while now < deadline
    return Double(count) / (Double(now - start) / 1e9)
}

import PirvaultCrypto
import PirvaultJSON

/// The claims pirvault puts in (and requires of) an access token.
public struct TokenClaims: Sendable, Equatable {
    public var issuer: String
    public var clientID: String
    public var audience: [String]
    public var scope: [String]
    public var grantType: String
    public var zoneID: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var jti: String
    public var customer: String
    public var instance: String
    public var plan: String
    /// The tenant's subdomain (`ext_attr.zdn`, what SAP's libraries call the
    /// token's subdomain); nil in tokens issued before the tenant model.
    public var subdomain: String?
    /// The instance's credential generation at issue; a revocation bumps it.
    public var credentialGeneration: Int64
    /// The client secret (credential row) the token was obtained with.
    public var credentialID: Int64

    /// `ext_attr.enhancer`: SAP's Java library takes a token for XSUAA's only when it names XSUAA.
    static let enhancer = "XSUAA"

    /// The payload object: XSUAA-style claims plus pirvault's own `gen` and `cred`.
    var jsonObject: JSONValue {
        .object([
            ("iss", .string(issuer)),
            ("sub", .string(clientID)),
            ("client_id", .string(clientID)),
            ("cid", .string(clientID)),
            ("azp", .string(clientID)),
            ("aud", JSONValue(audience)),
            ("scope", JSONValue(scope)),
            ("grant_type", .string(grantType)),
            ("zid", .string(zoneID)),
            ("iat", .integer(issuedAt)),
            ("exp", .integer(expiresAt)),
            ("jti", .string(jti)),
            ("ext_attr", .object(omittingNils: [
                ("customer", .string(customer)), ("enhancer", .string(Self.enhancer)), ("instance", .string(instance)),
                ("plan", .string(plan)), ("zdn", subdomain.map(JSONValue.string)),
            ])),
            ("gen", .integer(credentialGeneration)),
            ("cred", .integer(credentialID)),
        ])
    }

    /// `jsonObject` in RFC 8785 form, written member by member in sorted order
    /// (the hot path of token issuing; `TokenTests` checks it equals
    /// `jsonObject.canonicalBytes()`).
    func canonicalPayload() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(768)
        func key(_ name: String, first: Bool = false) {
            out += (first ? "{\"" : ",\"").utf8
            out += name.utf8
            out += "\":".utf8
        }
        func string(_ value: String) { JSONValue.writeString(value, into: &out) }
        func strings(_ values: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(value)
            }
            out.append(UInt8(ascii: "]"))
        }
        key("aud", first: true); strings(audience)
        key("azp"); string(clientID)
        key("cid"); string(clientID)
        key("client_id"); string(clientID)
        key("cred"); out += String(credentialID).utf8
        key("exp"); out += String(expiresAt).utf8
        key("ext_attr")
        out += "{\"customer\":".utf8; string(customer)
        out += ",\"enhancer\":".utf8; string(Self.enhancer)
        out += ",\"instance\":".utf8; string(instance)
        out += ",\"plan\":".utf8; string(plan)
        if let subdomain { out += ",\"zdn\":".utf8; string(subdomain) }
        out.append(UInt8(ascii: "}"))
        key("gen"); out += String(credentialGeneration).utf8
        key("grant_type"); string(grantType)
        key("iat"); out += String(issuedAt).utf8
        key("iss"); string(issuer)
        key("jti"); string(jti)
        key("scope"); strings(scope)
        key("sub"); string(clientID)
        key("zid"); string(zoneID)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads the claims back, refusing any that are missing or of the wrong type.
    init(json: JSONValue) throws(Refusal) {
        func string(_ name: String, in object: JSONValue = json) throws(Refusal) -> String {
            guard let value = object[name]?.stringValue else { throw .malformed("claim '\(name)' is missing or not a string") }
            return value
        }
        func integer(_ name: String) throws(Refusal) -> Int64 {
            guard let value = json[name]?.integerValue else { throw .malformed("claim '\(name)' is missing or not an integer") }
            return value
        }
        func strings(_ name: String) throws(Refusal) -> [String] {
            guard let value = json[name]?.stringArray else { throw .malformed("claim '\(name)' is missing or not an array of strings") }
            return value
        }
        guard let ext = json["ext_attr"], case .object = ext else { throw .malformed("claim 'ext_attr' is missing") }
        issuer = try string("iss")
        clientID = try string("client_id")
        audience = try strings("aud")
        scope = try strings("scope")
        grantType = try string("grant_type")
        zoneID = try string("zid")
        issuedAt = try integer("iat")
        expiresAt = try integer("exp")
        jti = try string("jti")
        customer = try string("customer", in: ext)
        instance = try string("instance", in: ext)
        plan = try string("plan", in: ext)
        subdomain = ext["zdn"]?.stringValue
        credentialGeneration = try integer("gen")
        credentialID = try integer("cred")
        guard try string("sub") == clientID, try string("cid") == clientID, try string("azp") == clientID else {
            throw .malformed("claims 'sub', 'cid' and 'azp' must equal 'client_id'")
        }
    }

    init(
        issuer: String, clientID: String, audience: [String], scope: [String], grantType: String, zoneID: String,
        issuedAt: Int64, expiresAt: Int64, jti: String, customer: String, instance: String, plan: String,
        subdomain: String?, credentialGeneration: Int64, credentialID: Int64
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.audience = audience
        self.scope = scope
        self.grantType = grantType
        self.zoneID = zoneID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.jti = jti
        self.customer = customer
        self.instance = instance
        self.plan = plan
        self.subdomain = subdomain
        self.credentialGeneration = credentialGeneration
        self.credentialID = credentialID
    }
}

/// Compact-serialised JWS (RFC 7515) signed RS256, ES256 (RFC 7518) or
/// EdDSA (RFC 8037): whichever the signing key is.
enum JWT {
    static let maximumLength = 8192

    static func header(alg: SigningAlgorithm, kid: String, jku: String) -> JSONValue {
        .object([("alg", .string(alg.rawValue)), ("typ", .string("JWT")), ("kid", .string(kid)), ("jku", .string(jku))])
    }

    /// `base64url(header) . base64url(payload) . base64url(signature)`, built
    /// in one buffer; the key signs that buffer in place (RSA and P-256 hash
    /// it there, without a copy). The header's `alg` is the key's. Every part
    /// is public, so it is encoded by the table-driven `PublicBase64`:
    /// libsodium's constant-time codec cost ES256 a third of its issue rate.
    static func sign(_ claims: TokenClaims, kid: String, jku: String, key: TokenSigningKey) -> String {
        var token: [UInt8] = []
        // An RS256 signature is 342 base64url characters (RSA 2048), 683 for RSA 4096.
        token.reserveCapacity(1400)
        header(alg: key.algorithm, kid: kid, jku: jku).canonicalBytes().withUnsafeBytes {
            PublicBase64.append($0, .urlSafeNoPadding, to: &token)
        }
        token.append(UInt8(ascii: "."))
        claims.canonicalPayload().withUnsafeBytes { PublicBase64.append($0, .urlSafeNoPadding, to: &token) }
        let signature = token.withUnsafeBytes { key.signature(for: $0) }
        token.append(UInt8(ascii: "."))
        signature.withUnsafeBytes { PublicBase64.append($0, .urlSafeNoPadding, to: &token) }
        return String(decoding: token, as: UTF8.self)
    }

    struct Parsed {
        /// The header's `alg`, one of the three pirvault signs with.
        let algorithm: SigningAlgorithm
        let kid: String
        let claims: JSONValue
        let signingInput: [UInt8]
        let signature: [UInt8]
    }

    /// Splits and decodes a token without trusting it. The only algorithms
    /// accepted are RS256, ES256 and EdDSA, spelled exactly so: `none`, HMAC
    /// (a classic confusion with the public key as HMAC secret) and
    /// everything else are refused before any key is used.
    static func parse(_ token: String) throws(Refusal) -> Parsed {
        guard token.utf8.count <= maximumLength else { throw .malformed("token longer than \(maximumLength) bytes") }
        let bytes = Array(token.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a JWT has three dot-separated parts") }
        guard let headerBytes = Base64.decode(bytes: parts[0], .urlSafeNoPadding),
            let payloadBytes = Base64.decode(bytes: parts[1], .urlSafeNoPadding),
            let signature = Base64.decode(bytes: parts[2], .urlSafeNoPadding)
        else { throw .malformed("a part is not base64url") }
        let header: JSONValue
        let claims: JSONValue
        do {
            header = try JSONValue.parse(headerBytes)
            claims = try JSONValue.parse(payloadBytes)
        } catch {
            throw .malformed("a part is not valid JSON")
        }
        guard case .object = header, case .object = claims else { throw .malformed("header and payload must be JSON objects") }
        guard let alg = header["alg"]?.stringValue else { throw .malformed("the header has no 'alg'") }
        guard let algorithm = SigningAlgorithm(rawValue: alg) else { throw .unsupportedAlgorithm(alg) }
        if let typ = header["typ"], typ.stringValue?.uppercased() != "JWT" { throw .malformed("header 'typ' is not JWT") }
        if header["crit"] != nil { throw .malformed("header 'crit' is not supported") }
        guard let kid = header["kid"]?.stringValue else { throw .malformed("the header has no 'kid'") }
        let signingInput = Array(bytes[..<parts[1].endIndex])
        return Parsed(algorithm: algorithm, kid: kid, claims: claims, signingInput: signingInput, signature: signature)
    }

    /// Checks a parsed token's signature with the key its `kid` names. The
    /// key must be of the algorithm the header names: an RSA key never
    /// verifies an "ES256" token, nor any key a token of another algorithm,
    /// so no algorithm confusion is possible whatever the header says.
    static func verify(_ parsed: Parsed, with key: TokenVerificationKey) throws(Refusal) {
        guard key.algorithm == parsed.algorithm else {
            throw .algorithmMismatch(alg: parsed.algorithm.rawValue, key: key.keyDescription)
        }
        guard key.isValidSignature(parsed.signature, for: parsed.signingInput) else { throw .badSignature }
    }
}

extension TokenVerificationKey {
    /// This key's entry in `/token_keys` as XSUAA writes it (DESIGN §3):
    /// `kty`, `kid` (the RFC 7638 thumbprint), `use` `sig`, `alg`, the JWK
    /// members (`n`/`e`, `crv`/`x`/`y` or `crv`/`x`), and `value`, the
    /// public key as a SubjectPublicKeyInfo PEM, which SAP's libraries read.
    public var jwk: JSONValue {
        let header: [(String, JSONValue)] = [
            ("kty", .string(algorithm.keyType)), ("kid", .string(thumbprint)), ("use", .string("sig")),
            ("alg", .string(algorithm.rawValue)),
        ]
        let members = jwkMembers.filter { $0.0 != "kty" }.map { ($0.0, JSONValue.string($0.1)) }
        return .object(header + members + [("value", .string(pem))])
    }
}

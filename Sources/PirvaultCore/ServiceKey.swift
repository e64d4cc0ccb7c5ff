import PirvaultJSON

/// The JSON a customer receives, in the cloud's shape:
/// `{"oauth": {"clientid", "clientsecret", "url", "tokenurl", "createdate"}}`.
public struct ServiceKey: Sendable {
    public var clientID: String
    public var clientSecret: String
    public var url: String
    public var tokenURL: String
    public var createDate: String

    /// Pretty-printed, members in the cloud's order.
    public var json: String {
        JSONValue.object([
            (
                "oauth",
                .object([
                    ("clientid", .string(clientID)),
                    ("clientsecret", .string(clientSecret)),
                    ("url", .string(url)),
                    ("tokenurl", .string(tokenURL)),
                    ("createdate", .string(createDate)),
                ])
            )
        ]).prettyString()
    }

    public static let maximumFileSize = 1 << 20

    /// Reads a service key as the cloud cockpit downloads it, with or without
    /// the `oauth` wrapper. Certificate-type keys are refused: pirvault keeps
    /// client-secret credentials only.
    public init(importing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumFileSize else {
            throw VaultError.invalidInput("the service key file is larger than 1 MiB; that is not a service key")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch let error as JSONParseError {
            throw VaultError.invalidInput("the service key is not valid JSON (\(error.description))")
        }
        guard case .object = document else {
            throw VaultError.invalidInput("the service key must be a JSON object with clientid, clientsecret and tokenurl")
        }
        let fields = document["oauth"] ?? document
        guard case .object = fields else {
            throw VaultError.invalidInput("the service key's \"oauth\" member must be an object")
        }
        if fields["clientsecret"] == nil, fields["certificate"] != nil || fields["key"] != nil || fields["certurl"] != nil {
            throw VaultError.invalidInput(
                "this is a certificate-type service key (it has a certificate, no clientsecret); pirvault stores client-secret keys only — create a key of type 'ClientId/Secret' instead")
        }
        // An optional field may also be empty: `json` writes an absent url or
        // createdate as "", and what it writes must import again.
        func string(_ name: String, required: Bool = true) throws -> String? {
            guard let value = fields[name] else {
                if required { throw VaultError.invalidInput("the service key has no \"\(name)\" field") }
                return nil
            }
            guard let text = value.stringValue, !(required && text.isEmpty), text.utf8.count <= 2048 else {
                throw VaultError.invalidInput(
                    "the service key's \"\(name)\" must be a\(required ? " non-empty" : "") string of at most 2048 bytes")
            }
            return text
        }
        clientID = try string("clientid")!
        clientSecret = try string("clientsecret")!
        tokenURL = try string("tokenurl")!
        url = try string("url", required: false) ?? ""
        createDate = try string("createdate", required: false) ?? ""
        guard clientID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw VaultError.invalidInput("the service key's clientid must be printable ASCII without spaces")
        }
        guard clientSecret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw VaultError.invalidInput("the service key's clientsecret must be printable ASCII without spaces")
        }
    }

    public init(clientID: String, clientSecret: String, url: String, tokenURL: String, createDate: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.url = url
        self.tokenURL = tokenURL
        self.createDate = createDate
    }
}

import PirvaultStore
import PirvaultJSON
import PostgresNIO

extension PostgresReader {
    fileprivate static let instanceSelect = """
        SELECT i.id, i.name, c.name, i.clientid, i.plan, i.roles, i.grant_types, i.redirect_uris, i.flows,
               i.token_ttl, i.token_format, i.url, i.tokenurl, i.origin, i.status, i.credential_generation,
               i.sealed_data_key, i.created_at, i.updated_at
        FROM instances i JOIN customers c ON c.id = i.customer_id
        """

    fileprivate static func instance(from row: PostgresRandomAccessRow) throws -> InstanceRecord {
        func list(_ column: Int) throws -> [String] {
            guard let values = try? JSONValue.parse(try row.string(column)).stringArray else {
                throw StoreError.corrupt(what: "a list column of instance \(try row.string(1)) is not a JSON array of strings")
            }
            return values
        }
        let name = try row.string(1)
        return InstanceRecord(
            id: try row.int(0), name: name, customer: try row.string(2), clientID: try row.string(3),
            plan: try .stored(try row.string(4), column: "plan", instance: name), roles: try list(5),
            grantTypes: try list(6).map { try .stored($0, column: "grant type", instance: name) },
            redirectURIs: try list(7), flows: try list(8), tokenTTL: Int(try row.int(9)),
            tokenFormat: try .stored(try row.string(10), column: "token format", instance: name),
            url: try row.string(11), tokenURL: try row.string(12), origin: try row.string(13),
            status: try .stored(try row.string(14), column: "status", instance: name),
            credentialGeneration: try row.int(15), sealedDataKey: try row.blob(16) ?? [], createdAt: try row.string(17),
            updatedAt: try row.string(18))
    }

    fileprivate static func json(_ list: [String]) -> String { JSONValue(list).compactString() }

    fileprivate func instances(where condition: String, _ binds: PostgresBindings, order: String = "") throws -> [InstanceRecord] {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.instanceSelect) WHERE \(condition) \(order)", binds: binds))
            .map(Self.instance)
    }

    fileprivate func instance(where condition: String, _ value: some PostgresNonThrowingEncodable) throws -> InstanceRecord? {
        var binds = PostgresBindings()
        binds.append(value)
        return try instances(where: condition, binds).first
    }

    func instance(named name: String) throws -> InstanceRecord? { try instance(where: "i.name = $1", name) }

    func instance(clientID: String) throws -> InstanceRecord? { try instance(where: "i.clientid = $1", clientID) }

    func instance(id: Int64) throws -> InstanceRecord? { try instance(where: "i.id = $1", id) }

    func forEachInstance(customer: String?, _ body: (InstanceRecord) throws -> Void) throws {
        var binds = PostgresBindings()
        if let customer { binds.append(customer) }
        let order = "ORDER BY c.name COLLATE \"C\", i.name COLLATE \"C\""
        for record in try instances(where: customer == nil ? "TRUE" : "c.name = $1", binds, order: order) {
            try body(record)
        }
    }

    func instanceCount() throws -> Int {
        Int(try session.query("SELECT count(*) FROM instances").first?.int(0) ?? 0)
    }

    func sealedDataKeys() throws -> [(instanceID: Int64, name: String, sealed: [UInt8])] {
        try session.query("SELECT id, name, sealed_data_key FROM instances ORDER BY id").map {
            (instanceID: try $0.int(0), name: try $0.string(1), sealed: try $0.blob(2) ?? [])
        }
    }

    func maximumTokenTTL() throws -> Int {
        Int(try session.query("SELECT COALESCE(MAX(token_ttl), 0)::BIGINT FROM instances").first?.int(0) ?? 0)
    }

    fileprivate static let credentialSelect =
        "SELECT id, instance_id, sealed_secret, verifier, created_at, expires_at_us FROM credentials"

    fileprivate static func credential(from row: PostgresRandomAccessRow) throws -> CredentialRecord {
        CredentialRecord(
            id: try row.int(0), instanceID: try row.int(1), sealedSecret: try row.blob(2) ?? [],
            verifier: try row.blob(3) ?? [], createdAt: try row.string(4),
            expiresAt: try row.optionalInt(5).map(Timestamp.init(microseconds:)))
    }

    func credentials(instanceID: Int64) throws -> [CredentialRecord] {
        try session.query(
            PostgresQuery(unsafeSQL: "\(Self.credentialSelect) WHERE instance_id = $1 ORDER BY id DESC", binds: binds(instanceID))
        ).map(Self.credential)
    }

    func credential(id: Int64) throws -> CredentialRecord? {
        try session.query(PostgresQuery(unsafeSQL: "\(Self.credentialSelect) WHERE id = $1", binds: binds(id)))
            .first.map(Self.credential)
    }

    func binds(_ value: some PostgresNonThrowingEncodable) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }
}

extension PostgresWriter {
    func insertInstance(_ record: InstanceRecord, sealDataKey: (Int64) -> [UInt8]) throws -> Int64 {
        try session.run(
            "INSERT INTO customers (name, created_at) VALUES (\(record.customer), \(record.createdAt)) ON CONFLICT (name) DO NOTHING")
        return try insertThenSeal(
            """
            INSERT INTO instances (name, customer_id, clientid, plan, roles, grant_types, redirect_uris, flows,
                token_ttl, token_format, url, tokenurl, origin, status, credential_generation, sealed_data_key,
                created_at, updated_at)
            SELECT \(record.name), c.id, \(record.clientID), \(record.plan.rawValue), \(Self.json(record.roles)),
                \(Self.json(record.grantTypes.map(\.rawValue))), \(Self.json(record.redirectURIs)), \(Self.json(record.flows)),
                \(Int64(record.tokenTTL)), \(record.tokenFormat.rawValue), \(record.url), \(record.tokenURL), \(record.origin),
                \(record.status.rawValue), \(record.credentialGeneration), '', \(record.createdAt), \(record.updatedAt)
            FROM customers c WHERE c.name = \(record.customer)
            RETURNING id
            """, sealing: "instances.sealed_data_key", with: sealDataKey)
    }

    func updateInstance(_ record: InstanceRecord) throws {
        try session.run(
            """
            UPDATE instances SET plan = \(record.plan.rawValue), roles = \(Self.json(record.roles)),
                grant_types = \(Self.json(record.grantTypes.map(\.rawValue))), redirect_uris = \(Self.json(record.redirectURIs)),
                flows = \(Self.json(record.flows)), token_ttl = \(Int64(record.tokenTTL)),
                token_format = \(record.tokenFormat.rawValue), url = \(record.url), tokenurl = \(record.tokenURL),
                status = \(record.status.rawValue), credential_generation = \(record.credentialGeneration),
                updated_at = \(record.updatedAt)
            WHERE id = \(record.id)
            """)
    }

    func deleteInstance(id: Int64) throws {
        try session.run("DELETE FROM credentials WHERE instance_id = \(id)")
        try session.run("DELETE FROM instances WHERE id = \(id)")
    }

    func updateSealedDataKey(instanceID: Int64, sealed: [UInt8]) throws {
        try session.run("UPDATE instances SET sealed_data_key = \(ByteBuffer(bytes: sealed)) WHERE id = \(instanceID)")
    }

    func insertCredential(
        instanceID: Int64, verifier: [UInt8], createdAt: String, sealSecret: (Int64) -> [UInt8]
    ) throws -> Int64 {
        try insertThenSeal(
            """
            INSERT INTO credentials (instance_id, sealed_secret, verifier, created_at)
            VALUES (\(instanceID), '', \(ByteBuffer(bytes: verifier)), \(createdAt)) RETURNING id
            """, sealing: "credentials.sealed_secret", with: sealSecret)
    }

    func expireCredential(id: Int64, at time: Timestamp) throws {
        try session.run("UPDATE credentials SET expires_at_us = \(time.microseconds) WHERE id = \(id)")
    }

    func deleteExpiredCredentials(instanceID: Int64, before time: Timestamp) throws {
        try session.run(
            """
            DELETE FROM credentials
            WHERE instance_id = \(instanceID) AND expires_at_us IS NOT NULL AND expires_at_us <= \(time.microseconds)
            """)
    }

    /// Runs `insert` (an INSERT … RETURNING id that leaves the sealed column
    /// empty), then stores what `seal` makes for the new row id in
    /// `column` ("table.column"): the sealed value's associated data names
    /// its row, which exists only once inserted.
    func insertThenSeal(_ insert: PostgresQuery, sealing column: String, with seal: (Int64) -> [UInt8]) throws -> Int64 {
        let parts = column.split(separator: ".")
        guard let id = try session.query(insert).first?.int(0) else {
            throw StoreError.corrupt(what: "the new row of \(parts[0]) has no id")
        }
        var values = PostgresBindings()
        values.append(ByteBuffer(bytes: seal(id)))
        values.append(id)
        try session.run(PostgresQuery(unsafeSQL: "UPDATE \(parts[0]) SET \(parts[1]) = $1 WHERE id = $2", binds: values))
        return id
    }
}

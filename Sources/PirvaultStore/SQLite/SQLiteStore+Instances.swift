import PirvaultJSON

extension SQLiteReader {
    static let instanceColumns = """
        i.id, i.name, c.name, i.clientid, i.plan, i.roles, i.grant_types, i.redirect_uris, i.flows,
        i.token_ttl, i.token_format, i.url, i.tokenurl, i.origin, i.status, i.credential_generation,
        i.sealed_data_key, i.created_at, i.updated_at
        """

    static let instanceFrom = "FROM instances i JOIN customers c ON c.id = i.customer_id"

    static func instance(from row: Row) throws -> InstanceRecord {
        func list(_ column: Int32) throws -> [String] {
            guard let values = try? JSONValue.parse(row.string(column)).stringArray else {
                throw StoreError.corrupt(what: "a list column of instance \(row.string(1)) is not a JSON array of strings")
            }
            return values
        }
        let name = row.string(1)
        return InstanceRecord(
            id: row.int(0), name: name, customer: row.string(2), clientID: row.string(3),
            plan: try .stored(row.string(4), column: "plan", instance: name), roles: try list(5),
            grantTypes: try list(6).map { try .stored($0, column: "grant type", instance: name) },
            redirectURIs: try list(7), flows: try list(8), tokenTTL: Int(row.int(9)),
            tokenFormat: try .stored(row.string(10), column: "token format", instance: name), url: row.string(11),
            tokenURL: row.string(12), origin: row.string(13),
            status: try .stored(row.string(14), column: "status", instance: name),
            credentialGeneration: row.int(15), sealedDataKey: row.blob(16) ?? [], createdAt: row.string(17),
            updatedAt: row.string(18))
    }

    fileprivate static func json(_ list: [String]) -> SQLValue { .text(JSONValue(list).compactString()) }

    func instance(named name: String) throws -> InstanceRecord? {
        var found: InstanceRecord?
        try forEachInstance(whereClause: "i.name = ?", [.text(name)]) { found = $0 }
        return found
    }

    func instance(clientID: String) throws -> InstanceRecord? {
        var found: InstanceRecord?
        try forEachInstance(whereClause: "i.clientid = ?", [.text(clientID)]) { found = $0 }
        return found
    }

    func forEachInstance(
        whereClause: String, _ values: [SQLValue], order: String = "", _ body: (InstanceRecord) throws -> Void
    ) throws {
        try db.forEach("SELECT \(Self.instanceColumns) \(Self.instanceFrom) WHERE \(whereClause) \(order)", values) {
            try body(Self.instance(from: $0))
        }
    }

    /// Calls `body` for each instance (of one customer, or all), ordered by
    /// customer then name, without holding them all in memory.
    func forEachInstance(customer: String?, _ body: (InstanceRecord) throws -> Void) throws {
        let order = "ORDER BY c.name, i.name"
        if let customer {
            try forEachInstance(whereClause: "c.name = ?", [.text(customer)], order: order, body)
        } else {
            try forEachInstance(whereClause: "1", [], order: order, body)
        }
    }

    func instanceCount() throws -> Int {
        Int(try db.query("SELECT count(*) FROM instances") { $0.int(0) }.first ?? 0)
    }

    /// The instance's credentials, newest first.
    func credentials(instanceID: Int64) throws -> [CredentialRecord] {
        try db.query(
            """
            SELECT id, instance_id, sealed_secret, verifier, created_at, expires_at_us
            FROM credentials WHERE instance_id = ? ORDER BY id DESC
            """, [.integer(instanceID)]
        ) {
            CredentialRecord(
                id: $0.int(0), instanceID: $0.int(1), sealedSecret: $0.blob(2) ?? [], verifier: $0.blob(3) ?? [],
                createdAt: $0.string(4), expiresAt: $0.optionalInt(5).map(Timestamp.init(microseconds:)))
        }
    }
}

extension SQLiteWriter {
    /// The customer's id, creating the customer on first use.
    func customerID(named name: String, createdAt: String) throws -> Int64 {
        if let id = try db.query("SELECT id FROM customers WHERE name = ?", [.text(name)], row: { $0.int(0) }).first {
            return id
        }
        try db.run("INSERT INTO customers (name, created_at) VALUES (?, ?)", [.text(name), .text(createdAt)])
        return db.lastInsertRowID
    }

    /// Inserts `record` and returns its id. `sealDataKey` receives the new row id
    /// and returns the sealed data key bound to it.
    func insertInstance(_ record: InstanceRecord, sealDataKey: (Int64) -> [UInt8]) throws -> Int64 {
        let customerID = try customerID(named: record.customer, createdAt: record.createdAt)
        try db.run(
            """
            INSERT INTO instances (name, customer_id, clientid, plan, roles, grant_types, redirect_uris, flows,
                token_ttl, token_format, url, tokenurl, origin, status, credential_generation, sealed_data_key,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'', ?, ?)
            """,
            [.text(record.name), .integer(customerID), .text(record.clientID), .text(record.plan.rawValue),
             Self.json(record.roles), Self.json(record.grantTypes.map(\.rawValue)), Self.json(record.redirectURIs),
             Self.json(record.flows), .integer(Int64(record.tokenTTL)), .text(record.tokenFormat.rawValue),
             .text(record.url), .text(record.tokenURL), .text(record.origin), .text(record.status.rawValue),
             .integer(record.credentialGeneration), .text(record.createdAt), .text(record.updatedAt)])
        let id = db.lastInsertRowID
        try db.run("UPDATE instances SET sealed_data_key = ? WHERE id = ?", [.blob(sealDataKey(id)), .integer(id)])
        return id
    }

    /// Writes the mutable fields of `record` (everything but identity, customer,
    /// client id, origin and data key).
    func updateInstance(_ record: InstanceRecord) throws {
        try db.run(
            """
            UPDATE instances SET plan = ?, roles = ?, grant_types = ?, redirect_uris = ?, flows = ?, token_ttl = ?,
                token_format = ?, url = ?, tokenurl = ?, status = ?, credential_generation = ?, updated_at = ?
            WHERE id = ?
            """,
            [.text(record.plan.rawValue), Self.json(record.roles), Self.json(record.grantTypes.map(\.rawValue)),
             Self.json(record.redirectURIs), Self.json(record.flows), .integer(Int64(record.tokenTTL)),
             .text(record.tokenFormat.rawValue), .text(record.url), .text(record.tokenURL), .text(record.status.rawValue),
             .integer(record.credentialGeneration), .text(record.updatedAt), .integer(record.id)])
    }

    /// Deletes the instance, its credentials and its sealed data key. With
    /// `secure_delete` on, SQLite overwrites the freed bytes with zeros.
    func deleteInstance(id: Int64) throws {
        try db.run("DELETE FROM credentials WHERE instance_id = ?", [.integer(id)])
        try db.run("DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    /// Inserts a credential; `sealSecret` receives the new row id and returns
    /// the secret sealed and bound to it.
    func insertCredential(
        instanceID: Int64, verifier: [UInt8], createdAt: String, sealSecret: (Int64) -> [UInt8]
    ) throws -> Int64 {
        try db.run(
            "INSERT INTO credentials (instance_id, sealed_secret, verifier, created_at) VALUES (?, x'', ?, ?)",
            [.integer(instanceID), .blob(verifier), .text(createdAt)])
        let id = db.lastInsertRowID
        try db.run("UPDATE credentials SET sealed_secret = ? WHERE id = ?", [.blob(sealSecret(id)), .integer(id)])
        return id
    }
}

import PirvaultCrypto
import PirvaultStore

extension Vault {
    /// Where generated service keys point unless `--url` / `--token-url` say otherwise:
    /// `pirvault serve`'s default address.
    public static let defaultBaseURL = "http://127.0.0.1:8080"

    /// Registers a new instance with a fresh data key and client secret, and
    /// returns its service key.
    @available(*, noasync)
    public func createInstance(_ spec: InstanceSpec) throws -> ServiceKey {
        let prepared = try PreparedInstance(spec)
        return try write { tx in try createInstance(prepared, in: tx) }
    }

    /// Registers every instance of `specs` in one transaction (a bulk
    /// onboarding): all of them, or none if any is refused.
    @available(*, noasync)
    public func createInstances(_ specs: [InstanceSpec]) throws -> [ServiceKey] {
        let prepared = try specs.map(PreparedInstance.init)
        return try write { tx in try prepared.map { try createInstance($0, in: tx) } }
    }

    /// An instance spec checked and completed with its defaults, and its
    /// secret made, before any transaction starts.
    private struct PreparedInstance {
        let spec: InstanceSpec
        let settings: InstanceSettings
        let secret: String

        init(_ spec: InstanceSpec) throws {
            try Validation.instanceName(spec.name)
            try Validation.customerName(spec.customer)
            let url = spec.url ?? Vault.defaultBaseURL
            settings = InstanceSettings(
                plan: spec.plan, roles: spec.roles.map { Validation.appendingUnique([], $0) } ?? spec.plan.defaultRoles,
                grantTypes: Validation.appendingUnique([], spec.grantTypes ?? [.clientCredentials]),
                redirectURIs: Validation.appendingUnique([], spec.redirectURIs),
                flows: try spec.flows.map { try Validation.appendingUnique([], $0.map(Validation.flowPattern)) }
                    ?? spec.plan.defaultFlows,
                tokenTTL: spec.tokenTTL ?? spec.plan.defaultTokenTTL, url: url,
                tokenURL: spec.tokenURL ?? url + "/oauth/token")
            try settings.validate()
            secret = try spec.secret.makeSecret()
            self.spec = spec
        }
    }

    private func createInstance(_ prepared: PreparedInstance, in tx: any StoreWriter) throws -> ServiceKey {
        let (spec, settings) = (prepared.spec, prepared.settings)
        try requireNameIsFree(spec.name, in: tx)
        let xsappname = try tx.tenant().xsappname(for: settings.plan)
        var clientID = ClientID.generate(xsappname: xsappname)
        while try tx.instance(clientID: clientID) != nil { clientID = ClientID.generate(xsappname: xsappname) }
        let record = try insert(
            name: spec.name, customer: spec.customer, clientID: clientID, settings: settings,
            tokenFormat: spec.tokenFormat, origin: "generated", secret: prepared.secret, in: tx)
        try tx.audit(
            AuditEvent(
                time: clock.now(), event: .instanceCreate, outcome: .allowed,
                reason: "plan \(settings.plan.rawValue); roles \(settings.roles.joined(separator: ","))",
                customer: record.customer, instance: record.name, clientID: record.clientID))
        return ServiceKey(
            clientID: clientID, clientSecret: prepared.secret, url: record.url, tokenURL: record.tokenURL,
            createDate: record.createdAt)
    }

    /// Stores a service key issued elsewhere (for example by the cloud), its
    /// secret sealed like any other.
    @available(*, noasync)
    public func importInstance(
        _ key: ServiceKey, name: String, customer: String, plan: Plan = .integrationFlow
    ) throws -> Instance {
        try Validation.instanceName(name)
        try Validation.customerName(customer)
        let settings = InstanceSettings(
            plan: plan, roles: plan.defaultRoles, grantTypes: [.clientCredentials], redirectURIs: [],
            flows: plan.defaultFlows, tokenTTL: plan.defaultTokenTTL,
            url: key.url.isEmpty ? Self.defaultBaseURL : key.url, tokenURL: key.tokenURL)
        try settings.validate()
        return try write { tx in
            try requireNameIsFree(name, in: tx)
            if let existing = try tx.instance(clientID: key.clientID) {
                throw VaultError.conflict(
                    "this service key's client id is already stored as instance '\(existing.name)'")
            }
            let record = try insert(
                name: name, customer: customer, clientID: key.clientID, settings: settings, tokenFormat: .jwt,
                origin: "imported", secret: key.clientSecret, in: tx)
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .instanceImport, outcome: .allowed, reason: "plan \(plan.rawValue)",
                    customer: customer, instance: name, clientID: key.clientID))
            return Instance(record)
        }
    }

    private func requireNameIsFree(_ name: String, in tx: any StoreReader) throws {
        if try tx.instance(named: name) != nil {
            throw VaultError.conflict(
                "an instance named '\(name)' already exists; choose another name or change it with 'pirvault instance update \(name)'")
        }
    }

    /// Inserts the instance row with a new data key, and its first credential.
    private func insert(
        name: String, customer: String, clientID: String, settings: InstanceSettings, tokenFormat: TokenFormat,
        origin: String, secret: String, in tx: any StoreWriter
    ) throws -> InstanceRecord {
        let now = clock.now().rfc3339
        var record = InstanceRecord(
            name: name, customer: customer, clientID: clientID, plan: settings.plan, roles: settings.roles,
            grantTypes: settings.grantTypes, redirectURIs: settings.redirectURIs, flows: settings.flows,
            tokenTTL: settings.tokenTTL, tokenFormat: tokenFormat, url: settings.url,
            tokenURL: settings.tokenURL, origin: origin, status: .active, createdAt: now, updatedAt: now)
        let dataKey = SealingKey.generate()
        record.id = try tx.insertInstance(record) { id in
            vaultKey.seal(dataKey.keyBytes, associatedData: AD.dataKey(vaultID, instanceID: id))
        }
        try addCredential(to: record, dataKey: dataKey, secret: secret, createdAt: now, in: tx)
        return record
    }

    func addCredential(
        to record: InstanceRecord, dataKey: SealingKey, secret: String, createdAt: String, in tx: any StoreWriter
    ) throws {
        _ = try tx.insertCredential(
            instanceID: record.id, verifier: verifier.tag(for: secret, context: record.clientID), createdAt: createdAt
        ) { credentialID in
            dataKey.seal(Array(secret.utf8), associatedData: AD.secret(vaultID, credentialID: credentialID, instanceID: record.id))
        }
    }

    // MARK: Reading

    @available(*, noasync)
    public func instance(named name: String) throws -> Instance {
        Instance(try read { try record(named: name, in: $0) })
    }

    func record(named name: String, in tx: any StoreReader) throws -> InstanceRecord {
        guard let record = try tx.instance(named: name) else {
            throw VaultError.notFound("no instance named '\(Validation.printable(name))'; see 'pirvault instance list'")
        }
        return record
    }

    /// Calls `body` for every instance (of one customer, or all), ordered by customer and name.
    @available(*, noasync)
    public func forEachInstance(customer: String? = nil, _ body: (Instance) throws -> Void) throws {
        try read { try $0.forEachInstance(customer: customer) { try body(Instance($0)) } }
    }

    /// The service key of `name` with its current secret. The disclosure is audited.
    @available(*, noasync)
    public func serviceKey(named name: String) throws -> ServiceKey {
        try write { tx in
            let record = try record(named: name, in: tx)
            let dataKey = try openDataKey(of: record)
            guard let current = try tx.credentials(instanceID: record.id).first(where: { $0.expiresAt == nil }) else {
                throw VaultError.notFound("instance '\(name)' has no current secret; rotate it with 'pirvault credentials rotate \(name)'")
            }
            let secret = try openSecret(current, of: record, dataKey: dataKey)
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .instanceKey, outcome: .allowed, reason: "service key disclosed",
                    customer: record.customer, instance: record.name, clientID: record.clientID))
            return ServiceKey(
                clientID: record.clientID, clientSecret: secret, url: record.url, tokenURL: record.tokenURL,
                createDate: current.createdAt)
        }
    }

    func openDataKey(of record: InstanceRecord) throws -> SealingKey {
        do {
            return try SealingKey(
                vaultKey.open(record.sealedDataKey, associatedData: AD.dataKey(vaultID, instanceID: record.id)))
        } catch {
            throw VaultError.tampered(
                "the data key of instance '\(record.name)' did not decrypt: the vault file was altered or damaged; restore it from a backup")
        }
    }

    func openSecret(_ credential: CredentialRecord, of record: InstanceRecord, dataKey: SealingKey) throws -> String {
        let ad = AD.secret(vaultID, credentialID: credential.id, instanceID: record.id)
        guard let bytes = try? dataKey.open(credential.sealedSecret, associatedData: ad),
            let secret = bytes.withUnsafeBytes({ String(validating: $0, as: UTF8.self) })
        else {
            throw VaultError.tampered(
                "the client secret of instance '\(record.name)' did not decrypt: the vault file was altered or damaged; restore it from a backup")
        }
        return secret
    }

    // MARK: Changing

    /// Applies `changes` to instance `name` and returns the result.
    @available(*, noasync)
    public func updateInstance(named name: String, _ changes: InstanceChanges) throws -> Instance {
        guard !changes.isEmpty else {
            throw VaultError.invalidInput("nothing to change; give at least one option such as --add-role or --add-flow")
        }
        let addFlows = try changes.addFlows.map(Validation.flowPattern)
        let removeFlows = try changes.removeFlows.map(Validation.flowPattern)
        return try write { tx in
            var record = try record(named: name, in: tx)
            var settings = InstanceSettings(
                plan: record.plan, roles: record.roles, grantTypes: record.grantTypes,
                redirectURIs: record.redirectURIs, flows: record.flows, tokenTTL: record.tokenTTL, url: record.url,
                tokenURL: record.tokenURL)
            var summary: [String] = []
            func remove<Item: CustomStringConvertible & Equatable>(_ items: [Item], from list: inout [Item], what: String) throws {
                for item in items {
                    guard let index = list.firstIndex(of: item) else {
                        throw VaultError.invalidInput("instance '\(name)' has no \(what) '\(Validation.printable(item.description))'")
                    }
                    list.remove(at: index)
                    summary.append("-\(what) \(item)")
                }
            }
            func add<Item: CustomStringConvertible & Equatable>(_ items: [Item], to list: inout [Item], what: String) {
                for item in items where !list.contains(item) {
                    list.append(item)
                    summary.append("+\(what) \(item)")
                }
            }
            func replace<Item: CustomStringConvertible & Equatable>(_ list: inout [Item], with items: [Item]?, what: String) {
                guard let items, Validation.appendingUnique([], items) != list else { return }
                list = Validation.appendingUnique([], items)
                summary.append("\(what) \(list.map(\.description).joined(separator: ","))")
            }
            if let plan = changes.plan, plan != settings.plan {
                settings.plan = plan
                summary.append("plan \(plan.rawValue)")
            }
            replace(&settings.roles, with: changes.roles, what: "roles")
            replace(&settings.grantTypes, with: changes.grantTypes, what: "grant types")
            replace(&settings.redirectURIs, with: changes.redirectURIs, what: "redirect URIs")
            try remove(changes.removeRoles, from: &settings.roles, what: "role")
            add(changes.addRoles, to: &settings.roles, what: "role")
            try remove(removeFlows, from: &settings.flows, what: "flow")
            add(addFlows, to: &settings.flows, what: "flow")
            try remove(changes.removeGrantTypes, from: &settings.grantTypes, what: "grant type")
            add(changes.addGrantTypes, to: &settings.grantTypes, what: "grant type")
            try remove(changes.removeRedirectURIs, from: &settings.redirectURIs, what: "redirect URI")
            add(changes.addRedirectURIs, to: &settings.redirectURIs, what: "redirect URI")
            if let ttl = changes.tokenTTL, ttl != settings.tokenTTL {
                settings.tokenTTL = ttl
                summary.append("token_ttl \(ttl)")
            }
            if let url = changes.url, url != settings.url {
                settings.url = url
                summary.append("url \(url)")
            }
            if let tokenURL = changes.tokenURL, tokenURL != settings.tokenURL {
                settings.tokenURL = tokenURL
                summary.append("tokenurl \(tokenURL)")
            }
            if let format = changes.tokenFormat, format != record.tokenFormat {
                record.tokenFormat = format
                summary.append("token_format \(format.rawValue)")
            }
            try settings.validate()
            guard !summary.isEmpty else {
                throw VaultError.invalidInput("instance '\(name)' already has these settings; nothing changed")
            }
            record.plan = settings.plan
            record.roles = settings.roles
            record.flows = settings.flows
            record.grantTypes = settings.grantTypes
            record.redirectURIs = settings.redirectURIs
            record.tokenTTL = settings.tokenTTL
            record.url = settings.url
            record.tokenURL = settings.tokenURL
            let now = clock.now()
            record.updatedAt = now.rfc3339
            try tx.updateInstance(record)
            try tx.audit(
                AuditEvent(
                    time: now, event: .instanceUpdate, outcome: .allowed, reason: summary.joined(separator: "; "),
                    customer: record.customer, instance: record.name, clientID: record.clientID))
            return Instance(record)
        }
    }

    /// Deletes instance `name`: its row, its secrets and its data key. The
    /// freed pages are zeroed and the WAL truncated, so the sealed data key is
    /// gone from the vault file (crypto-shredding; copies in old backups remain).
    @available(*, noasync)
    public func deleteInstance(named name: String) throws {
        try write { tx in
            let record = try record(named: name, in: tx)
            try tx.deleteInstance(id: record.id)
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .instanceDelete, outcome: .allowed, reason: "data key destroyed",
                    customer: record.customer, instance: record.name, clientID: record.clientID))
        }
        try storeOperation { try store.scrubDeletedRows() }
    }
}

import ArgumentParser
import PirvaultCore

struct InstanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Register and manage Process Integration Runtime instances (one client identity per customer).",
        subcommands: [
            InstanceCreate.self, InstanceList.self, InstanceShow.self, InstanceKey.self, InstanceUpdate.self,
            InstanceDelete.self, InstanceImport.self,
        ])
}

struct InstanceCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Register a new instance and print its service key JSON.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "Unique instance name (letters, digits, '.', '_', '-').") var name: String
    @Option(help: "The customer this instance belongs to.") var customer: String
    @Option(help: "integration-flow (default) or api.") var plan: String = Plan.integrationFlow.rawValue
    @Option(name: .customLong("role"), help: "A role; repeat for several (default: the plan's).") var roles: [String] = []
    @Option(name: .customLong("grant-type"), help: "client_credentials (default), password, refresh_token, authorization_code.")
    var grantTypes: [String] = []
    @Option(name: .customLong("redirect-uri"), help: "Redirect URI (needed with authorization_code).")
    var redirectURIs: [String] = []
    @Option(name: .customLong("flow"), help: "Flow pattern relative to /http/ (e.g. 'products/*'); default '*'.")
    var flows: [String] = []
    @Option(help: "Token lifetime in seconds (60–86400; default by plan).") var tokenTTL: Int?
    @Option(help: "jwt (default) or opaque.") var tokenFormat: String = TokenFormat.jwt.rawValue
    @OptionGroup var secret: SecretOptions
    @Option(help: "The service URL written into the service key.") var url: String?
    @Option(help: "The token URL written into the service key (default <url>/oauth/token).") var tokenURL: String?

    func run() throws {
        let plan = try Plan(parsing: plan)
        let secret = try secret.source()
        let spec = InstanceSpec(
            name: name, customer: customer, plan: plan, roles: roles.isEmpty ? nil : roles,
            grantTypes: grantTypes.isEmpty ? nil : try grantTypes.map(GrantType.init(parsing:)),
            redirectURIs: redirectURIs, flows: flows.isEmpty ? nil : flows, tokenTTL: tokenTTL,
            tokenFormat: try TokenFormat(parsing: tokenFormat), secret: secret, url: url, tokenURL: tokenURL)
        let key = try vault.openVault().createInstance(spec)
        Output.line(key.json)
    }
}

struct InstanceList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List instances.")

    @OptionGroup var vault: VaultOptions
    @Option(help: "Only this customer's instances.") var customer: String?
    @Flag(help: "Print a JSON array.") var json = false

    func run() throws {
        let opened = try vault.openVault()
        if json {
            try Output.jsonArray { element in
                try opened.forEachInstance(customer: customer) { element($0.jsonObject.compactString()) }
            }
            return
        }
        var rows: [[String]] = []
        try opened.forEachInstance(customer: customer) { i in
            rows.append([i.name, i.customer, i.plan.rawValue, i.status.rawValue, i.clientID, i.flows.joined(separator: ",")])
        }
        Output.table(header: ["NAME", "CUSTOMER", "PLAN", "STATUS", "CLIENTID", "FLOWS"], rows: rows)
    }
}

struct InstanceShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one instance (never its secret).")

    @OptionGroup var vault: VaultOptions
    @Argument var name: String
    @Flag(help: "Print a JSON object.") var json = false

    func run() throws {
        let instance = try vault.openVault().instance(named: name)
        if json {
            Output.json(instance.jsonObject)
            return
        }
        let rows: [[String]] = [
            ["name", instance.name], ["customer", instance.customer], ["clientid", instance.clientID],
            ["plan", instance.plan.rawValue], ["roles", instance.roles.joined(separator: ", ")],
            ["grant types", instance.grantTypes.map(\.rawValue).joined(separator: ", ")],
            ["redirect uris", instance.redirectURIs.joined(separator: ", ")],
            ["flows", instance.flows.joined(separator: ", ")], ["token ttl", "\(instance.tokenTTL) s"],
            ["token format", instance.tokenFormat.rawValue], ["status", instance.status.rawValue], ["url", instance.url],
            ["tokenurl", instance.tokenURL], ["origin", instance.origin], ["created", instance.createdAt],
            ["updated", instance.updatedAt],
        ]
        Output.table(header: ["FIELD", "VALUE"], rows: rows)
    }
}

struct InstanceKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Print the instance's service key JSON again (the disclosure is audited).")

    @OptionGroup var vault: VaultOptions
    @Argument var name: String

    func run() throws {
        Output.line(try vault.openVault().serviceKey(named: name).json)
    }
}

struct InstanceUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change an instance's roles, flows, grant types, lifetime or URLs.")

    @OptionGroup var vault: VaultOptions
    @Argument var name: String
    @Option(name: .customLong("add-role")) var addRoles: [String] = []
    @Option(name: .customLong("remove-role")) var removeRoles: [String] = []
    @Option(name: .customLong("add-flow")) var addFlows: [String] = []
    @Option(name: .customLong("remove-flow")) var removeFlows: [String] = []
    @Option(name: .customLong("add-grant-type")) var addGrantTypes: [String] = []
    @Option(name: .customLong("remove-grant-type")) var removeGrantTypes: [String] = []
    @Option(name: .customLong("add-redirect-uri")) var addRedirectURIs: [String] = []
    @Option(name: .customLong("remove-redirect-uri")) var removeRedirectURIs: [String] = []
    @Option(help: "integration-flow or api (the roles must suit the new plan).") var plan: String?
    @Option(help: "Token lifetime in seconds (60–86400).") var tokenTTL: Int?
    @Option(help: "jwt or opaque.") var tokenFormat: String?
    @Option var url: String?
    @Option var tokenURL: String?
    @Flag(help: "Print the updated instance as JSON.") var json = false

    func run() throws {
        var changes = InstanceChanges()
        changes.addRoles = addRoles
        changes.removeRoles = removeRoles
        changes.addFlows = addFlows
        changes.removeFlows = removeFlows
        changes.addGrantTypes = try addGrantTypes.map(GrantType.init(parsing:))
        changes.removeGrantTypes = try removeGrantTypes.map(GrantType.init(parsing:))
        changes.addRedirectURIs = addRedirectURIs
        changes.removeRedirectURIs = removeRedirectURIs
        changes.plan = try plan.map(Plan.init(parsing:))
        changes.tokenTTL = tokenTTL
        changes.tokenFormat = try tokenFormat.map(TokenFormat.init(parsing:))
        changes.url = url
        changes.tokenURL = tokenURL
        let updated = try vault.openVault().updateInstance(named: name, changes)
        if json { Output.json(updated.jsonObject) } else { Output.line("updated instance \(updated.name)") }
    }
}

struct InstanceDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an instance and destroy its data key (crypto-shredding its secrets).")

    @OptionGroup var vault: VaultOptions
    @Argument var name: String

    func run() throws {
        try vault.openVault().deleteInstance(named: name)
        Output.line("deleted instance \(name); its data key and secrets are destroyed")
    }
}

struct InstanceImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Store a service key JSON issued elsewhere (client-secret type), encrypted.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The service key JSON file, or - for stdin.") var file: String
    @Option(help: "Name for the new instance.") var name: String
    @Option(help: "The customer it belongs to.") var customer: String
    @Option(help: "integration-flow (default) or api.") var plan: String = Plan.integrationFlow.rawValue

    func run() throws {
        let plan = try Plan(parsing: plan)
        let bytes = try Input.serviceKeyBytes(path: file)
        let instance = try vault.openVault().importInstance(ServiceKey(importing: bytes), name: name, customer: customer, plan: plan)
        Output.line("imported instance \(instance.name) (clientid \(instance.clientID))")
    }
}

/// Where a new client secret comes from: generated (`--secret-length`) or
/// piped in (`--secret-stdin`), never an argument.
struct SecretOptions: ParsableArguments {
    @Option(help: "Random secret bytes (at least 16; default 32).") var secretLength: Int?
    @Flag(help: "Read the client secret from stdin instead of generating one.") var secretStdin = false

    func validate() throws {
        if secretStdin && secretLength != nil {
            throw ValidationError("give either --secret-length or --secret-stdin, not both")
        }
    }

    func source() throws -> SecretSource {
        secretStdin
            ? .provided(try Input.secretFromStdin(what: "the client secret"))
            : .generated(bytes: secretLength ?? SecretSource.defaultByteCount)
    }
}

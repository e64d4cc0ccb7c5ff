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
    @Option(help: "The service plan: the roles it offers and the default token lifetime.") var plan: Plan = .integrationFlow
    @Option(name: .customLong("role"), help: "A role; repeat for several (default: the plan's).", completion: .roles)
    var roles: [String] = []
    @Option(name: .customLong("grant-type"), help: "An OAuth grant type; repeat for several (default: client_credentials).")
    var grantTypes: [GrantType] = []
    @Option(name: .customLong("redirect-uri"), help: "Redirect URI (needed with authorization_code).")
    var redirectURIs: [String] = []
    @Option(name: .customLong("flow"), help: "Flow pattern relative to /http/ (e.g. 'products/*'); default '*'.")
    var flows: [String] = []
    @Option(help: "Token lifetime in seconds (60-86400; default by plan).") var tokenTTL: Int?
    @Option(help: "The kind of access token the instance receives.") var tokenFormat: TokenFormat = .jwt
    @OptionGroup var secret: SecretOptions
    @Option(help: "The service URL written into the service key.") var url: String?
    @Option(help: "The token URL written into the service key (default <url>/oauth/token).") var tokenURL: String?
    @Option(
        help: ArgumentHelp(
            "Instance parameters JSON as the cloud cockpit and 'cf create-service -c' take it: {\"roles\": [...], \"grant-types\": [...], \"redirect-uris\": [...]}, or - for stdin. Checked like the flags; a list given here and with its flag too is refused.",
            valueName: "file"),
        completion: .file(extensions: ["json"]))
    var parameters: String?

    func validate() throws {
        if parameters == "-" && secret.secretStdin {
            throw ValidationError("--parameters - and --secret-stdin both read stdin; put the parameters in a file")
        }
    }

    func run() throws {
        let instanceParameters = try parameters.map(Input.instanceParameters(path:))
        let secret = try secret.source()
        var spec = InstanceSpec(
            name: name, customer: customer, plan: plan, roles: roles.isEmpty ? nil : roles,
            grantTypes: grantTypes.isEmpty ? nil : grantTypes, redirectURIs: redirectURIs,
            flows: flows.isEmpty ? nil : flows, tokenTTL: tokenTTL, tokenFormat: tokenFormat, secret: secret, url: url,
            tokenURL: tokenURL)
        try instanceParameters?.apply(to: &spec)
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
    @Argument(help: "The instance's name.") var name: String
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
    @Argument(help: "The instance's name.") var name: String

    func run() throws {
        Output.line(try vault.openVault().serviceKey(named: name).json)
    }
}

struct InstanceUpdate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change an instance's roles, flows, grant types, lifetime or URLs.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The instance's name.") var name: String
    @Option(name: .customLong("add-role"), help: "Give the instance this role; repeat for several.", completion: .roles)
    var addRoles: [String] = []
    @Option(name: .customLong("remove-role"), help: "Take this role away; repeat for several.", completion: .roles)
    var removeRoles: [String] = []
    @Option(name: .customLong("add-flow"), help: "Allow this flow pattern (relative to /http/, e.g. 'orders/*'); repeat for several.")
    var addFlows: [String] = []
    @Option(name: .customLong("remove-flow"), help: "Stop allowing this flow pattern; repeat for several.")
    var removeFlows: [String] = []
    @Option(name: .customLong("add-grant-type"), help: "Allow this OAuth grant type; repeat for several.")
    var addGrantTypes: [GrantType] = []
    @Option(name: .customLong("remove-grant-type"), help: "Stop allowing this OAuth grant type; repeat for several.")
    var removeGrantTypes: [GrantType] = []
    @Option(name: .customLong("add-redirect-uri"), help: "Add a redirect URI (for authorization_code); repeat for several.")
    var addRedirectURIs: [String] = []
    @Option(name: .customLong("remove-redirect-uri"), help: "Remove a redirect URI; repeat for several.")
    var removeRedirectURIs: [String] = []
    @Option(help: "Move to this service plan (the roles must suit it).") var plan: Plan?
    @Option(help: "Token lifetime in seconds (60-86400).") var tokenTTL: Int?
    @Option(help: "The kind of access token the instance receives from now on.") var tokenFormat: TokenFormat?
    @Option(help: "The service URL written into the service key.") var url: String?
    @Option(help: "The token URL written into the service key.") var tokenURL: String?
    @Option(
        help: ArgumentHelp(
            "Instance parameters JSON as 'cf update-service -c' takes it: {\"roles\": [...], \"grant-types\": [...], \"redirect-uris\": [...]}, or - for stdin. Each list given replaces the instance's; adding to or removing from that same list with flags too is refused.",
            valueName: "file"),
        completion: .file(extensions: ["json"]))
    var parameters: String?
    @Flag(help: "Print the updated instance as JSON.") var json = false

    func run() throws {
        var changes = InstanceChanges()
        changes.addRoles = addRoles
        changes.removeRoles = removeRoles
        changes.addFlows = addFlows
        changes.removeFlows = removeFlows
        changes.addGrantTypes = addGrantTypes
        changes.removeGrantTypes = removeGrantTypes
        changes.addRedirectURIs = addRedirectURIs
        changes.removeRedirectURIs = removeRedirectURIs
        changes.plan = plan
        changes.tokenTTL = tokenTTL
        changes.tokenFormat = tokenFormat
        changes.url = url
        changes.tokenURL = tokenURL
        try parameters.map(Input.instanceParameters(path:))?.apply(to: &changes)
        let updated = try vault.openVault().updateInstance(named: name, changes)
        if json { Output.json(updated.jsonObject) } else { Output.line("updated instance \(updated.name)") }
    }
}

struct InstanceDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an instance and destroy its data key (crypto-shredding its secrets).")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The instance's name.") var name: String

    func run() throws {
        try vault.openVault().deleteInstance(named: name)
        Output.line("deleted instance \(name); its data key and secrets are destroyed")
    }
}

struct InstanceImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Store a service key JSON issued elsewhere (client-secret type), encrypted.")

    @OptionGroup var vault: VaultOptions
    @Argument(help: "The service key JSON file, or - for stdin.", completion: .file(extensions: ["json"])) var file: String
    @Option(help: "Name for the new instance.") var name: String
    @Option(help: "The customer it belongs to.") var customer: String
    @Option(help: "The service plan: the roles it offers and the default token lifetime.") var plan: Plan = .integrationFlow

    func run() throws {
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

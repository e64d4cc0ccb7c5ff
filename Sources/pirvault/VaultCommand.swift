import ArgumentParser
import PirvaultCore

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Describe the vault and its tenant, print a receiving application's binding, or copy the vault.",
        subcommands: [VaultInfoCommand.self, VaultBindingCommand.self, VaultSetSubdomain.self, VaultCopy.self])
}

struct VaultInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the backend, location (never a password), schema version, identity and audit log size.")

    @OptionGroup var vault: VaultOptions
    @Flag(help: "Print a JSON object with snake_case keys.") var json = false

    func run() throws {
        let info = try vault.openVault().info()
        if json {
            Output.json(info.jsonObject)
            return
        }
        var rows: [[String]] = [
            ["backend", info.backend], ["location", info.location], ["schema version", "\(info.schemaVersion)"],
            ["vault id", info.vaultID], ["unlock method", info.unlockMethod], ["subdomain", info.tenant.subdomain],
            ["runtime xsappname", info.tenant.runtimeXsappname], ["management xsappname", info.tenant.managementXsappname],
            ["instances", "\(info.instances)"], ["audit events", "\(info.auditEvents)"],
        ]
        for key in info.signingKeys.entries {
            var schedule = "\(key.state(at: info.time).rawValue) \(key.algorithm.rawValue) (\(key.publicKey.keyDescription)), signs from \(key.activatesAt.rfc3339)"
            if let until = key.retiredAt { schedule += " until \(until.rfc3339)" }
            if let published = key.publishedUntil { schedule += ", published until \(published.rfc3339)" }
            rows.append(["signing key \(key.kid)", schedule])
        }
        if let checkpoint = info.checkpoint {
            rows += [
                ["checkpoint size", "\(checkpoint.treeSize)"], ["checkpoint root", checkpoint.rootHashBase64],
                ["checkpoint time", checkpoint.createdAt.rfc3339],
            ]
        } else {
            rows.append(["checkpoint", "none"])
        }
        Output.table(header: ["FIELD", "VALUE"], rows: rows)
    }
}

struct VaultBindingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binding",
        abstract: "Print what an application that receives this vault's tokens puts in its XSUAA binding (no secret).",
        discussion: """
            With it, SAP's token libraries (sap-xssec, @sap/xssec, the Java security library) validate pirvault's \
            tokens as they validate XSUAA's: keys from https://<uaadomain>/token_keys, audience and scopes by \
            xsappname. The runtime's binding (plan integration-flow) accepts every customer's flow token and no \
            api-plan token. 'clientsecret' is a placeholder that sap-xssec insists on; nothing uses it. \
            See docs/sap-libraries.md.
            """)

    @OptionGroup var vault: VaultOptions
    @OptionGroup var issuer: IssuerOption
    @Option(help: "Whose tokens it receives: integration-flow (the runtime) or api (management).")
    var plan: Plan = .integrationFlow
    @Flag(help: "Print the binding as JSON (the default prints a table).") var json = false

    func run() throws {
        let issuerURL = issuer.value
        let binding = try vault.openVault().binding(plan: plan, issuer: issuerURL)
        if issuerURL.lowercased().hasPrefix("http://") {
            Output.warn(
                "SAP's libraries fetch /token_keys over https only: serve with --tls-cert (or behind an https proxy) and give --issuer https://…")
        }
        if json {
            Output.json(binding.jsonObject)
            return
        }
        guard case .object(let members) = binding.jsonObject else { return }
        Output.table(
            header: ["FIELD", "VALUE"],
            rows: members.map { name, value in
                [name, name == "verificationkey" ? "\(binding.algorithm.rawValue) public key (PEM; see --json)" : value.stringValue ?? ""]
            })
    }
}

struct VaultSetSubdomain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-subdomain",
        abstract: "Choose the tenant's subdomain, once, in a vault made before the tenant model.",
        discussion: """
            Allowed until an instance's client id carries the tenant's xsappnames (client ids never change). \
            Instances made before keep their client ids; their tokens carry the tenant's xsappnames.
            """)

    @OptionGroup var vault: VaultOptions
    @Argument(help: "Lower-case letters, digits and '-', such as acme-prod.") var subdomain: String

    func validate() throws { try Tenant.validateArgument(subdomain: subdomain) }

    func run() throws {
        let tenant = try vault.openVault().setSubdomain(subdomain)
        Output.line("subdomain \(tenant.subdomain): xsappnames \(tenant.runtimeXsappname) and \(tenant.managementXsappname)")
    }
}

struct VaultCopy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract:
            "Copy the vault, ids, keys and whole audit log included, into an empty file or database, then verify the copy.",
        discussion: """
            The copy opens with the same key file or passphrase, and every service key and audit root stays \
            valid. A target that exists (a file, or a database with any table) is refused and left unchanged.
            """)

    @OptionGroup var vault: VaultOptions
    @Option(
        help: ArgumentHelp(
            "New vault file, or postgres://USER@HOST:PORT/DB (password from PGPASSWORD, PGPASSFILE or ~/.pgpass).",
            valueName: "path|url"))
    var to: String

    func run() throws {
        let report = try vault.openVault().copy(to: to)
        Output.line(
            "copied vault \(report.vaultID) to \(report.target): \(report.instances) instances, "
                + "\(report.auditEvents) audit events, root \(report.rootHashBase64); verified")
    }
}

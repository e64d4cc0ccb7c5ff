import Foundation
import PirvaultCrypto
import PirvaultJSON
import PirvaultStore

extension Vault {
    /// The tenant the vault is, as its header says now.
    @available(*, noasync)
    public func tenant() throws -> Tenant { try read { try $0.tenant() } }

    /// Chooses the tenant's subdomain, once, in a vault made before the
    /// tenant model (whose subdomain was derived from its id): allowed until
    /// an instance carries the tenant's xsappnames in its client id, since
    /// client ids never change.
    @available(*, noasync)
    public func setSubdomain(_ subdomain: String) throws -> Tenant {
        try Tenant.validate(subdomain: subdomain)
        return try write { tx in
            let header = try tx.header()
            guard !header.subdomainChosen else {
                throw VaultError.conflict("this vault's subdomain is '\(header.subdomain)' and was already chosen; it cannot change again")
            }
            let current = Tenant(header)
            var named: String? = nil
            try tx.forEachInstance { record in
                let xsappname = ClientID.xsappname(of: record.clientID)
                if named == nil, xsappname == current.runtimeXsappname || xsappname == current.managementXsappname {
                    named = record.name
                }
            }
            if let named {
                throw VaultError.conflict(
                    "instance '\(named)' already has the tenant's xsappname in its client id; the subdomain can no longer change")
            }
            try tx.setSubdomain(subdomain)
            let tenant = Tenant(subdomain: subdomain, appIndex: current.appIndex)
            try tx.audit(
                AuditEvent(
                    time: clock.now(), event: .vaultSetSubdomain, outcome: .allowed,
                    reason: "subdomain \(subdomain) (was \(current.subdomain)); xsappnames \(tenant.runtimeXsappname), \(tenant.managementXsappname)"))
            return tenant
        }
    }

    /// What an application that *receives* this vault's tokens puts in its
    /// XSUAA binding to validate them with SAP's libraries (docs/sap-libraries.md),
    /// for the xsappname of `plan`, with the public base URL `issuer`. It
    /// holds no secret: validation needs none.
    @available(*, noasync)
    public func binding(plan: Plan, issuer: String) throws -> VaultBinding {
        let now = clock.now()
        let (tenant, schedule) = try read { tx in (try tx.tenant(), try signingKeySchedule(at: now, in: tx)) }
        guard let active = schedule.entries.first(where: { $0.state(at: now) == .active }) else {
            throw VaultError.notFound("the vault has no active signing key; run 'pirvault keys rotate-signing'")
        }
        return VaultBinding(
            tenant: tenant, plan: plan, issuer: issuer, zoneID: vaultID, verificationKey: active.publicKey.pem,
            algorithm: active.algorithm)
    }
}

/// The credentials of an XSUAA binding for a receiving application.
public struct VaultBinding: Sendable {
    public let tenant: Tenant
    public let plan: Plan
    /// The public base URL.
    public let issuer: String
    /// The `zid` claim: the vault id.
    public let zoneID: String
    /// The active key's PEM, SAP's libraries' offline fallback.
    public let verificationKey: String
    public let algorithm: SigningAlgorithm

    public var xsappname: String { tenant.xsappname(for: plan) }

    /// Where SAP's libraries fetch `https://<uaadomain>/token_keys`: the
    /// issuer's host, and for another port than 443 its whole `https://host:port`,
    /// the one form that SAP's Java library also reads (docs/sap-libraries.md).
    public var uaadomain: String {
        guard let url = URL(string: issuer), let host = url.host else { return issuer }
        guard let port = url.port, port != 443 else { return host }
        return "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The binding's JSON, members as XSUAA names them.
    public var jsonObject: JSONValue {
        .object([
            ("clientid", .string("sb-" + xsappname)),
            ("xsappname", .string(xsappname)),
            ("uaadomain", .string(uaadomain)),
            ("url", .string(issuer)),
            ("identityzone", .string(tenant.subdomain)),
            ("identityzoneid", .string(zoneID)),
            ("zoneid", .string(zoneID)),
            ("tenantid", .string(zoneID)),
            ("verificationkey", .string(verificationKey)),
            ("credential-type", .string("binding-secret")),
            // sap-xssec refuses a binding without some client secret; nothing uses it to validate.
            ("clientsecret", .string(Self.placeholderSecret)),
        ])
    }

    /// Not a secret: the value every binding pirvault prints carries.
    public static let placeholderSecret = "n/a"
}

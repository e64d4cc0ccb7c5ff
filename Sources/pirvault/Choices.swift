import ArgumentParser
import PirvaultCore
import PirvaultCrypto

// The fixed choices of the command line. As `ExpressibleByArgument` and
// `CaseIterable` types their values show in --help, in the man pages and in
// shell completions, and argument-parser refuses any other value as a usage
// error (exit 2) naming the allowed ones.
extension Plan: ExpressibleByArgument {}
extension GrantType: ExpressibleByArgument {}
extension TokenFormat: ExpressibleByArgument {}
extension AuditExportFormat: ExpressibleByArgument {}
extension AuditEventType: ExpressibleByArgument {}
extension SigningAlgorithm: ExpressibleByArgument {}

/// `--rsa-bits`: the modulus of a new RS256 key.
struct RSABitsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Size of a new RS256 key: 2048, 3072 or 4096 bits (default 2048).", valueName: "bits"))
    var rsaBits: Int = TokenSigningKey.defaultRSABits

    func validate() throws {
        guard TokenSigningKey.rsaKeySizes.contains(rsaBits) else {
            throw ValidationError("--rsa-bits must be 2048, 3072 or 4096; RSA keys shorter than 2048 bits are not safe to sign tokens")
        }
    }
}

extension CompletionKind {
    /// Every role some plan offers; which of them an instance may hold depends on its plan.
    static var roles: CompletionKind { .list(Plan.allCases.flatMap(\.knownRoles)) }
}

extension Tenant {
    /// The subdomain check for a command's `validate()`: argument-parser reports
    /// only a `ValidationError` as a usage error (exit 2).
    static func validateArgument(subdomain: String) throws {
        do {
            try validate(subdomain: subdomain)
        } catch let error as VaultError {
            throw ValidationError(error.description)
        }
    }
}

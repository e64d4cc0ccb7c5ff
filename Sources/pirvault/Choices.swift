import ArgumentParser
import PirvaultCore

// The fixed choices of the command line. As `ExpressibleByArgument` and
// `CaseIterable` types their values show in --help, in the man pages and in
// shell completions, and argument-parser refuses any other value as a usage
// error (exit 2) naming the allowed ones.
extension Plan: ExpressibleByArgument {}
extension GrantType: ExpressibleByArgument {}
extension TokenFormat: ExpressibleByArgument {}
extension AuditExportFormat: ExpressibleByArgument {}
extension AuditEventType: ExpressibleByArgument {}

extension CompletionKind {
    /// Every role some plan offers; which of them an instance may hold depends on its plan.
    static var roles: CompletionKind { .list(Plan.allCases.flatMap(\.knownRoles)) }
}

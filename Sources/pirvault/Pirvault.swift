import ArgumentParser
import Foundation
import PirvaultCore
import PirvaultServer
import PirvaultStore

/// The root command only lists subcommands; each lives in its own file.
struct Pirvault: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pirvault",
        abstract: "A credential vault for SAP Cloud Integration style OAuth clients: one client identity per customer.",
        discussion: """
            Unlock with --key-file FILE (env PIRVAULT_KEY_FILE) or a passphrase from --passphrase-file FILE, \
            env PIRVAULT_PASSPHRASE, or a prompt. Secrets are read from stdin or files, never from arguments.
            Exit codes: 0 success, 1 operational failure, 2 usage error.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, InstanceCommand.self, CredentialsCommand.self, TokenCommand.self, KeysCommand.self,
            AuditCommand.self, VaultCommand.self, Serve.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        // Whatever pirvault creates (vault, WAL, key files) is private to its user.
        umask(0o077)
        do {
            var command = try Pirvault.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(reporting: error)
        }
    }

    /// One line on stderr and the exit code of the README's Command reference: 2 only for a
    /// usage error the user fixes by changing the command line (argument-parser's
    /// own would be 64); 1 for operational failures, I/O failures and anything
    /// unexpected.
    static func exit(reporting error: Error) -> Never {
        switch error {
        case let error as VaultError:
            Output.fail(error.description, code: error.isUsageError ? 2 : 1)
        case let error as TokenError:
            Output.fail(error.description, code: 1)
        case let error as VaultLocationError:
            Output.fail(error.description, code: 2)
        case let error as StoreError:
            Output.fail(error.description, code: 1)
        case let error as OutputFileError:
            Output.fail(error.description, code: 1)
        case let error as TLSCredentialError:
            Output.fail(error.description, code: 1)
        case let error as ExitCode:
            Foundation.exit(error.rawValue)
        default:
            switch Pirvault.exitCode(for: error) {
            case .success:
                Pirvault.exit(withError: error)  // --help, --version
            case .validationFailure:
                Output.fail("\(firstLine(Pirvault.message(for: error)) ?? "invalid usage") (see 'pirvault help')", code: 2)
            default:
                let detail = firstLine(Pirvault.message(for: error)) ?? String(describing: type(of: error))
                Output.fail("unexpected error (\(detail)); retry, and if it persists report it with the command you ran", code: 1)
            }
        }
    }

    private static func firstLine(_ text: String) -> String? {
        text.split(separator: "\n").first.map(String.init)
    }
}

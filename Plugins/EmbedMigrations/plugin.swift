import Foundation
import PackagePlugin

/// Embeds the package's top-level `migrations/<backend>/*.sql` into the target as Swift
/// source, so a copied `pirvault` binary carries its schema with it (a resource
/// bundle would have to travel beside the binary).
///
/// The plugin runs on every build and lists the folder afresh, and the folder
/// itself is an input, so adding, editing or removing a migration rebuilds.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "migrations")
        let backendFolders = ["sqlite", "postgres"].map { folder.appending(path: $0) }
        let sqlFiles = try backendFolders.flatMap {
            try FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
        }.sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(sqlFiles.count) SQL migrations",
                executable: try context.tool(named: "MigrationEmbedder").url,
                arguments: [folder.path(percentEncoded: false), output.path(percentEncoded: false)],
                inputFiles: backendFolders + sqlFiles,
                outputFiles: [output]
            )
        ]
    }
}

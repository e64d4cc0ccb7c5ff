import Foundation

// Build tool for the EmbedMigrations plugin:
//   MigrationEmbedder <migrations folder> <output .swift file>
// The folder holds one subfolder per backend (`sqlite/`, `postgres/`). Each
// `NNNN_name.sql` in one becomes a `Migration` in `Migration.<backend>`, in
// version order. A misnamed file or a repeated version fails the build.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: MigrationEmbedder: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fail("usage: MigrationEmbedder <migrations-folder> <output.swift>") }
let root = URL(fileURLWithPath: arguments[1])
let output = URL(fileURLWithPath: arguments[2])
let backends = ["sqlite", "postgres"]

struct Entry {
    let version: Int
    let name: String
    let sql: String
}

/// The migrations of one backend's folder, in version order.
func entries(in folder: URL) -> [Entry] {
    let files: [URL]
    do {
        files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
    } catch {
        fail("cannot list \(folder.path): \(error)")
    }
    var entries: [Entry] = []
    for file in files {
        let stem = file.deletingPathExtension().lastPathComponent
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
            parts[1].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else {
            fail("\(file.lastPathComponent): migration files are named NNNN_description.sql (e.g. 0001_initial.sql)")
        }
        guard let sql = try? String(contentsOf: file, encoding: .utf8) else {
            fail("\(file.lastPathComponent) is not readable UTF-8")
        }
        entries.append(Entry(version: version, name: String(parts[1]), sql: sql))
    }
    entries.sort { $0.version < $1.version }
    for (index, entry) in entries.enumerated() where entry.version != index + 1 {
        fail("\(folder.lastPathComponent): migration versions must run 1, 2, 3… without gaps or repeats; found \(entry.version) at position \(index + 1)")
    }
    return entries
}

/// A raw string literal delimiter longer than any run of `#` in the text.
func delimiter(for text: String) -> String {
    var longest = 0
    var run = 0
    for character in text {
        run = character == "#" ? run + 1 : 0
        longest = max(longest, run)
    }
    return String(repeating: "#", count: longest + 1)
}

var source = "// Generated at build time by MigrationEmbedder from migrations/. Do not edit.\n\n"
source += "extension Migration {\n"
for backend in backends {
    source += "    /// The migrations in the package's `migrations/\(backend)/` folder, in order.\n"
    source += "    public static let \(backend): [Migration] = [\n"
    for entry in entries(in: root.appending(path: backend)) {
        let hashes = delimiter(for: entry.sql)
        source += "        Migration(\n            version: \(entry.version), name: \"\(entry.name)\",\n"
        source += "            sql: \(hashes)\"\"\"\n\(entry.sql)\n\"\"\"\(hashes)),\n"
    }
    source += "    ]\n"
}
source += "}\n"

do {
    // Write only when changed, so an unchanged folder does not recompile the target.
    if (try? String(contentsOf: output, encoding: .utf8)) != source {
        try source.write(to: output, atomically: true, encoding: .utf8)
    }
} catch {
    fail("cannot write \(output.path): \(error)")
}

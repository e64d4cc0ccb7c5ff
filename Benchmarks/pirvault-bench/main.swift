import Foundation
import PirvaultCore
import PirvaultCrypto

// pirvault's benchmarks. Not tests: they print figures.
//
//   swift build -c release --product pirvault && swift build -c release --product pirvault-bench
//   .build/release/pirvault-bench [foundation] [tokens] [--instances 100000] [--runs 5] [--seconds 3]
//
// foundation (issue 2), with the release `pirvault` next to this binary:
//   - process start baseline: `pirvault --version`
//   - `pirvault instance list --json` on a vault of 10 and of N instances
//   - open + unlock with a key file, in process and as a process
// audit (issue 5): append rate, then `audit export` / `audit verify` on --events events (default 1,000,000)
// sha256: libsodium's SHA-256 against swift-crypto's (BoringSSL), one thread
// algorithms (issue 17): per signing algorithm (RS256, ES256, EdDSA), in-process
//   JWT issue against the raw sign rate of its library, one thread
// make-audit-log --events N --dir D: only make the vault D/vault.db of N events (Benchmarks/audit-bench.sh)
// tokens (issue 3), on one thread:
//   - in-process token issues/s (JWT and opaque) and verifies/s (with and without a flow)
//   - issues/s with their audit rows committed in groups, and one commit per issue
//   - `pirvault token issue` as a new process

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let value = Int(arguments[i + 1]) else {
        return fallback
    }
    return value
}
let bigCount = option("--instances", 100_000)
let runs = option("--runs", 5)
let loopSeconds = Double(option("--seconds", 3))
let auditEventCount = option("--events", 1_000_000)
let sections = Set(arguments.dropFirst().filter { !$0.hasPrefix("--") && Int($0) == nil })
func wanted(_ section: String) -> Bool { sections.isEmpty || sections.contains(section) }
let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("pirvault").path
// The in-process sections alone run without the release `pirvault`.
let needsBinary = sections.isEmpty || !sections.isSubset(of: ["sha256", "algorithms"])
guard !needsBinary || FileManager.default.isExecutableFile(atPath: binary) else {
    print("error: \(binary) not found; build it with 'swift build -c release --product pirvault'")
    exit(1)
}

if sections.contains("make-audit-log") {
    guard let i = arguments.firstIndex(of: "--dir"), i + 1 < arguments.count else {
        print("error: make-audit-log needs --dir D")
        exit(2)
    }
    try makeAuditLog(eventCount: auditEventCount, directory: arguments[i + 1])
    exit(0)
}

let work = NSTemporaryDirectory() + "pirvault-bench-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { if ProcessInfo.processInfo.environment["KEEP_BENCH_FILES"] == nil { try? FileManager.default.removeItem(atPath: work) } }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Starts `binary` with `args` via posix_spawn (Foundation's Process adds
/// tens of milliseconds of its own on Linux), stdout to `outPath`, and waits.
func spawn(_ args: [String], environment: [String], outPath: String, inPath: String = "/dev/null") throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    let argv = ([binary] + args).map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, binary, &actions, nil, argv, envp) == 0 else {
        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "posix_spawn failed"])
    }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status
}

/// Runs the binary `runs` times; returns the median wall time and the output size.
func timeProcess(_ args: [String], vault: String, key: String, stdin: String = "/dev/null", count: Int = runs) throws -> (median: Double, bytes: Int) {
    var times: [Double] = []
    let out = work + "/out"
    for _ in 0..<count {
        var status: Int32 = 0
        times.append(
            try seconds {
                status = try spawn(args, environment: ["PIRVAULT_PATH=\(vault)", "PIRVAULT_KEY_FILE=\(key)"], outPath: out, inPath: stdin)
            })
        guard status == 0 else { throw NSError(domain: "bench", code: Int(status)) }
    }
    let bytes = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
    return (median(times), bytes)
}

/// A vault with `count` instances, created in process in batches of 10,000 per transaction.
func makeVault(_ name: String, count: Int) throws -> (vault: String, key: String, seconds: Double) {
    let path = work + "/\(name).db"
    let keyPath = work + "/\(name).key"
    let vault = try Vault.create(at: path, unlock: .keyFile(KeyFile.generate(at: keyPath)), stores: .sqlite)
    let elapsed = try seconds {
        var created = 0
        while created < count {
            let batch = min(10_000, count - created)
            _ = try vault.createInstances(
                (created..<(created + batch)).map {
                    InstanceSpec(name: "instance-\($0)", customer: "customer-\($0 % 1000)", flows: ["orders/*", "products/*"])
                })
            created += batch
        }
    }
    return (path, keyPath, elapsed)
}

func row(_ label: String, _ value: String) { print(label.padding(toLength: 58, withPad: " ", startingAt: 0) + value) }
func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

print("pirvault-bench: \(runs) runs per process figure (median); \(ProcessInfo.processInfo.activeProcessorCount) cores")
let small = try makeVault("small", count: 10)
let baseline = needsBinary ? try timeProcess(["--version"], vault: small.vault, key: small.key) : (median: 0, bytes: 0)
if needsBinary { row("baseline: pirvault --version (process start)", ms(baseline.median)) }

if wanted("foundation") {
    print("-- foundation (issue 2)")
    let big = try makeVault("big", count: bigCount)
    row("create \(bigCount) instances in process (10k per txn)", String(format: "%.2f s (%.0f instances/s)", big.seconds, Double(bigCount) / big.seconds))


    let list10 = try timeProcess(["instance", "list", "--json"], vault: small.vault, key: small.key)
    row("pirvault instance list --json, 10 instances", ms(list10.median) + "  (\(list10.bytes) bytes)")
    let listBig = try timeProcess(["instance", "list", "--json"], vault: big.vault, key: big.key)
    row("pirvault instance list --json, \(bigCount) instances", ms(listBig.median) + "  (\(listBig.bytes / 1_048_576) MiB)")
    row("  ratio \(bigCount) / 10 instances", String(format: "%.1f×", listBig.median / list10.median))
    row("  per instance", String(format: "%.2f µs", (listBig.median - list10.median) / Double(bigCount - 10) * 1e6))

    var unlockTimes: [Double] = []
    for _ in 0..<max(runs, 20) {
        unlockTimes.append(try seconds { _ = try Vault.open(at: big.vault, unlock: .keyFile(KeyFile.read(at: big.key)), stores: .sqlite) })
    }
    row("open + unlock with a key file, in process", String(format: "%.2f ms", median(unlockTimes) * 1000))
    let unlockProcess = try timeProcess(["audit", "list", "--limit", "1"], vault: big.vault, key: big.key)
    row("open + unlock + 1 audit row, as a process", ms(unlockProcess.median) + String(format: "  (%.1f× --version)", unlockProcess.median / baseline.median))
}

if wanted("tokens") {
    print("-- tokens (issue 3), one thread")
    try tokenBenchmarks(vaultPath: small.vault, keyPath: small.key, baseline: baseline.median)
}

if wanted("algorithms") {
    print("-- signing algorithms (issue 17): in-process issue against raw sign, one thread")
    try algorithmBenchmarks()
}

if wanted("sha256") {
    print("-- SHA-256: libsodium against swift-crypto, one thread")
    sha256Benchmarks()
}

if wanted("audit") {
    print("-- audit log (issue 5)")
    try auditBenchmarks(eventCount: auditEventCount)
}

// swift-tools-version:5.4
import PackageDescription

// The libFuzzer binary: one executable that runs the FuzzTarget named by
// PIRVAULT_FUZZ_TARGET; libFuzzer supplies main. scripts/fuzz.sh builds it,
// adding the coverage instrumentation for every module on its command line.
// A separate package, so the main package's `swift build` and `swift test`
// never see a fuzzer entry point. See docs/fuzzing.md.
let package = Package(
    name: "pirvault-fuzz",
    dependencies: [.package(name: "pirvault", path: "..")],
    targets: [
        .executableTarget(
            name: "pirvault-fuzz",
            dependencies: [.product(name: "PirvaultFuzzHarness", package: "pirvault")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        )
    ]
)

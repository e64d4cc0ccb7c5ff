// swift-tools-version:6.0
import PackageDescription

// Layers, bottom to top: CSodium / CSQLite (system libraries) → PirvaultCrypto
// (libsodium wrappers) → PirvaultStore (the VaultStore interface with its
// SQLite and PostgreSQL implementations, migrations, records; all SQL lives
// here) → PirvaultCore (vault, instances, audit, policy) → PirvaultServer
// (Hummingbird routes) → pirvault (CLI). PirvaultHTTP (form and Authorization
// header parsing) has no Hummingbird, so the fuzz targets (Fuzz/, through
// PirvaultFuzzHarness) build it without the server.
let package = Package(
    name: "pirvault",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pirvault", targets: ["pirvault"]),
        // For the nested fuzzing package in Fuzz/.
        .library(name: "PirvaultFuzzHarness", targets: ["PirvaultFuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Both already in the graph (through Hummingbird and swift-crypto): HTTP
        // parts for the connection limits, and DER for a TLS key's size.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // Already in the graph through postgres-nio: RSA and P-256 token
        // signatures (PirvaultCrypto), and pirvault-bench's SHA-256 comparison.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "PirvaultCrypto",
            dependencies: [
                "CSodium",
                // RSA (RS256) and P-256 (ES256) signatures, which libsodium lacks.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(name: "PirvaultJSON"),
        .executableTarget(name: "MigrationEmbedder"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["MigrationEmbedder"]
        ),
        .target(
            name: "PirvaultStore",
            dependencies: ["CSQLite", "PirvaultCrypto", "PirvaultJSON"],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "PirvaultPostgres",
            dependencies: [
                "PirvaultStore", "PirvaultJSON",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "PirvaultCore", dependencies: ["PirvaultCrypto", "PirvaultJSON", "PirvaultStore"]),
        .target(name: "PirvaultHTTP", dependencies: ["PirvaultCrypto"]),
        // The audit report as one self-contained HTML page (presentation, kept out of the domain).
        .target(name: "PirvaultReport", dependencies: ["PirvaultCore", "PirvaultStore"]),
        .target(
            name: "PirvaultFuzzHarness",
            dependencies: ["PirvaultCore", "PirvaultCrypto", "PirvaultHTTP", "PirvaultJSON", "PirvaultStore"]
        ),
        .target(
            name: "PirvaultServer",
            dependencies: [
                "PirvaultCore", "PirvaultCrypto", "PirvaultHTTP", "PirvaultJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "pirvault",
            dependencies: [
                "PirvaultCore", "PirvaultCrypto", "PirvaultServer", "PirvaultStore", "PirvaultPostgres", "PirvaultReport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "pirvault-bench",
            dependencies: [
                "PirvaultCore", "PirvaultCrypto", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Benchmarks/pirvault-bench"
        ),
        // A throw-away PostgreSQL server (and a free loopback port) for the tests.
        .target(name: "PirvaultTestSupport", dependencies: ["PirvaultStore", "PirvaultPostgres"], path: "Tests/PirvaultTestSupport"),
        .testTarget(name: "PirvaultCryptoTests", dependencies: ["PirvaultCrypto"]),
        .testTarget(name: "PirvaultJSONTests", dependencies: ["PirvaultJSON"]),
        .testTarget(
            name: "PirvaultStoreTests", dependencies: ["PirvaultStore", "PirvaultPostgres", "PirvaultCrypto", "PirvaultTestSupport"]),
        .testTarget(
            name: "PirvaultCoreTests",
            dependencies: ["PirvaultCore", "PirvaultStore", "PirvaultCrypto", "PirvaultJSON", "PirvaultTestSupport"]),
        .testTarget(name: "PirvaultReportTests", dependencies: ["PirvaultReport", "PirvaultCore"]),
        .testTarget(name: "PirvaultCLITests", dependencies: ["pirvault", "PirvaultCrypto", "PirvaultTestSupport"]),
        .testTarget(
            name: "PirvaultServerTests",
            dependencies: [
                "PirvaultServer", "PirvaultCore", "PirvaultCrypto", "PirvaultHTTP", "PirvaultJSON",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "PirvaultFuzzRegressionTests", dependencies: ["PirvaultFuzzHarness"]),
    ]
)

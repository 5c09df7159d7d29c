// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "coex",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CoexKit", targets: ["CoexKit"]),
        .executable(name: "coex-validate", targets: ["coex-validate"]),
        .executable(name: "coex-normalize", targets: ["coex-normalize"]),
        .executable(name: "coex-dedupe", targets: ["coex-dedupe"]),
        .executable(name: "coex-order", targets: ["coex-order"]),
        .executable(name: "coex-apply", targets: ["coex-apply"]),
        .executable(name: "coex-load", targets: ["coex-load"]),
        .executable(name: "coex-export", targets: ["coex-export"]),
        .executable(name: "coex-report", targets: ["coex-report"]),
        .executable(name: "coex", targets: ["coex"]),
        .executable(name: "coex-gen", targets: ["coex-gen"]),
        .executable(name: "coex-bench-ceiling", targets: ["coex-bench-ceiling"]),
        // libFuzzer target (fuzz/run.sh builds it with --sanitize=fuzzer); inert in a plain build.
        .executable(name: "coex-fuzz", targets: ["coex-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // coex capture only: the HTTP server (SwiftNIO underneath), its logging and its metrics.
        // Hummingbird's default traits (swift-configuration, full Foundation) are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already under Hummingbird; named for graceful shutdown and the bound address.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C libraries from Debian packages, each wrapped by one Swift type.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "CSimdJSON",
            linkerSettings: [.linkedLibrary("simdjson")]
        ),

        // JSON reading (simdjson) and writing; the only code that sees the shim.
        .target(name: "CoexJSON", dependencies: ["CSimdJSON"]),
        // The model and every transform: plain values in, plain values out, no I/O.
        .target(
            name: "CoexKit",
            dependencies: ["CoexJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Byte streams: files, stdin, zstd, buffered stdout.
        .target(name: "CoexIO", dependencies: ["CZstd", "CoexJSON"]),
        // SQLite databases (system libsqlite3): Database and Statement own their handles.
        .target(name: "CoexSQLite", dependencies: ["CSQLite"]),
        // Archives through libarchive: tar.zst, tar.gz, zip, written deterministically.
        .target(name: "CoexArchive", dependencies: ["CArchive"]),
        // The per-business SQLite state: schema, migrations, incremental load.
        .target(name: "CoexStore", dependencies: ["CoexKit", "CoexSQLite"]),
        // The stages after normalize and their spilling stores: one stage shape, run by the
        // stage executables and chained in one process by `coex import`. No CLI dependency.
        .target(name: "CoexEngine", dependencies: ["CoexKit", "CoexIO", "CoexJSON", "CoexStore"]),
        // Deterministic capture generator for tests and benchmarks.
        .target(name: "CoexSamples", dependencies: ["CoexJSON"]),
        // What every stage executable shares: options, stage driver, exit codes.
        .target(
            name: "CoexCLI",
            dependencies: [
                "CoexKit", "CoexIO", "CoexEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // The webhook receiver: signature check, group-commit capture files, rotation, metrics.
        // The only target that depends on Hummingbird; the stage executables never link it.
        .target(
            name: "CoexCapture",
            dependencies: [
                "CoexKit", "CoexIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // `coex capture`'s flags and wiring, linked into `coex` only.
        .target(
            name: "CoexCaptureCommand",
            dependencies: [
                "CoexCapture", "CoexKit", "CoexCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Compliance archives of a business database: manifest with sums, NDJSON, CSV, transcripts.
        .target(
            name: "CoexExport",
            dependencies: ["CoexStore", "CoexSQLite", "CoexArchive", "CoexJSON", "CoexIO", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // What a business database holds, summarised: history completeness, counts, account state.
        .target(name: "CoexReport", dependencies: ["CoexStore", "CoexSQLite", "CoexJSON"]),
        // Every command (flags and wiring only); each executable below runs one, `coex` any.
        .target(
            name: "CoexCommands",
            dependencies: [
                "CoexCLI", "CoexEngine", "CoexStore", "CoexExport", "CoexReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .executableTarget(name: "coex-validate", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-normalize", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-dedupe", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-order", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-apply", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-load", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-export", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex-report", dependencies: ["CoexCommands"]),
        .executableTarget(name: "coex", dependencies: ["CoexCommands", "CoexCaptureCommand"]),
        .executableTarget(
            name: "coex-gen",
            dependencies: [
                "CoexSamples", "CoexIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "coex-fuzz", dependencies: ["CoexEngine", "CoexKit", "CoexJSON"]),
        // bench/import.sh's ceiling: a bare parse + insert loop (python_loader.py's work).
        .executableTarget(name: "coex-bench-ceiling", dependencies: ["CoexJSON", "CoexIO", "CoexSQLite"]),

        .testTarget(
            name: "CoexKitTests",
            dependencies: ["CoexKit", "CoexEngine", "CoexJSON", "CoexIO", "CoexSamples"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "CoexJSONTests", dependencies: ["CoexJSON"]),
        .testTarget(name: "CoexIOTests", dependencies: ["CoexIO"]),
        .testTarget(name: "CoexSamplesTests", dependencies: ["CoexSamples", "CoexJSON"]),
        .testTarget(
            name: "CoexCLITests",
            dependencies: ["CoexCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "CoexEngineTests", dependencies: ["CoexEngine", "CoexKit", "CoexIO", "CoexJSON", "CoexStore", "CoexSamples", "CoexTestSupport"]),
        .testTarget(name: "CoexCaptureTests", dependencies: ["CoexCapture", "CoexKit", "CoexIO", "CoexJSON", "CoexTestSupport"]),
        .testTarget(name: "CoexSQLiteTests", dependencies: ["CoexSQLite"]),
        .testTarget(name: "CoexArchiveTests", dependencies: ["CoexArchive"]),
        // Scratch folders and running the built executables, for the test targets below.
        .target(name: "CoexTestSupport", path: "Tests/CoexTestSupport"),
        .testTarget(name: "CoexStoreTests", dependencies: ["CoexStore", "CoexKit", "CoexSQLite", "CoexJSON", "CoexSamples", "CoexTestSupport"]),
        .testTarget(
            name: "CoexExportTests",
            dependencies: [
                "CoexExport", "CoexStore", "CoexKit", "CoexSQLite", "CoexArchive", "CoexTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "CoexReportTests", dependencies: ["CoexReport", "CoexStore", "CoexKit", "CoexSQLite", "CoexTestSupport"]),
        .testTarget(
            name: "CoexEndToEndTests",
            dependencies: ["CoexTestSupport", .product(name: "Subprocess", package: "swift-subprocess")],
            resources: [.copy("Cases")]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

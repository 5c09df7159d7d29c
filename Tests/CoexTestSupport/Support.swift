// What the test targets share (test targets cannot import each other): scratch folders,
// and running the built executables in the repository.

import Foundation

/// A fresh temporary directory, removed when the test is done with it.
public final class TempDir: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ name: String = "coex-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

public struct TestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The built executables (coex-validate ... coex-load, coex-report, coex-gen) and the repository.
public enum Tools {
    /// `COEX_BIN_DIR`, else the directory of the test bundle (SwiftPM puts one build's products side by side).
    public static func binDirectory() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["COEX_BIN_DIR"], !override.isEmpty {
            let dir = URL(fileURLWithPath: override)
            guard hasExecutables(dir) else { throw TestError("COEX_BIN_DIR=\(override) holds no executable coex-load") }
            return dir
        }
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // On macOS the runner is inside NAME.xctest/Contents/MacOS; the products are beside NAME.xctest.
        for c in candidates {
            var dir = c
            for _ in 0..<4 {
                if hasExecutables(dir) { return dir }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw TestError(
            "cannot find the built coex-load next to the test bundle (looked in "
                + candidates.map(\.path).joined(separator: ", ")
                + "); build the executables (swift build) or set COEX_BIN_DIR")
    }

    static func hasExecutables(_ dir: URL) -> Bool {
        ["coex-validate", "coex-load"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent($0).path)
        }
    }

    /// The repository root (samples/ lives there), from this file's path.
    public static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `s` quoted for bash.
    public static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    public struct Output: Sendable {
        public var stdout: String
        public var stderr: String
    }

    /// Runs `bash -o pipefail -c script` in the repository with the executables first on PATH
    /// and TZ=UTC; fails unless it exits with `expectStatus`.
    public static func run(_ script: String, expectStatus: Int32 = 0) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = try binDirectory().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["TZ"] = "UTC"
        process.environment = env
        process.currentDirectoryURL = repository
        // Files, not pipes: a big output must not fill a pipe nobody reads yet.
        let scratch = try TempDir("coex-test-run")
        let outPath = scratch.file("stdout"), errPath = scratch.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        let out = Output(stdout: try String(contentsOfFile: outPath, encoding: .utf8),
                         stderr: try String(contentsOfFile: errPath, encoding: .utf8))
        guard process.terminationStatus == expectStatus else {
            throw TestError("exit \(process.terminationStatus) (expected \(expectStatus)) from: \(script)\n\(out.stderr)")
        }
        return out
    }

    /// `run`, returning stderr (where the stages' summaries go).
    @discardableResult
    public static func bash(_ script: String, expectStatus: Int32 = 0) throws -> String {
        try run(script, expectStatus: expectStatus).stderr
    }
}

import CoexSQLite
import Foundation
import Testing

@testable import CoexStore

/// A fresh temporary directory, removed when the test is done with it.
final class TempDir: Sendable {
    let url: URL
    var path: String { url.path }

    init(_ name: String = "coex-store") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The built executables (coex-validate ... coex-load, coex-gen) and the repository.
enum Tools {
    /// `COEX_BIN_DIR`, else the directory of the test bundle (SwiftPM puts one build's products side by side).
    static func binDirectory() throws -> URL {
        if let dir = ProcessInfo.processInfo.environment["COEX_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for c in candidates {
            var dir = c
            for _ in 0..<4 {
                if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("coex-load").path) { return dir }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw TestError("cannot find the built coex-load next to the test bundle; run swift build first or set COEX_BIN_DIR")
    }

    /// The repository root (samples/ lives there), from this file's path.
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A sample capture as a path relative to the repository, where commands run: records
    /// then carry `source` "samples/NAME" as samples/README.md names them.
    static func sample(_ name: String) -> String { "samples/\(name)" }

    /// Runs `bash -o pipefail -c script` with the executables first on PATH; returns stderr.
    @discardableResult
    static func bash(_ script: String, expectStatus: Int32 = 0) throws -> String {
        let bin = try binDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["TZ"] = "UTC"
        process.environment = env
        process.currentDirectoryURL = repository
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == expectStatus else {
            throw TestError("exit \(process.terminationStatus) (expected \(expectStatus)) from: \(script)\n\(text)")
        }
        return text
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// validate | normalize | dedupe | order | apply of `captures` into `state`.
    static func pipe(_ captures: [String], to state: String) throws {
        let files = captures.map(quote).joined(separator: " ")
        try bash("coex-validate \(files) | coex-normalize | coex-dedupe | coex-order | coex-apply > \(quote(state))")
    }

    /// The whole pipe of `captures` (one import), loaded into `dir`.
    @discardableResult
    static func importNight(_ captures: [String], into dir: String, scratch: TempDir, options: String = "") throws -> String {
        let state = scratch.file("state-\(UUID().uuidString).ndjson")
        try pipe(captures, to: state)
        return try bash("coex-load \(options) --out-dir \(quote(dir)) \(quote(state))")
    }
}

/// Every table but `imports`, as sorted text rows: what must be equal between two ways
/// of loading the same captures.
func dump(_ path: String) throws -> [String: [String]] {
    let db = try Database(path: path, mode: .readOnly)
    var result: [String: [String]] = [:]
    let tables = try db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'imports' ORDER BY name")
        .mapRows { $0.text(at: 0) }
    for table in tables {
        result[table] = try db.prepare("SELECT * FROM \(table)").mapRows { row in
            (0..<row.columnCount).map { describe(row.value(at: $0)) }.joined(separator: "|")
        }.sorted()
    }
    return result
}

func describe(_ v: SQLiteValue) -> String {
    switch v {
    case .null: "NULL"
    case .integer(let n): String(n)
    case .real(let d): String(d)
    case .text(let s): s
    case .blob(let b): "blob:\(b.count)"
    }
}

/// The databases of a directory by file name.
func databases(in dir: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sqlite") }.sorted()
}

/// Rows of one query as dictionaries of column name → text (NULL as nil).
func rows(_ path: String, _ query: String) throws -> [[String: String]] {
    let db = try Database(path: path, mode: .readOnly)
    return try db.prepare(query).mapRows { row in
        var r: [String: String] = [:]
        for i in 0..<row.columnCount where !row.isNull(at: i) {
            r[row.columnName(at: i)] = describe(row.value(at: i))
        }
        return r
    }
}

func scalar(_ path: String, _ query: String) throws -> String? {
    try rows(path, query).first?.values.first
}

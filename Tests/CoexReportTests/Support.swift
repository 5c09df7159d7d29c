import CoexKit
import CoexReport
import CoexSQLite
import CoexStore
import Foundation
import Testing

// Small copies of Tests/CoexStoreTests/Support.swift (test targets cannot share code).

/// A fresh temporary directory, removed when the test is done with it.
final class TempDir: Sendable {
    let url: URL
    var path: String { url.path }

    init(_ name: String = "coex-report") throws {
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

/// The built executables (coex-validate ... coex-load, coex-report) and the repository.
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

    struct Output {
        var stdout: String
        var stderr: String
    }

    /// Runs `bash -o pipefail -c script` in the repository with the executables first on PATH.
    @discardableResult
    static func bash(_ script: String, expectStatus: Int32 = 0) throws -> Output {
        let bin = try binDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", script]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["TZ"] = "UTC"
        process.environment = env
        process.currentDirectoryURL = repository
        let scratch = try TempDir("coex-report-run")
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

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The whole pipe of `captures` (paths relative to the repository) loaded into `dir`.
    static func importNight(_ captures: [String], into dir: String) throws {
        let files = captures.map(quote).joined(separator: " ")
        try bash("coex-validate \(files) | coex-normalize | coex-dedupe | coex-order | coex-apply | coex-load --out-dir \(quote(dir))")
    }
}

// MARK: Hand-made records

let testWaba = "111000111"
let testPhone = "555000"

func record(_ kind: RecordKind, line: Int = 1, phone: String? = testPhone, _ fill: (inout Record) -> Void) -> Record {
    var r = Record(kind: kind, wabaID: testWaba, provenance: Provenance(source: "t.ndjson", line: line))
    r.phoneNumberID = phone
    fill(&r)
    return r
}

func message(_ wamid: String, ts: Int64, wa: String? = "100", user: String? = nil, type: String = "text",
             body: String? = "hi", origin: Origin = .live, direction: Direction = .inbound, arrival: Int) -> Record {
    record(.message) {
        $0.wamid = wamid
        $0.timestamp = ts
        $0.contactWaID = wa
        $0.contactUserID = user
        $0.direction = direction
        $0.origin = origin
        $0.type = type
        $0.body = body
        if let body { $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8)) }
        $0.arrival = arrival
    }
}

func change(_ kind: RecordKind, _ wamid: String, of original: String, ts: Int64, wa: String? = "100",
            body: String? = nil) -> Record {
    record(kind) {
        $0.wamid = wamid
        $0.originalMessageID = original
        $0.timestamp = ts
        $0.contactWaID = wa
        $0.direction = .inbound
        $0.origin = .live
        if let body {
            $0.type = "text"
            $0.body = body
            $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8))
        }
    }
}

func chunk(phase: Int, order: Int, progress: Int, messages: Int = 1, phone: String = testPhone, time: Int64? = nil) -> Record {
    record(.historyChunk, phone: phone) {
        $0.phase = phase
        $0.chunkOrder = order
        $0.progress = progress
        $0.threadCount = 1
        $0.messageCount = messages
        $0.timestamp = time
    }
}

func accountEvent(_ event: String, time: Int64?, reason: String? = nil) -> Record {
    record(.accountEvent, phone: nil) {
        $0.event = event
        $0.timestamp = time
        $0.reason = reason
    }
}

/// Loads `records` into a fresh database DIR/111000111.sqlite and returns its path.
@discardableResult
func load(_ records: [Record], into dir: TempDir, time: Int64 = 1_768_000_000) throws -> String {
    let path = dir.file("\(testWaba).sqlite")
    _ = try BusinessLoad.load(records, path: path, wabaID: testWaba, inputs: ["night.ndjson"], time: time)
    return path
}

/// The JSON report parsed by Foundation (an independent reader of what JSONWriter wrote).
func parsedJSON(_ report: BusinessReport) throws -> [String: Any] {
    let bytes = ReportJSON.render(report)
    guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
        throw TestError("the JSON report is not an object")
    }
    return object
}

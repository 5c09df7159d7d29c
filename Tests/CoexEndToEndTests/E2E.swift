// Golden end-to-end cases: each folder of Cases/ runs its `cmd` with the real built
// executables in a scratch copy of the folder and compares stdout, stderr, the exit code
// and any produced files with the folder's `expected/`. See Cases/README.md; bless.sh
// writes `expected/` from a real run (read what it wrote before committing it).

import CoexTestSupport
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Where the cases and the executables under test are.
enum E2E {
    /// The case folders, copied into the test bundle's resources at build time.
    static var casesDirectory: URL? {
        Bundle.module.url(forResource: "Cases", withExtension: nil)
    }

    static func caseNames() -> [String] {
        guard let dir = casesDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return names.filter { name in
            FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).appendingPathComponent("cmd").path)
        }.sorted()
    }

    /// The directory holding the built executables (`Tools.binDirectory`).
    static func binDirectory() throws -> URL { try Tools.binDirectory() }
}

/// The outcome of running one case's command.
struct Run {
    var stdout: [UInt8]
    var stderr: [UInt8]
    var status: String
    var directory: URL
}

/// Runs `cmd` of a case in a fresh scratch copy of its folder (without `expected/`), exactly as
/// bless.sh does: `bash -o pipefail -c CMD`, stdin /dev/null, the executables first on PATH,
/// TZ=UTC, LC_ALL=C, at most 300 s.
func runCase(_ name: String, in casesDir: URL, bin: URL) async throws -> Run {
    let fm = FileManager.default
    let source = casesDir.appendingPathComponent(name)
    let scratch = fm.temporaryDirectory
        .appendingPathComponent("coex-e2e-\(UUID().uuidString)")
        .appendingPathComponent(name)
    try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
    for item in try fm.contentsOfDirectory(atPath: source.path) where item != "expected" {
        try fm.copyItem(at: source.appendingPathComponent(item), to: scratch.appendingPathComponent(item))
    }
    var cmd = try String(contentsOf: source.appendingPathComponent("cmd"), encoding: .utf8)
    while cmd.hasSuffix("\n") { cmd.removeLast() }

    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let environment = Environment.inherit.updating([
        "PATH": bin.path + ":" + path,
        "TZ": "UTC",
        "LC_ALL": "C",
    ])
    let timeout = "/usr/bin/timeout"
    let useTimeout = fm.isExecutableFile(atPath: timeout)
    let executable: Executable = .path(FilePath(useTimeout ? timeout : "/bin/bash"))
    let arguments: Arguments = useTimeout
        ? ["-k", "10", "300", "/bin/bash", "-o", "pipefail", "-c", cmd]
        : ["-o", "pipefail", "-c", cmd]
    let result = try await Subprocess.run(
        executable, arguments: arguments, environment: environment,
        workingDirectory: FilePath(scratch.path), input: .none,
        output: .bytes(limit: 256 << 20), error: .bytes(limit: 64 << 20))
    let status: String
    switch result.terminationStatus {
    case .exited(let code): status = useTimeout && code == 124 ? "timed out after 300 s" : "\(code)"
    case .signaled(let signal): status = "killed by signal \(signal)"
    }
    return Run(stdout: result.standardOutput, stderr: result.standardError, status: status, directory: scratch)
}

// MARK: - Comparison

/// nil when equal; else where the first difference is, with both sides around it.
func firstDifference(expected: [UInt8], actual: [UInt8]) -> String? {
    if expected == actual { return nil }
    let e = splitLines(expected), a = splitLines(actual)
    var i = 0
    while i < e.count && i < a.count && e[i] == a[i] { i += 1 }
    var text = "expected \(e.count) lines (\(expected.count) bytes), got \(a.count) lines (\(actual.count) bytes); "
    if i >= e.count {
        text += "first extra line \(i + 1):\n  actual:   \(excerpt(a[i], around: 0))"
    } else if i >= a.count {
        text += "first missing line \(i + 1):\n  expected: \(excerpt(e[i], around: 0))"
    } else {
        var col = 0
        while col < e[i].count && col < a[i].count && e[i][col] == a[i][col] { col += 1 }
        text += "first difference at line \(i + 1), byte \(col + 1):\n"
            + "  expected: \(excerpt(e[i], around: col))\n"
            + "  actual:   \(excerpt(a[i], around: col))"
    }
    return text
}

/// Lines with their LF (so a missing last newline is a difference too).
func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var start = 0
    for (i, b) in bytes.enumerated() where b == 0x0A {
        lines.append(Array(bytes[start...i]))
        start = i + 1
    }
    if start < bytes.count { lines.append(Array(bytes[start...])) }
    return lines
}

/// Up to 100 bytes before and 140 after `col`, non-printing bytes escaped.
func excerpt(_ line: [UInt8], around col: Int) -> String {
    let from = max(0, col - 100), to = min(line.count, col + 140)
    var s = from > 0 ? "…" : ""
    for b in line[from..<to] {
        switch b {
        case 0x0A: s += "\\n"
        case 0x0D: s += "\\r"
        case 0x09: s += "\\t"
        case 0x20..<0x7F: s += String(UnicodeScalar(b))
        default: s += String(format: "\\x%02X", b)
        }
    }
    if to < line.count { s += "…" }
    return s
}

/// SHA-256 (FIPS 180-4), for cases whose stdout is too large to keep.
func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var data = message
    let bitLength = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: data.count, by: 64) {
        for i in 0..<16 {
            let j = chunk + 4 * i
            w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}

func readBytes(_ url: URL) -> [UInt8]? {
    (try? Data(contentsOf: url)).map { [UInt8]($0) }
}

// MARK: - Tests

@Suite("coex end to end")
struct EndToEnd {
    @Test("the cases and the built executables are there")
    func setUp() throws {
        let names = E2E.caseNames()
        #expect(names.count >= 20, "found \(names.count) cases in \(E2E.casesDirectory?.path ?? "no Cases resource")")
        let bin = try E2E.binDirectory()
        for tool in ["coex-validate", "coex-normalize", "coex-gen"] {
            #expect(FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(tool).path),
                    "\(tool) is not in \(bin.path)")
        }
    }

    @Test("golden case", arguments: E2E.caseNames())
    func golden(_ name: String) async throws {
        let casesDir = try #require(E2E.casesDirectory, "no Cases resource in the test bundle")
        let bin = try E2E.binDirectory()
        let expected = casesDir.appendingPathComponent(name).appendingPathComponent("expected")
        let run = try await runCase(name, in: casesDir, bin: bin)
        var failures: [String] = []

        let exitText = try String(contentsOf: expected.appendingPathComponent("exit"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if exitText != run.status { failures.append("exit: expected \(exitText), got \(run.status)") }

        if let want = readBytes(expected.appendingPathComponent("stdout")) {
            if let d = firstDifference(expected: want, actual: run.stdout) { failures.append("stdout: \(d)") }
        } else if let hashText = try? String(contentsOf: expected.appendingPathComponent("stdout.sha256"), encoding: .utf8) {
            let want = hashText.trimmingCharacters(in: .whitespacesAndNewlines)
            let got = sha256Hex(run.stdout)
            if want != got {
                failures.append("stdout: sha256 expected \(want), got \(got) (\(run.stdout.count) bytes)")
            }
        } else {
            failures.append("expected/stdout (or expected/stdout.sha256) is missing")
        }

        if let want = readBytes(expected.appendingPathComponent("stderr")) {
            if let d = firstDifference(expected: want, actual: run.stderr) { failures.append("stderr: \(d)") }
        } else {
            failures.append("expected/stderr is missing")
        }

        let filesDir = expected.appendingPathComponent("files")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: filesDir.path))?.sorted() ?? []
        for file in files {
            let want = readBytes(filesDir.appendingPathComponent(file)) ?? []
            guard let got = readBytes(run.directory.appendingPathComponent(file)) else {
                failures.append("file \(file): not produced")
                continue
            }
            if let d = firstDifference(expected: want, actual: got) { failures.append("file \(file): \(d)") }
        }

        if failures.isEmpty {
            try? FileManager.default.removeItem(at: run.directory.deletingLastPathComponent())
        } else {
            let stderrText = String(decoding: run.stderr.prefix(2000), as: UTF8.self)
            Issue.record(Comment(rawValue: """
                case \(name) failed (its scratch copy is kept in \(run.directory.path)):
                \(failures.joined(separator: "\n"))
                --- actual stderr (start) ---
                \(stderrText)
                """))
        }
    }
}

// Property tests of issue 3: the final state of `validate | normalize | dedupe | order | apply`
// must not depend on delivery order. Captures come from coex-gen (several seeds); each is run
// as it is, with its lines shuffled (a seeded PRNG of this file, several seeds), and split into
// three files passed in different orders. Final states are compared as multisets of records
// without their provenance-only members (source, line, arrival, seq). The chat order
// invariants (seq, history message order) are checked on the unshuffled run.

import CoexTestSupport
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// SplitMix64: small, seedable, and the same on every platform and Swift version.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fisher-Yates with this generator only (the standard library's shuffle may change).
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            items.swapAt(i, j)
        }
    }
}

/// A scratch directory with the pipeline's executables at hand.
struct PipelineBench {
    let directory: URL
    let bin: URL

    init() throws {
        bin = try E2E.binDirectory()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("coex-order-independence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func removeAll() { try? FileManager.default.removeItem(at: directory) }

    /// Runs `script` with bash -o pipefail in the scratch directory, `args` as $1.., the
    /// executables first on PATH; returns stdout, failing with stderr on a non-zero exit.
    func bash(_ script: String, _ args: [String] = []) async throws -> [UInt8] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let result = try await Subprocess.run(
            .path(FilePath("/bin/bash")), arguments: Arguments(["-o", "pipefail", "-c", script, "bash"] + args),
            environment: .inherit.updating(["PATH": bin.path + ":" + path, "TZ": "UTC", "LC_ALL": "C"]),
            workingDirectory: FilePath(directory.path), input: .none,
            output: .bytes(limit: 512 << 20), error: .bytes(limit: 16 << 20))
        guard case .exited(0) = result.terminationStatus else {
            throw TestError("`\(script)` \(args) ended with \(result.terminationStatus): "
                + String(decoding: result.standardError.suffix(2000), as: UTF8.self))
        }
        return result.standardOutput
    }

    /// The capture of coex-gen for `seed`, as lines without their newline.
    func capture(seed: Int) async throws -> [[UInt8]] {
        let bytes = try await bash(
            "coex-gen --seed \(seed) --businesses 4 --messages 200 --redeliveries 0.1")
        return bytes.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
    }

    func write(_ lines: ArraySlice<[UInt8]>, to name: String) throws {
        var bytes: [UInt8] = []
        for line in lines {
            bytes.append(contentsOf: line)
            bytes.append(0x0A)
        }
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    /// The final state of the whole pipeline over `files`, in that order. With `spill`,
    /// coex-dedupe and coex-apply run with --memory 1MB and take their spill paths (the
    /// golden case memory-1mb-same-as-default covers coex-order's).
    func finalState(_ files: [String], spill: Bool = false, parse: Bool = false) async throws -> FinalState {
        let m = spill ? " --memory 1MB" : ""
        let out = try await bash(
            "coex-validate \"$@\" 2>/dev/null | coex-normalize 2>/dev/null | coex-dedupe\(m) 2>/dev/null"
                + " | coex-order 2>/dev/null | coex-apply\(m) 2>/dev/null", files)
        return try FinalState(out, parse: parse)
    }
}

/// Output records of coex-apply as a multiset of canonical texts: each record's top-level
/// members other than the provenance-only ones, sorted by key (so that a member order that
/// differs between runs is no difference), joined. Members' values stay byte for byte.
/// `records` holds the parsed records when asked for (the invariants need them).
struct FinalState {
    static let provenance: Set<String> = ["source", "line", "arrival", "seq"]
    var records: [[String: Any]] = []
    var multiset: [String: Int] = [:]
    var count = 0

    init(_ bytes: [UInt8], parse: Bool = false) throws {
        try bytes.withUnsafeBufferPointer { all in
            var start = 0
            for end in 0...all.count where end == all.count || all[end] == 0x0A {
                defer { start = end + 1 }
                guard end > start else { continue }
                let line = UnsafeBufferPointer(rebasing: all[start..<end])
                guard let text = Self.canonical(line) else {
                    throw TestError("coex-apply wrote a line that is not a JSON object: "
                        + String(decoding: line.prefix(300), as: UTF8.self))
                }
                multiset[text, default: 0] += 1
                count += 1
                if parse, let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] {
                    records.append(object)
                }
            }
        }
    }

    /// The line's top-level members without provenance, sorted, as text; nil when the
    /// line is not a compact JSON object.
    static func canonical(_ line: UnsafeBufferPointer<UInt8>) -> String? {
        let n = line.count
        guard n >= 2, line[0] == UInt8(ascii: "{"), line[n - 1] == UInt8(ascii: "}") else { return nil }
        var members: [Range<Int>] = []
        var depth = 0
        var inString = false
        var escaped = false
        var start = 1
        for i in 1..<(n - 1) {
            let b = line[i]
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D: depth -= 1
            case 0x2C where depth == 0:
                members.append(start..<i)
                start = i + 1
            default: break
            }
        }
        if start < n - 1 { members.append(start..<(n - 1)) }
        var kept: [String] = []
        for range in members {
            // "key":value, the key a plain string (coex writes no escapes in member names).
            let member = UnsafeBufferPointer(rebasing: line[range])
            guard member.count > 2, member[0] == 0x22,
                let close = UnsafeBufferPointer(rebasing: member[1...]).firstIndex(of: 0x22)
            else { return nil }
            let key = String(decoding: UnsafeBufferPointer(rebasing: member[1..<(close + 1)]), as: UTF8.self)
            if !provenance.contains(key) { kept.append(String(decoding: member, as: UTF8.self)) }
        }
        return "{" + kept.sorted().joined(separator: ",") + "}"
    }

    /// nil when both hold the same records; else what differs: records of the same identity
    /// (kind, business, wamid, edit wamid, version, status) paired up with the members that
    /// differ, then a few records that have no counterpart at all.
    func difference(from base: FinalState) -> String? {
        if multiset == base.multiset { return nil }
        func missing(_ a: [String: Int], _ b: [String: Int]) -> [String] {
            a.flatMap { key, count in Array(repeating: key, count: max(0, count - (b[key] ?? 0))) }.sorted()
        }
        let onlyBase = missing(base.multiset, multiset)
        let onlyHere = missing(multiset, base.multiset)
        func object(_ text: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        }
        func identity(_ r: [String: Any]) -> String {
            ["kind", "waba_id", "wamid", "edit_wamid", "version", "status", "phase", "chunk_order"]
                .compactMap { key in r[key].map { "\(key)=\($0)" } }.joined(separator: " ")
        }
        func value(_ v: Any?) -> String {
            guard let v else { return "(absent)" }
            let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])
            return String((data.map { String(decoding: $0, as: UTF8.self) } ?? "\(v)").prefix(200))
        }
        var hereByIdentity: [String: [[String: Any]]] = [:]
        for text in onlyHere { let r = object(text); hereByIdentity[identity(r), default: []].append(r) }
        var lines: [String] = []
        var unpairedBase: [String] = []
        for text in onlyBase {
            let r = object(text)
            let id = identity(r)
            guard var candidates = hereByIdentity[id], !candidates.isEmpty else {
                unpairedBase.append(text)
                continue
            }
            let other = candidates.removeFirst()
            hereByIdentity[id] = candidates
            let keys = Set(r.keys).union(other.keys).sorted()
            let differing = keys.filter { value(r[$0]) != value(other[$0]) }
            if lines.count < 6 {
                lines.append("  \(id): " + differing.map { "\($0) \(value(r[$0])) in order, \(value(other[$0])) here" }
                    .joined(separator: "; "))
            }
        }
        let unpairedHere = hereByIdentity.values.flatMap { $0 }
        var text = "\(onlyBase.count) records of the in-order run differ from \(onlyHere.count) of this run"
        if !lines.isEmpty { text += "\n same record, other members:\n" + lines.joined(separator: "\n") }
        if !unpairedBase.isEmpty {
            text += "\n only in the in-order run (\(unpairedBase.count)):\n"
                + unpairedBase.prefix(3).map { "  " + String($0.prefix(600)) }.joined(separator: "\n")
        }
        if !unpairedHere.isEmpty {
            text += "\n only in this run (\(unpairedHere.count)):\n"
                + unpairedHere.prefix(3).map { "  " + value($0) }.joined(separator: "\n")
        }
        return text
    }
}

/// The chat order invariants of one final state; returns the violations found (at most a few).
func chatOrderViolations(_ state: FinalState) -> [String] {
    var violations: [String] = []
    var byBusiness: [String: [[String: Any]]] = [:]
    for r in state.records where r["kind"] as? String == "message" {
        byBusiness[r["waba_id"] as? String ?? "", default: []].append(r)
    }
    func int(_ r: [String: Any], _ key: String) -> Int? { (r[key] as? NSNumber)?.intValue }
    for (waba, unsorted) in byBusiness.sorted(by: { $0.key < $1.key }) {
        // seq numbers the business's messages 1...n.
        let seqs = unsorted.compactMap { int($0, "seq") }.sorted()
        if seqs != Array(1..<(unsorted.count + 1)) {
            violations.append("\(waba): seq is not 1...\(unsorted.count) (\(seqs.count) messages have seq; first \(seqs.prefix(5)))")
        }
        // ORDER BY timestamp, seq keeps each history thread in message order, and equal
        // timestamps of one chunk in (thread, message) order.
        let chat = unsorted.sorted {
            (int($0, "timestamp") ?? 0, int($0, "seq") ?? 0) < (int($1, "timestamp") ?? 0, int($1, "seq") ?? 0)
        }
        var lastInThread: [String: Int] = [:]
        var previous: [String: Any]?
        for m in chat {
            defer { previous = m }
            guard m["origin"] as? String == "history", let phase = int(m, "phase"), let chunk = int(m, "chunk_order"),
                let thread = int(m, "thread_index"), let index = int(m, "message_index")
            else { continue }
            let phone = m["phone_number_id"] as? String ?? ""
            let threadKey = "\(phone)/\(phase)/\(chunk)/\(thread)"
            if let last = lastInThread[threadKey], last >= index {
                violations.append("\(waba): in chat order, message \(index) of thread \(threadKey) comes after message \(last) (\(m["wamid"] ?? ""))")
            }
            lastInThread[threadKey] = index
            if let p = previous, p["origin"] as? String == "history", int(p, "timestamp") == int(m, "timestamp"),
                p["phone_number_id"] as? String == phone, int(p, "phase") == phase, int(p, "chunk_order") == chunk,
                let pt = int(p, "thread_index"), let pi = int(p, "message_index"), (pt, pi) >= (thread, index)
            {
                violations.append("\(waba): equal timestamps in chunk \(phone)/\(phase)/\(chunk): (\(pt), \(pi)) before (\(thread), \(index))")
            }
        }
        if violations.count > 8 { break }
    }
    return Array(violations.prefix(8))
}

@Suite("final state does not depend on delivery order")
struct OrderIndependence {
    static let captureSeeds = [7, 8, 9]

    @Test("shuffled lines and nightly parts in any order give one final state", arguments: captureSeeds)
    func sameFinalState(seed: Int) async throws {
        let bench = try PipelineBench()
        let lines = try await bench.capture(seed: seed)
        #expect(lines.count > 500, "coex-gen --seed \(seed) wrote \(lines.count) lines")
        try bench.write(lines[...], to: "capture.ndjson")
        let base = try await bench.finalState(["capture.ndjson"], parse: true)
        #expect(base.count > 500)
        var failed = false

        // The chat order invariants, on the in-order run.
        let violations = chatOrderViolations(base)
        if !violations.isEmpty {
            Issue.record("seed \(seed): chat order:\n\(violations.joined(separator: "\n"))")
            failed = true
        }

        // Every line in a shuffled order (one of them through the spill paths of dedupe and apply).
        for shuffleSeed in [1, 2, 3] as [UInt64] {
            var shuffled = lines
            var rng = SplitMix64(seed: shuffleSeed &* 0x1000 &+ UInt64(seed))
            rng.shuffle(&shuffled)
            let name = "shuffled-\(shuffleSeed).ndjson"
            try bench.write(shuffled[...], to: name)
            let state = try await bench.finalState([name], spill: shuffleSeed == 3)
            if let diff = state.difference(from: base) {
                Issue.record("seed \(seed), shuffle \(shuffleSeed)\(shuffleSeed == 3 ? " (dedupe and apply with --memory 1MB)" : ""): \(diff)")
                failed = true
            }
        }

        // Three parts by lines, as three input files in different orders.
        let n = lines.count
        let cuts = [0, n / 3, 2 * n / 3, n]
        for part in 0..<3 { try bench.write(lines[cuts[part]..<cuts[part + 1]], to: "part-\(part).ndjson") }
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let state = try await bench.finalState(order.map { "part-\($0).ndjson" })
            if let diff = state.difference(from: base) {
                Issue.record("seed \(seed), parts in order \(order): \(diff)")
                failed = true
            }
        }

        // Keep the files of a failure for a closer look.
        if failed {
            Issue.record("seed \(seed): the inputs are kept in \(bench.directory.path)")
        } else {
            bench.removeAll()
        }
    }
}

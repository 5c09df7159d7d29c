// The commands README.md and docs/*.md show, with the output they show: a `sh` block whose
// lines start with "$ " is a terminal session, and the lines after a command, up to the next
// "$ " or the end of the block, are what it prints (stdout and stderr as a terminal shows
// them). A line "..." stands for any number of lines; times of the run are masked.

import CoexTestSupport
import Foundation

struct DocExample: Sendable, CustomStringConvertible {
    var document: String
    /// 1-based line of the "$ " in the document.
    var line: Int
    var command: String
    var expected: [String]

    var description: String { "\(document):\(line): $ \(command)" }
}

enum DocExamples {
    /// The documents whose sessions are run, relative to the repository.
    static let documents = ["README.md", "docs/records.md", "docs/schema.md", "docs/export.md", "docs/report.md"]

    static func parse(_ text: String, document: String) -> [DocExample] {
        var examples: [DocExample] = []
        var inSession = false
        var inBlock = false
        var continuing = false
        // Output lines belong to a command of the same block only.
        var blockHasCommand = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("```") {
                if inBlock {
                    inBlock = false
                    inSession = false
                } else {
                    inBlock = true
                    inSession = line == "```sh"
                    blockHasCommand = false
                }
                continue
            }
            guard inBlock && inSession else { continue }
            if continuing, var last = examples.popLast() {
                last.command += "\n" + line
                continuing = line.hasSuffix("\\")
                examples.append(last)
            } else if line.hasPrefix("$ ") {
                examples.append(DocExample(document: document, line: index + 1, command: String(line.dropFirst(2)),
                                           expected: []))
                continuing = line.hasSuffix("\\")
                blockHasCommand = true
            } else if blockHasCommand {
                examples[examples.count - 1].expected.append(line)
            }
        }
        return examples
    }

    /// What differs between the output shown and the output printed, after masking; nil
    /// when they agree.
    static func difference(expected: [String], actual: [String]) -> String? {
        let e = expected.map(mask), a = actual.map(mask)
        if matches(e[...], a[...]) { return nil }
        return "shown:\n" + expected.map { "  | " + $0 }.joined(separator: "\n")
            + "\nprinted:\n" + actual.map { "  | " + $0 }.joined(separator: "\n")
    }

    /// "..." matches any run of lines (shortest first).
    private static func matches(_ e: ArraySlice<String>, _ a: ArraySlice<String>) -> Bool {
        guard let first = e.first else { return a.isEmpty }
        if first == "..." {
            var rest = a
            while true {
                if matches(e.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let line = a.first, line == first else { return false }
        return matches(e.dropFirst(), a.dropFirst())
    }

    /// What changes from run to run: the time of an import, how long a run took, its speed.
    static func mask(_ line: String) -> String {
        var s = line
        for (pattern, replacement) in masks {
            s = pattern.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: replacement)
        }
        return s
    }

    private nonisolated(unsafe) static let masks: [(NSRegularExpression, String)] = [
        (#"last \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+\)"#, "last TIME"),
        (#"read in [0-9.]+ s \([^)]*\)"#, "read in TIME"),
        // An archive holds the imports table, whose times compress differently each run.
        (#"(\d+) files, \d+ bytes"#, "$1 files, N bytes"),
        (#""(time|imported_at)(_iso)?":("[^"]*"|\d+)"#, "\"$1$2\":TIME"),
    ].map { (try! NSRegularExpression(pattern: $0.0), $0.1) }

    /// Runs the examples of one document in order, in one shell, in a scratch copy of the
    /// repository's samples and pipelines, with `.build/release` pointing at `bin`. Each
    /// command's stdout and stderr go to one file, as on a terminal.
    static func run(_ examples: [DocExample], bin: URL, in scratch: TempDir) throws -> [[String]] {
        let fm = FileManager.default
        for folder in ["samples", "pipelines", "bench"] {
            try fm.copyItem(at: Tools.repository.appendingPathComponent(folder), to: scratch.url.appendingPathComponent(folder))
        }
        try fm.createDirectory(at: scratch.url.appendingPathComponent(".build"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: scratch.url.appendingPathComponent(".build/release"), withDestinationURL: bin)
        let outputs = try TempDir("coex-doc-outputs")
        var script = "cd \(Tools.quote(scratch.path))\n"
        for (i, example) in examples.enumerated() {
            script += "{\n\(example.command)\n} > \(Tools.quote(outputs.file("\(i)"))) 2>&1 < /dev/null\n"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["TZ"] = "UTC"
        env["LC_ALL"] = "C"
        process.environment = env
        try process.run()
        process.waitUntilExit()
        return try examples.indices.map { i in
            let text = try String(contentsOfFile: outputs.file("\(i)"), encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            return lines
        }
    }
}

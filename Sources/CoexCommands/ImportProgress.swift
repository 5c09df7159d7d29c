import CoexCLI
import CoexEngine
import CoexIO
import Foundation

/// The progress line of `coex import` on a terminal: how much of the captures the first
/// stage has read (with the time left to read them, when their size is known), webhooks
/// per second, and how many lines each later stage has taken in, so that the run shows
/// where it is after the reading ends (the later stages finish their work after it).
final class ImportProgress: @unchecked Sendable {
    private let totalBytes: Int?
    private let names: [String]
    private let lock = NSLock()
    private var sources: [ReadProgress?]
    private var timer: DispatchSourceTimer?
    private let queue = DispatchQueue(label: "coex-import.progress")
    private let started = Date()
    /// When the first stage last read a line: its rate stops falling once it is done.
    private var lastLines = 0
    private var lastRead = Date()
    private let errors = OutputSink.standardError()
    /// Whether the line is drawn at all: only on a terminal.
    let isShown: Bool

    /// What the counts of the later stages are: "lines in" for stages, or e.g.
    /// "businesses loaded" for one unnamed count.
    private let countLabel: String

    init(totalBytes: Int?, stages: [String], countLabel: String = "lines in") {
        self.totalBytes = totalBytes
        self.countLabel = countLabel
        names = stages.map { $0.hasPrefix("coex-") ? String($0.dropFirst(5)) : $0 }
        sources = Array(repeating: nil, count: stages.count)
        isShown = OutputSink.standardError().isTerminal
    }

    /// A stage's counters, handed over when the stage starts.
    func watch(_ progress: ReadProgress, stage: Int) {
        lock.withLock { sources[stage] = progress }
    }

    var bytesRead: Int { lock.withLock { sources.first??.bytes ?? 0 } }

    func start() {
        guard isShown else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [self] in draw() }
        timer.resume()
        self.timer = timer
    }

    func stop() {
        guard let timer else { return }
        // On the timer's queue: a line being drawn is finished before the line is erased.
        queue.sync { timer.cancel() }
        self.timer = nil
        try? errors.write("\r\u{1B}[K")
    }

    private func draw() {
        let sources = lock.withLock { self.sources }
        guard let first = sources.first ?? nil else { return }
        let lines = first.lines
        if lines != lastLines {
            lastLines = lines
            lastRead = Date()
        }
        try? errors.write("\r\u{1B}[K" + Self.line(bytes: first.bytes, lines: lines, totalBytes: totalBytes,
                                                  seconds: lastRead.timeIntervalSince(started),
                                                  stages: zip(names, sources).dropFirst().map { ($0, $1?.lines ?? 0) },
                                                  countLabel: countLabel))
    }

    /// "coex import: 110.6 MB of 200.0 MB (55%), 95,660 webhooks/s, reading done in about 0:02;
    /// lines in: dedupe 331,120, order 0, apply 0, load 0"
    static func line(bytes: Int, lines: Int, totalBytes: Int?, seconds: Double, stages: [(String, Int)],
                     countLabel: String = "lines in") -> String {
        let seconds = max(seconds, 0.001)
        var line = "coex import: \(megabytes(bytes))"
        if let totalBytes, totalBytes > 0 {
            line += " of \(megabytes(totalBytes)) (\(min(100, bytes * 100 / totalBytes))%)"
        }
        line += ", \(Int(Double(lines) / seconds).formatted()) webhooks/s"
        if let totalBytes, bytes > 0, bytes < totalBytes {
            let left = Int(Double(totalBytes - bytes) / (Double(bytes) / seconds))
            line += ", reading done in about \(left / 60):\(String(format: "%02d", left % 60))"
        }
        if !stages.isEmpty {
            line += "; \(countLabel): " + stages.map { $0.0.isEmpty ? $0.1.formatted() : "\($0.0) \($0.1.formatted())" }
                .joined(separator: ", ")
        }
        return line
    }

    /// The size of the captures when every one is a plain file (decompressed sizes of
    /// .zst inputs and stdin are not known up front).
    static func totalBytes(of captures: [String]) -> Int? {
        var total = 0
        for path in captures {
            guard path != "-", !path.hasSuffix(".zst"), !path.hasSuffix(".zstd"),
                let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            else { return nil }
            total += size
        }
        return total
    }

    /// "43.3 KB", "200.0 MB", "1.2 GB".
    static func megabytes(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1e9, "GB"), (1e6, "MB"), (1e3, "KB")]
        for (size, unit) in units where Double(bytes) >= size {
            return String(format: "%.1f %@", Double(bytes) / size, unit)
        }
        return "\(bytes) bytes"
    }
}

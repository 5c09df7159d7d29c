import CoexCLI
import CoexIO
import Foundation

/// The progress line of `coex import` on a terminal: bytes read by the first stage,
/// webhooks per second and the time left (when the inputs' size is known).
final class ImportProgress: @unchecked Sendable {
    private let totalBytes: Int?
    private let lock = NSLock()
    private var source: ReadProgress?
    private var timer: DispatchSourceTimer?
    private let started = Date()
    private let errors = OutputSink.standardError()

    init(totalBytes: Int?) {
        self.totalBytes = totalBytes
    }

    /// The first stage's counters, handed over when that stage starts.
    func watch(_ progress: ReadProgress) {
        lock.withLock { source = progress }
    }

    var bytesRead: Int { lock.withLock { source?.bytes ?? 0 } }

    func start() {
        guard errors.isTerminal else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "coex-import.progress"))
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [self] in draw() }
        timer.resume()
        self.timer = timer
    }

    func stop() {
        guard let timer else { return }
        timer.cancel()
        self.timer = nil
        try? errors.write("\r\u{1B}[K")
    }

    private func draw() {
        guard let source = lock.withLock({ source }) else { return }
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        let bytes = source.bytes
        var line = "coex import: \(Self.megabytes(bytes))"
        if let totalBytes, totalBytes > 0 {
            line += " of \(Self.megabytes(totalBytes)) (\(min(100, bytes * 100 / totalBytes))%)"
        }
        line += ", \(Int(Double(source.lines) / seconds)) webhooks/s"
        if let totalBytes, bytes > 0, bytes < totalBytes {
            let left = Int(Double(totalBytes - bytes) / (Double(bytes) / seconds))
            line += ", about \(left / 60):\(String(format: "%02d", left % 60)) left"
        }
        try? errors.write("\r\u{1B}[K" + line)
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

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}

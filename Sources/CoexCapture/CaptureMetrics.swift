import CoexJSON
import Prometheus
import Synchronization

/// Counts since start, as Prometheus text (`GET /metrics`) and a small JSON (`GET /healthz`).
public final class CaptureMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let startedAt = ContinuousClock.now

    /// Why a request was not stored; the `reason` label of `coex_capture_rejected_total`.
    public enum Reason: String, CaseIterable, Sendable {
        case missingSignature = "missing_signature"
        case badSignature = "bad_signature"
        case tooLarge = "too_large"
        case slowClient = "slow_client"
        case incompleteBody = "incomplete_body"
        case verifyRefused = "verify_refused"
        case method = "method_not_allowed"
        case storageFailed = "storage_failed"
        case overloaded = "overloaded"
        case stopping = "stopping"
    }

    let accepted: Counter
    let acceptedBytes: Counter
    let verified: Counter
    private let rejected: [Reason: Counter]
    let commits: Counter
    let fsyncSeconds: DurationHistogram
    let commitSize: ValueHistogram
    let filesOpened: Counter
    let filesFinished: Counter
    let finishFailures: Counter
    private let unfinishedFiles: Gauge
    private let unfinishedCount = Atomic<Int>(0)

    private let acceptedCount = Atomic<Int>(0)
    private let bytesCount = Atomic<Int>(0)
    private let rejectedCounts: [Reason: Tally]
    private let commitCount = Atomic<Int>(0)
    private let fsyncNanos = Atomic<Int>(0)
    private let fsyncMaxNanos = Atomic<Int>(0)

    public init() {
        accepted = registry.makeCounter(descriptor: metric("accepted_total", "Deliveries stored and acknowledged with 200."))
        acceptedBytes = registry.makeCounter(descriptor: metric("accepted_bytes_total", "Body bytes of the accepted deliveries."))
        verified = registry.makeCounter(descriptor: metric("verify_handshakes_total", "Subscription handshakes answered with the challenge."))
        var counters: [Reason: Counter] = [:]
        var counts: [Reason: Tally] = [:]
        for reason in Reason.allCases {
            counters[reason] = registry.makeCounter(descriptor: metric("rejected_total", "Requests answered with an error, by reason; none of them is stored."), labels: [("reason", reason.rawValue)])
            counts[reason] = Tally()
        }
        rejected = counters
        rejectedCounts = counts
        commits = registry.makeCounter(descriptor: metric("commits_total", "Group commits (one fsync of each file for all the deliveries of a commit)."))
        fsyncSeconds = registry.makeDurationHistogram(
            descriptor: metric("fsync_seconds", "Time to make one commit durable (write and fdatasync of the capture and its signature file)."),
            buckets: [.microseconds(250), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        commitSize = registry.makeValueHistogram(descriptor: metric("commit_deliveries", "Deliveries per group commit."),
                                                 buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
        filesOpened = registry.makeCounter(descriptor: metric("files_opened_total", "Capture files started."))
        filesFinished = registry.makeCounter(descriptor: metric("files_finished_total", "Capture files compressed to .zst."))
        finishFailures = registry.makeCounter(descriptor: metric("finish_failures_total", "Failed attempts to compress a finished capture file (it stays plain and is tried again)."))
        unfinishedFiles = registry.makeGauge(descriptor: metric("unfinished_files", "Finished capture files still plain because their compression failed: not yet in *.ndjson.zst."))
    }

    /// Captures left plain because their compression failed (0 when all is well).
    func setUnfinished(_ count: Int) {
        unfinishedFiles.set(Int64(count))
        unfinishedCount.store(count, ordering: .relaxed)
    }

    func accept(bytes: Int) {
        accepted.increment()
        acceptedBytes.increment(by: Int64(bytes))
        acceptedCount.add(1, ordering: .relaxed)
        bytesCount.add(bytes, ordering: .relaxed)
    }

    func reject(_ reason: Reason) {
        rejected[reason]?.increment()
        rejectedCounts[reason]?.value.add(1, ordering: .relaxed)
    }

    func commit(deliveries: Int, took: Duration) {
        commits.increment()
        commitSize.record(Double(deliveries))
        fsyncSeconds.record(took)
        let nanos = Int(took.components.seconds) * 1_000_000_000 + Int(took.components.attoseconds / 1_000_000_000)
        commitCount.add(1, ordering: .relaxed)
        fsyncNanos.add(nanos, ordering: .relaxed)
        var seen = fsyncMaxNanos.load(ordering: .relaxed)
        while nanos > seen {
            let (exchanged, original) = fsyncMaxNanos.compareExchange(expected: seen, desired: nanos, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    /// `GET /healthz`:
    /// `{"status":"ok","uptime_seconds":…,"accepted":…,"bytes":…,"rejected":{"bad_signature":…,…},
    ///   "commits":…,"fsync_ms_mean":…,"fsync_ms_max":…,"unfinished_files":…,"current_file":"capture-….ndjson"}`
    func health(status: String, currentFile: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.key("status"); w.string(status)
        let up = startedAt.duration(to: .now).components
        w.key("uptime_seconds"); w.int(Int(up.seconds))
        w.key("accepted"); w.int(acceptedCount.load(ordering: .relaxed))
        w.key("bytes"); w.int(bytesCount.load(ordering: .relaxed))
        w.key("rejected")
        w.beginObject()
        for reason in Reason.allCases {
            w.key(reason.rawValue); w.int(rejectedCounts[reason]?.value.load(ordering: .relaxed) ?? 0)
        }
        w.endObject()
        let commits = commitCount.load(ordering: .relaxed)
        w.key("commits"); w.int(commits)
        w.key("fsync_ms_mean"); w.double(commits == 0 ? 0 : Double(fsyncNanos.load(ordering: .relaxed)) / Double(commits) / 1e6)
        w.key("fsync_ms_max"); w.double(Double(fsyncMaxNanos.load(ordering: .relaxed)) / 1e6)
        w.key("unfinished_files"); w.int(unfinishedCount.load(ordering: .relaxed))
        w.key("current_file")
        if let currentFile { w.string(currentFile) } else { w.null() }
        w.endObject()
        w.newline()
        return w.bytes
    }
}

/// `coex_capture_NAME`, with its help line.
private func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "coex", subsystem: "capture", metricName: name, unitName: "", helpText: help)
}

/// A shareable atomic count (an `Atomic` itself cannot be stored in a dictionary).
final class Tally: Sendable {
    let value = Atomic<Int>(0)
}

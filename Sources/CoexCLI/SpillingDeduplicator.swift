import CoexIO
import CoexJSON
import CoexKit

/// A Deduplicator that keeps to a memory budget: past it, the held state and
/// every later record are split by key into partition files, each deduplicated
/// on its own at the end (all sightings of a key land in one partition).
public final class SpillingDeduplicator {
    public static let partitionCount = 64

    private var dedupe = Deduplicator()
    private let budget: Int
    private let temporaryDirectory: String
    private var spill: SpillDirectory?
    private var partitions: [OutputSink] = []
    private var nextArrival = 0
    private var line: [UInt8] = []
    public private(set) var counts = DedupeCounts()
    /// Lines of copies that could not be merged because they are not records.
    public var unreadable: [[UInt8]] = []
    public var spilled: Bool { spill != nil }

    public init(budget: Int, temporaryDirectory: String) {
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    public func process(
        _ bytes: UnsafeRawBufferPointer, key: DedupeKey, hasArrival: Bool, into out: inout [UInt8]
    ) throws(IOError) {
        let arrival = nextArrival
        nextArrival += 1
        if spill == nil {
            dedupe.process(bytes, key: key, hasArrival: hasArrival, arrival: arrival, into: &out)
            unreadable.append(contentsOf: dedupe.takeUnreadable())
            // Half the budget: growing a table or arena briefly needs the old and the new copy.
            if dedupe.approximateBytes > budget / 2 { try startSpilling() }
        } else {
            counts.recordsIn += 1
            line.removeAll(keepingCapacity: true)
            Deduplicator.append(bytes, arrival: hasArrival ? nil : arrival, to: &line)
            line.append(0x0A)
            try partition(key.digest).write(line)
        }
    }

    /// Writes the held records (and, after a spill, every partition's result) through `emit`.
    public func finish(_ emit: ([UInt8]) throws(IOError) -> Void) throws(IOError) {
        var out: [UInt8] = []
        guard let spill else {
            try Self.finish(&dedupe, into: &out, emit)
            counts.add(dedupe.counts)
            return
        }
        for sink in partitions { try sink.flush() }
        partitions.removeAll()
        let parser = JSONParser()
        var scratch = JSONWriter(capacity: 1024)
        for index in 0..<Self.partitionCount {
            var part = Deduplicator()
            let lines = LineReader(source: try FileSource(path: spill.file("part-\(index)")))
            while let line = try lines.next() {
                if line.bytes.first == UInt8(ascii: "#") {
                    let text = String(decoding: line.bytes.dropFirst(), as: UTF8.self)
                    if let digest = Digest128(text: Substring(text)) { part.markSeen(digest) }
                    continue
                }
                guard let value = try? parser.parse(line.bytes, padded: true), let view = RecordView(value) else { continue }
                let key = view.dedupeKey(scratch: &scratch)
                part.process(line.bytes, key: key, hasArrival: true, arrival: value["arrival"]?.int64.map(Int.init) ?? 0,
                             into: &out)
                unreadable.append(contentsOf: part.takeUnreadable())
                if out.count >= 1 << 20 {
                    try emit(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
            try Self.finish(&part, into: &out, emit)
            // Records routed here were counted in when they were routed.
            counts.recordsOut += part.counts.recordsOut
            counts.duplicates += part.counts.duplicates
            counts.merged += part.counts.merged
            counts.unreadable += part.counts.unreadable
        }
    }

    /// Drains a deduplicator's held lines through `emit` in blocks of about 1 MB.
    static func finish(
        _ dedupe: inout Deduplicator, into out: inout [UInt8], _ emit: ([UInt8]) throws(IOError) -> Void
    ) throws(IOError) {
        var failure: IOError?
        dedupe.finish { line in
            guard failure == nil else { return }
            out.append(contentsOf: line)
            if out.count >= 1 << 20 {
                do throws(IOError) { try emit(out) } catch { failure = error }
                out.removeAll(keepingCapacity: true)
            }
        }
        if let failure { throw failure }
        try emit(out)
        out.removeAll(keepingCapacity: true)
    }

    private func partition(_ digest: Digest128) -> OutputSink {
        partitions[Int(digest.high % UInt64(Self.partitionCount))]
    }

    private func startSpilling() throws(IOError) {
        let directory = try SpillDirectory(in: temporaryDirectory, prefix: "coex-dedupe")
        spill = directory
        for index in 0..<Self.partitionCount {
            // The partitions' buffers together take at most a quarter of the budget.
            let buffer = min(1 << 20, budget / (4 * Self.partitionCount))
            partitions.append(try OutputSink.creating(directory.file("part-\(index)"), bufferSize: buffer))
        }
        for digest in dedupe.seenDigests {
            try partition(digest).write("#\(digest.text)\n")
        }
        // The held lines go to their partitions; they were counted in already.
        let parser = JSONParser()
        var scratch = JSONWriter(capacity: 1024)
        var failure: IOError?
        dedupe.takeHeld { bytes in
            guard failure == nil, let value = try? parser.parse(bytes), let view = RecordView(value) else { return }
            let key = view.dedupeKey(scratch: &scratch)
            var line = Array(bytes)
            line.append(0x0A)
            do { try partition(key.digest).write(line) } catch let error as IOError { failure = error } catch {}
        }
        if let failure { throw failure }
        counts.add(dedupe.counts)
        dedupe = Deduplicator()
    }
}

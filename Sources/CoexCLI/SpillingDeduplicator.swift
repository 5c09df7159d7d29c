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
    private var writer = JSONWriter(capacity: 4096)
    public private(set) var counts = DedupeCounts()
    public private(set) var spilled = false

    public init(budget: Int, temporaryDirectory: String) {
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    public func process(_ record: Record, into out: inout [Record]) throws(IOError) {
        var record = record
        record.arrival = nextArrival
        nextArrival += 1
        if spill == nil {
            dedupe.process(record, into: &out)
            if dedupe.approximateBytes > budget { try startSpilling() }
        } else {
            counts.recordsIn += 1
            try route(record)
        }
    }

    public func finish(into out: inout [Record], emit: ([Record]) throws(IOError) -> Void) throws(IOError) {
        guard let spill else {
            dedupe.finish(into: &out)
            counts.add(dedupe.counts)
            return
        }
        for sink in partitions { try sink.flush() }
        partitions.removeAll()
        // Records routed to partitions were counted in when routed; each partition
        // counts what it lets out, drops and merges.
        for index in 0..<Self.partitionCount {
            var part = Deduplicator()
            var reader = RecordReader(stage: "coex-dedupe")
            var rejects: [Reject] = []
            let lines = LineReader(source: try FileSource(path: spill.file("part-\(index)")))
            while let line = try lines.next() {
                if line.bytes.first == UInt8(ascii: "#") {
                    if let digest = Self.parseMarker(line.bytes) { part.markSeen(digest) }
                    continue
                }
                guard let record = reader.read(line.bytes, padded: true, provenance: Provenance(source: "spill", line: line.number), rejects: &rejects) else { continue }
                part.process(record, into: &out)
                if out.count >= 4096 {
                    try emit(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
            part.finish(into: &out)
            try emit(out)
            out.removeAll(keepingCapacity: true)
            counts.recordsOut += part.counts.recordsOut
            counts.duplicates += part.counts.duplicates
            counts.merged += part.counts.merged
        }
    }

    private func startSpilling() throws(IOError) {
        let directory = try SpillDirectory(in: temporaryDirectory, prefix: "coex-dedupe")
        spill = directory
        spilled = true
        for index in 0..<Self.partitionCount {
            partitions.append(try OutputSink.creating(directory.file("part-\(index)")))
        }
        for digest in dedupe.seenDigests {
            let marker = "#\(String(digest.high, radix: 16)) \(String(digest.low, radix: 16))\n"
            try partitions[Int(digest.high % UInt64(Self.partitionCount))].write(marker)
        }
        // The held records go to their partitions; they were counted in already.
        for record in dedupe.takeHeld() { try route(record) }
        counts.add(dedupe.counts)
        dedupe = Deduplicator()
    }

    private func route(_ record: Record) throws(IOError) {
        let key = DedupeKey.of(record)
        writer.reset()
        record.write(to: &writer)
        writer.newline()
        try partitions[Int(key.stableHash % UInt64(Self.partitionCount))].write(writer.bytes)
    }

    static func parseMarker(_ bytes: UnsafeRawBufferPointer) -> Digest128? {
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let parts = text.split(separator: " ")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else {
            return nil
        }
        return Digest128(high: high, low: low)
    }
}

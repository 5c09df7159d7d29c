import CoexIO
import CoexJSON
import CoexKit

/// coex-dedupe: drops exact redeliveries and merges the sightings of each wamid (see
/// `MessageMerge`). Facts other than messages, edits, revokes and statuses pass on at
/// their first sighting; those four are held to the end, because a later sighting can
/// change which is kept, then emitted in the order of their first sighting. Every record
/// out carries `arrival`, the input position of its first sighting (kept when it has one).
///
/// Past its budget the held state and every later record go, by key, to partition files
/// (all sightings of a key land in one), each deduplicated on its own at the end.
public final class DedupeStage: RecordStage {
    public static let name = StageName.dedupe
    static let partitionCount = 64

    private var core: DedupeCore
    private let settings: SpillSettings
    private var partitions: [OutputSink] = []
    private var spill: SpillDirectory?
    private var nextArrival = 0
    private var scratch = JSONWriter(capacity: 1024)
    private var frame: [UInt8] = []
    public private(set) var counts = DedupeCounts()
    public var spilled: Bool { spill != nil || absorbedSpill }
    private var claim: MemoryClaim
    private var absorbedSpill = false

    public init(_ settings: SpillSettings) {
        self.settings = settings
        core = DedupeCore()
        claim = MemoryClaim(settings)
    }

    deinit { claim.release() }

    public func take(_ record: Record, _ out: RecordOutlet) throws(IOError) {
        let position = nextArrival
        nextArrival += 1
        var record = record
        if record.arrival == nil { record.arrival = position }
        let key = Self.key(of: record, scratch: &scratch)
        guard spill == nil else {
            counts.recordsIn += 1
            try write(record: record, key: key, position: position)
            return
        }
        try core.take(record, key: key, position: position, out)
        // Half as much again: growing a table or arena briefly needs the old and the new copy.
        if !claim.cover(core.approximateBytes * 3 / 2) {
            try startSpilling()
            claim.release()
        }
    }

    public func finish(_ out: RecordOutlet) throws(IOError) {
        guard let spill else {
            try core.finish(out)
            counts.add(core.counts)
            core = DedupeCore()
            claim.release()
            return
        }
        for sink in partitions { try sink.flush() }
        partitions.removeAll()
        for index in 0..<Self.partitionCount {
            var part = DedupeCore()
            let reader = BufferedReader(source: try FileSource(path: spill.file("part-\(index)")))
            var header: [UInt8] = []
            var body: [UInt8] = []
            while try reader.read(29, into: &header) {
                let digest = Digest128(high: Self.u64(header, 1), low: Self.u64(header, 9))
                if header[0] == 0 {
                    part.markSeen(digest)
                } else {
                    let length = Int(Self.u64(header, 17) & 0xFFFF_FFFF)
                    let position = Int(Self.u32(header, 25))
                    guard try reader.read(length, into: &body),
                        let record = body.withUnsafeBytes({ RecordCodec.decode($0) })
                    else { throw .damagedSpill(spill.file("part-\(index)")) }
                    try part.take(record, key: DedupeKey(held: header[0] == 2, digest: digest), position: position, out)
                }
                header.removeAll(keepingCapacity: true)
                body.removeAll(keepingCapacity: true)
            }
            try part.finish(out)
            // Records routed here were counted in when they were routed.
            counts.recordsOut += part.counts.recordsOut
            counts.duplicates += part.counts.duplicates
            counts.merged += part.counts.merged
        }
    }

    /// Adds another instance's counts (a stage run on another share of the businesses).
    public func absorb(_ other: DedupeStage) {
        counts.add(other.counts)
        absorbedSpill = absorbedSpill || other.spilled
    }

    public func summary(_ input: InputCounts) -> [String] {
        var line = "\(plural(input.lines, "line")) read: \(counts.recordsIn) records in, \(counts.recordsOut) out, "
            + "\(counts.duplicates) duplicates dropped, \(counts.merged) merged; \(input.rejected) rejected, \(input.blank) blank"
        if spilled { line += "; spilled to disk past \(settings.label)" }
        return [line]
    }

    /// The dedupe identity: messages by (business, wamid), edits and revokes by
    /// (kind, business, wamid), statuses by (business, wamid, status), anything else by
    /// the digest of what it says (every member but source, line, arrival and seq).
    public static func key(of r: Record, scratch w: inout JSONWriter) -> DedupeKey {
        switch r.kind {
        case .message, .edit, .revoke, .status:
            guard let wamid = r.wamid, !wamid.isEmpty, r.kind != .status || r.status != nil else { break }
            w.reset()
            w.bytes.append(UInt8(r.kind.ordinal))
            w.bytes.append(0)
            w.bytes.append(contentsOf: r.wabaID.utf8)
            w.bytes.append(0)
            w.bytes.append(contentsOf: wamid.utf8)
            if r.kind == .status, let status = r.status {
                w.bytes.append(0)
                w.bytes.append(contentsOf: status.utf8)
            }
            return DedupeKey(held: true, digest: Digest128(bytes: w.bytes))
        default:
            break
        }
        w.reset()
        r.write(to: &w, includeProvenance: false)
        return DedupeKey(held: false, digest: Digest128(bytes: w.bytes))
    }

    // MARK: spilling

    /// Frames: tag (0 seen digest, 1 record passed at first sighting, 2 held record),
    /// digest, record length, position, record.
    private func write(record: Record, key: DedupeKey, position: Int) throws(IOError) {
        frame.removeAll(keepingCapacity: true)
        frame.append(key.held ? 2 : 1)
        Self.append(key.digest.high, &frame)
        Self.append(key.digest.low, &frame)
        let lengthAt = frame.count
        Self.append(0, &frame)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: position).littleEndian) { frame.append(contentsOf: $0) }
        let start = frame.count
        RecordCodec.encode(record, into: &frame)
        withUnsafeBytes(of: UInt64(frame.count - start).littleEndian) { for i in 0..<8 { frame[lengthAt + i] = $0[i] } }
        try partition(key.digest).write(frame)
    }

    private func partition(_ digest: Digest128) -> OutputSink {
        partitions[Int(digest.high % UInt64(Self.partitionCount))]
    }

    private func startSpilling() throws(IOError) {
        let directory = try SpillDirectory(in: settings.temporaryDirectory, prefix: Self.name.command)
        spill = directory
        // The partitions' buffers together take at most a quarter of the budget.
        let buffer = max(4096, min(1 << 20, settings.budget / (4 * Self.partitionCount)))
        for index in 0..<Self.partitionCount {
            partitions.append(try OutputSink.creating(directory.file("part-\(index)"), bufferSize: buffer))
        }
        for digest in core.seenDigests {
            frame.removeAll(keepingCapacity: true)
            frame.append(0)
            Self.append(digest.high, &frame)
            Self.append(digest.low, &frame)
            Self.append(0, &frame)
            frame.append(contentsOf: [0, 0, 0, 0])
            try partition(digest).write(frame)
        }
        // The held records go to their partitions, one at a time; they were counted in already.
        try core.takeHeld { record, digest, position throws(IOError) in
            try write(record: record, key: DedupeKey(held: true, digest: digest), position: position)
        }
        counts.add(core.counts)
        core = DedupeCore()
    }

    private static func append(_ value: UInt64, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }

    private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in (0..<4).reversed() { v = v << 8 | UInt32(bytes[at + i]) }
        return v
    }
}

/// The deduplication state that fits in memory: digests of facts passed on, and the
/// held records (encoded, in an arena) with the position of their first sighting.
struct DedupeCore {
    struct Held {
        var position: Int
        var digest: Digest128
        var slot: ByteArena.Slot
    }

    private(set) var counts = DedupeCounts()
    private var seen: Set<Digest128> = []
    private var held: [Digest128: Int] = [:]
    private var entries: [Held] = []
    private var arena = ByteArena()
    private var garbage = 0
    private var encoded: [UInt8] = []
    private var cache = RecordCodec.DecodeCache()

    var approximateBytes: Int { seen.count * 40 + held.count * 72 + entries.capacity * 40 + arena.capacity }
    var seenDigests: Set<Digest128> { seen }

    mutating func markSeen(_ digest: Digest128) { seen.insert(digest) }

    mutating func take(_ record: Record, key: DedupeKey, position: Int, _ out: RecordOutlet) throws(IOError) {
        counts.recordsIn += 1
        guard key.held else {
            if seen.insert(key.digest).inserted {
                counts.recordsOut += 1
                try out.put(record)
            } else {
                counts.duplicates += 1
            }
            return
        }
        guard let index = held[key.digest] else {
            held[key.digest] = entries.count
            entries.append(Held(position: position, digest: key.digest, slot: store(record)))
            return
        }
        // A second sighting: decoded and merged as records.
        let entry = entries[index]
        guard let before = RecordCodec.decode(arena.bytes(entry.slot), cache: &cache) else { return }
        let after = DedupeStage.combine(before, record)
        if DedupeStage.sameContent(record, before) { counts.duplicates += 1 } else { counts.merged += 1 }
        if after == before { return }
        garbage += entry.slot.length
        entries[index] = Held(position: min(entry.position, position), digest: key.digest, slot: store(after))
        if garbage > 64 << 20 && garbage > arena.count / 2 { compact() }
    }

    /// The held records in the order of their first sighting.
    mutating func finish(_ out: RecordOutlet) throws(IOError) {
        entries.sort { $0.position < $1.position }
        for entry in entries {
            guard let record = RecordCodec.decode(arena.bytes(entry.slot), cache: &cache) else { continue }
            try out.put(record)
        }
        counts.recordsOut += entries.count
        entries = []
        held = [:]
        arena.removeAll()
        garbage = 0
    }

    /// Hands over the held records (to spill them), leaving none held.
    mutating func takeHeld(_ body: (Record, Digest128, Int) throws(IOError) -> Void) throws(IOError) {
        for e in entries {
            guard let record = RecordCodec.decode(arena.bytes(e.slot), cache: &cache) else { continue }
            try body(record, e.digest, e.position)
        }
        entries = []
        held = [:]
        arena.removeAll()
    }

    private mutating func store(_ record: Record) -> ByteArena.Slot {
        encoded.removeAll(keepingCapacity: true)
        RecordCodec.encode(record, into: &encoded)
        return arena.append(encoded)
    }

    private mutating func compact() {
        let fresh = ByteArena()
        for i in entries.indices { entries[i].slot = fresh.append(arena.bytes(entries[i].slot)) }
        arena = fresh
        garbage = 0
    }
}

extension DedupeStage {
    /// Two sightings of one held fact as one record. Messages merge (`MessageMerge`); two
    /// different edits (or revokes, or statuses of one kind) under one wamid keep the
    /// earliest, then the one chosen by content, so that arrival order never decides.
    public static func combine(_ a: Record, _ b: Record) -> Record {
        if a.kind == .message { return MessageMerge.merge(a, b) }
        var w = JSONWriter(capacity: 512)
        a.write(to: &w, includeProvenance: false)
        let aBytes = w.bytes
        w.reset()
        b.write(to: &w, includeProvenance: false)
        let (ta, tb) = (a.timestamp ?? Int64.max, b.timestamp ?? Int64.max)
        var kept = ta != tb ? (tb < ta ? b : a) : (w.bytes.lexicographicallyPrecedes(aBytes) ? b : a)
        let first = MessageMerge.isEarlier(a, b) ? a : b
        kept.source = first.source
        kept.line = first.line
        kept.arrival = first.arrival
        return kept
    }

    /// Whether two sightings say the same, wherever and whenever they were seen.
    public static func sameContent(_ a: Record, _ b: Record) -> Bool {
        var x = a
        var y = b
        x.source = ""; x.line = 0; x.arrival = nil; x.seq = nil
        y.source = ""; y.line = 0; y.arrival = nil; y.seq = nil
        return x == y
    }
}

public struct DedupeCounts: Sendable, Equatable {
    public var recordsIn = 0
    public var recordsOut = 0
    /// Exact redeliveries dropped (same fact, nothing new).
    public var duplicates = 0
    /// Sightings of a wamid folded into its message that differed from it (a resolved
    /// placeholder, content beating `unsupported`, history meeting live or echo).
    public var merged = 0
    public init() {}

    public mutating func add(_ other: Self) {
        recordsIn += other.recordsIn
        recordsOut += other.recordsOut
        duplicates += other.duplicates
        merged += other.merged
    }
}

import CoexJSON
import Crypto

public struct DedupeCounts: Sendable, Equatable {
    public var recordsIn = 0
    public var recordsOut = 0
    /// Exact redeliveries dropped (same fact, nothing new).
    public var duplicates = 0
    /// Sightings of a wamid folded into its message that brought something new
    /// (a resolved placeholder, content beating `unsupported`, history meeting live).
    public var merged = 0
    public init() {}

    public mutating func add(_ other: Self) {
        recordsIn += other.recordsIn
        recordsOut += other.recordsOut
        duplicates += other.duplicates
        merged += other.merged
    }
}

/// The identity of a fact for deduplication.
public enum DedupeKey: Hashable, Sendable {
    /// A message of one business: all its sightings merge.
    case message(waba: String, wamid: String)
    /// An edit or a revoke, by its own wamid and kind (an edit and a revoke may share a wamid).
    case change(kind: RecordKind, waba: String, wamid: String)
    /// Any other fact: the digest of its content without provenance.
    case digest(Digest128)

    public static func of(_ record: Record) -> DedupeKey {
        switch record.kind {
        case .message:
            if let wamid = record.wamid { return .message(waba: record.wabaID, wamid: wamid) }
        case .edit, .revoke:
            if let wamid = record.wamid { return .change(kind: record.kind, waba: record.wabaID, wamid: wamid) }
        default:
            break
        }
        return .digest(Digest128(content: record))
    }

    /// A stable 64-bit hash (not Swift's per-process seeded one), for partitioning.
    public var stableHash: UInt64 {
        switch self {
        case .message(let waba, let wamid): return Digest128(text: "m\u{0}\(waba)\u{0}\(wamid)").high
        case .change(let kind, let waba, let wamid):
            return Digest128(text: "c\u{0}\(kind.rawValue)\u{0}\(waba)\u{0}\(wamid)").high
        case .digest(let digest): return digest.high
        }
    }
}

/// 128 bits of SHA-256: identity of a record's content (collisions are out of reach
/// for any capture size).
public struct Digest128: Hashable, Sendable {
    public let high: UInt64
    public let low: UInt64

    public init(bytes: some Sequence<UInt8>) {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        let digest = hasher.finalize()
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, byte) in digest.prefix(16).enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.high = high
        self.low = low
    }

    public init(text: String) { self.init(bytes: text.utf8) }

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(content record: Record) {
        var w = JSONWriter(capacity: 512)
        record.write(to: &w, includeProvenance: false)
        self.init(bytes: w.bytes)
    }
}

/// coex-dedupe's core, in memory: drops exact redeliveries and merges the
/// sightings of each wamid (see `MessageMerge`). Facts other than messages, edits
/// and revokes pass on at their first sighting; messages, edits and revokes are
/// held to the end because a later sighting can still change them.
public struct Deduplicator {
    public private(set) var counts = DedupeCounts()
    /// Facts already passed on.
    private var seen: Set<Digest128> = []
    /// Held records by key, with the order of their first sighting.
    private var held: [DedupeKey: Int] = [:]
    private var heldRecords: [Record] = []
    /// Approximate bytes of memory the state holds, for the spill decision.
    public private(set) var approximateBytes = 0
    private var nextArrival = 0

    public init(firstArrival: Int = 0) {
        nextArrival = firstArrival
    }

    /// Takes the next record in arrival order; appends what can pass on now to `out`.
    public mutating func process(_ record: Record, into out: inout [Record]) {
        var record = record
        counts.recordsIn += 1
        if record.arrival == nil { record.arrival = nextArrival }
        nextArrival += 1
        let key = DedupeKey.of(record)
        switch key {
        case .digest(let digest):
            if seen.insert(digest).inserted {
                approximateBytes += 48
                counts.recordsOut += 1
                out.append(record)
            } else {
                counts.duplicates += 1
            }
        case .message, .change:
            if let index = held[key] {
                let before = heldRecords[index]
                let after = Self.combine(before, record, key: key)
                if Self.sameContent(record, before) { counts.duplicates += 1 } else { counts.merged += 1 }
                approximateBytes += Self.size(after) - Self.size(before)
                heldRecords[index] = after
            } else {
                held[key] = heldRecords.count
                approximateBytes += Self.size(record) + 96
                heldRecords.append(record)
            }
        }
    }

    /// Marks a fact as already passed on (by an earlier part of a spilled run).
    public mutating func markSeen(_ digest: Digest128) {
        if seen.insert(digest).inserted { approximateBytes += 48 }
    }

    /// The held messages, edits and revokes, in the order of their first sighting.
    public mutating func finish(into out: inout [Record]) {
        heldRecords.sort { ($0.arrival ?? 0) < ($1.arrival ?? 0) }
        counts.recordsOut += heldRecords.count
        out.append(contentsOf: heldRecords)
        heldRecords.removeAll()
        held.removeAll()
        approximateBytes = seen.count * 48
    }

    /// Takes the held state out (to spill it), leaving the deduplicator empty of held records.
    public mutating func takeHeld() -> [Record] {
        let records = heldRecords
        heldRecords.removeAll()
        held.removeAll()
        approximateBytes = seen.count * 48
        return records
    }

    public var seenDigests: Set<Digest128> { seen }

    static func combine(_ a: Record, _ b: Record, key: DedupeKey) -> Record {
        if case .message = key { return MessageMerge.merge(a, b) }
        // Two different edits (or revokes) under one wamid should not happen; keep
        // one by content so that the choice does not depend on arrival order.
        let first = MessageMerge.isEarlier(a, b) ? a : b
        var kept = Digest128(content: a).isOrdered(before: Digest128(content: b)) ? a : b
        kept.source = first.source
        kept.line = first.line
        kept.arrival = first.arrival
        return kept
    }

    static func sameContent(_ a: Record, _ b: Record) -> Bool {
        var x = a
        var y = b
        x.source = ""; x.line = 0; x.arrival = nil
        y.source = ""; y.line = 0; y.arrival = nil
        return x == y
    }

    public static func size(_ r: Record) -> Int {
        var n = 400
        for s in [r.wamid, r.body, r.contactWaID, r.contactUserID, r.type, r.source] { n += s?.utf8.count ?? 0 }
        for raw in [r.content, r.extra, r.errors] { n += raw?.bytes.count ?? 0 }
        return n
    }
}

extension Digest128 {
    func isOrdered(before other: Digest128) -> Bool { (high, low) < (other.high, other.low) }
}

import CoexJSON

public struct DedupeCounts: Sendable, Equatable {
    public var recordsIn = 0
    public var recordsOut = 0
    /// Exact redeliveries dropped (same fact, nothing new).
    public var duplicates = 0
    /// Sightings of a wamid folded into its message that differed from it (a resolved
    /// placeholder, content beating `unsupported`, history meeting live or echo).
    public var merged = 0
    /// Copies of a held fact that are not readable as records: rejected.
    public var unreadable = 0
    public init() {}

    public mutating func add(_ other: Self) {
        recordsIn += other.recordsIn
        recordsOut += other.recordsOut
        duplicates += other.duplicates
        merged += other.merged
        unreadable += other.unreadable
    }
}

/// coex-dedupe's core, on record lines: drops exact redeliveries and merges the
/// sightings of each wamid (see `MessageMerge`). Facts other than messages, edits,
/// revokes and statuses pass on at their first sighting, byte for byte; those are
/// held (as bytes) to the end, because a later sighting can change which is kept.
/// Every line out carries `arrival`, the input position of its first sighting.
public struct Deduplicator {
    struct Held {
        var arrival: Int
        var slot: ByteArena.Slot
    }

    public private(set) var counts = DedupeCounts()
    private var seen: Set<Digest128> = []
    private var held: [Digest128: Int] = [:]
    private var entries: [Held] = []
    private var arena = ByteArena()
    private var garbage = 0
    private var line: [UInt8] = []
    /// Copies rejected because they do not read as records (taken by `takeUnreadable`).
    private var unreadable: [[UInt8]] = []

    /// The lines of copies that could not be merged because they are not records.
    public mutating func takeUnreadable() -> [[UInt8]] {
        defer { unreadable.removeAll() }
        return unreadable
    }
    private let parser = JSONParser()
    private var scratch = JSONWriter(capacity: 1024)

    public init() {}

    /// Memory the state holds, roughly, for the spill decision.
    public var approximateBytes: Int { seen.count * 40 + held.count * 72 + entries.capacity * 32 + arena.capacity }

    public var seenDigests: Set<Digest128> { seen }

    /// Takes one record line (no newline) in arrival order; appends what passes on now to `out`.
    public mutating func process(
        _ line: UnsafeRawBufferPointer, key: DedupeKey, hasArrival: Bool, arrival: Int, into out: inout [UInt8]
    ) {
        counts.recordsIn += 1
        if !key.held {
            if seen.insert(key.digest).inserted {
                counts.recordsOut += 1
                Self.append(line, arrival: hasArrival ? nil : arrival, to: &out)
                out.append(0x0A)
            } else {
                counts.duplicates += 1
            }
            return
        }
        guard let index = held[key.digest] else {
            held[key.digest] = entries.count
            let slot: ByteArena.Slot
            if hasArrival {
                slot = arena.append(line)
            } else {
                self.line.removeAll(keepingCapacity: true)
                Self.append(line, arrival: arrival, to: &self.line)
                slot = arena.append(self.line)
            }
            entries.append(Held(arrival: arrival, slot: slot))
            return
        }
        // A second sighting: rare enough to decode both and merge as records.
        let entry = entries[index]
        let stored = decode(arena.bytes(entry.slot))
        let decoded = decode(line)
        guard let before = stored, var sighting = decoded else {
            // A copy that does not read as a record cannot be merged: it is rejected,
            // and a readable copy is kept whichever came first.
            counts.unreadable += 1
            if stored == nil, decoded != nil {
                unreadable.append(Array(arena.bytes(entry.slot)))
                garbage += entry.slot.length
                var fresh: [UInt8] = []
                Self.append(line, arrival: hasArrival ? nil : arrival, to: &fresh)
                entries[index] = Held(arrival: min(entry.arrival, arrival), slot: arena.append(fresh))
            } else {
                unreadable.append(Array(line))
            }
            return
        }
        if !hasArrival { sighting.arrival = arrival }
        let after = Self.combine(before, sighting)
        if Self.sameContent(sighting, before) { counts.duplicates += 1 } else { counts.merged += 1 }
        if after == before { return }
        scratch.reset()
        after.write(to: &scratch)
        garbage += entry.slot.length
        entries[index] = Held(arrival: min(entry.arrival, after.arrival ?? entry.arrival),
                              slot: arena.append(scratch.bytes))
        if garbage > 64 << 20 && garbage > arena.count / 2 { compact() }
    }

    /// Marks a fact as already passed on (by an earlier part of a spilled run).
    public mutating func markSeen(_ digest: Digest128) {
        seen.insert(digest)
    }

    /// The held messages, edits and revokes, in the order of their first sighting,
    /// handed to `emit` a line (with its newline) at a time, so that the output
    /// never has to sit in memory a second time.
    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        entries.sort { $0.arrival < $1.arrival }
        var line: [UInt8] = []
        for entry in entries {
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: arena.bytes(entry.slot))
            line.append(0x0A)
            try line.withUnsafeBytes { try emit($0) }
        }
        counts.recordsOut += entries.count
        entries.removeAll()
        held.removeAll()
        arena.removeAll()
        garbage = 0
    }

    /// Hands over the held lines (to spill them), leaving none held.
    public mutating func takeHeld(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        for entry in entries { try body(arena.bytes(entry.slot)) }
        entries.removeAll()
        held.removeAll()
        arena.removeAll()
        garbage = 0
    }

    public mutating func forgetSeen() { seen = [] }

    private mutating func compact() {
        let fresh = ByteArena()
        for i in entries.indices {
            entries[i].slot = fresh.append(arena.bytes(entries[i].slot))
        }
        arena = fresh
        garbage = 0
    }

    private func decode(_ bytes: UnsafeRawBufferPointer) -> Record? {
        guard let value = try? parser.parse(bytes) else { return nil }
        return try? Record(json: value)
    }

    /// `line` with `,"arrival":N` added (when `arrival` is given).
    public static func append(_ line: UnsafeRawBufferPointer, arrival: Int?, to out: inout [UInt8]) {
        guard let arrival else {
            out.append(contentsOf: line)
            return
        }
        RecordLine.append(line, member: "arrival", value: arrival, to: &out)
    }

    public static func combine(_ a: Record, _ b: Record) -> Record {
        if a.kind == .message { return MessageMerge.merge(a, b) }
        // Two different edits (or revokes, or statuses of one kind) under one wamid: keep
        // the earliest, then the one chosen by content, so that arrival order never decides.
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

    public static func sameContent(_ a: Record, _ b: Record) -> Bool {
        var x = a
        var y = b
        x.source = ""; x.line = 0; x.arrival = nil; x.seq = nil
        y.source = ""; y.line = 0; y.arrival = nil; y.seq = nil
        return x == y
    }

}

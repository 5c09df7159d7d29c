import CoexCLI
import CoexIO
import CoexJSON
import CoexKit
import CoexStore
#if canImport(Glibc)
import Glibc
#endif

/// What one business's records did in each stage of `coex import`, summed into the
/// stages' summaries.
struct StageTallies: Sendable {
    var dedupeLines = 0
    var dedupe = DedupeCounts()
    var orderLines = 0
    var orderOut = 0
    var reports: [HistoryProgress] = []
    var applyLines = 0
    var held = 0
    var appliedEdits = 0
    var editedMessages = 0
    var versionsOut = 0
    var appliedRevokes = 0
    var pending = 0
    var applyOut = 0
    var loadLines = 0
    /// Records coex-load rejected, by kind.
    var loadRejected: [String: Int] = [:]

    mutating func add(_ o: StageTallies) {
        dedupeLines += o.dedupeLines
        dedupe.add(o.dedupe)
        orderLines += o.orderLines
        orderOut += o.orderOut
        reports += o.reports
        applyLines += o.applyLines
        held += o.held
        appliedEdits += o.appliedEdits
        editedMessages += o.editedMessages
        versionsOut += o.versionsOut
        appliedRevokes += o.appliedRevokes
        pending += o.pending
        applyOut += o.applyOut
        loadLines += o.loadLines
    }
}

/// The counts and outcome of one business's import.
struct BusinessResult: Sendable {
    var wabaID: String
    var tallies: StageTallies
    var rejectCounts: [String: Int]
    var outcome: BusinessOutcome?
}

/// What a business's load needs besides its records.
struct LoadSettings: Sendable {
    var outDirectory: String
    /// The input names recorded in `imports`.
    var inputs: [String]
    var time: Int64
}

/// One business's records through dedupe, order, apply and load, in memory: the transforms
/// of the stage executables (Deduplicator's merge, OrderKey and ChatSequencer, EditApplier,
/// LoadOrder and BusinessLoad), with each record parsed once for all the keys the stages
/// need, and once more to be stored. Every fact of a business is keyed by its business, so
/// a business's records alone give the result the stages give on the whole stream.
///
/// The lines are coex-normalize's, written in this process: every member has its type.
final class BusinessImport: @unchecked Sendable {
    let wabaID: String
    private(set) var tallies = StageTallies()
    /// Records a stage could not take, with the stage that rejected them (taken by the caller).
    var rejects: [Reject] = []
    /// How many lines each stage rejected as unreadable (coex-load's refusals are counted
    /// by kind in `tallies.loadRejected`).
    private(set) var rejectCounts: [String: Int] = [:]
    /// Nil when no record was left to load (no database is written, as with coex-load).
    private(set) var outcome: BusinessOutcome?
    private let parser = JSONParser()
    private let wabaIsSafe: Bool

    /// A record that survived dedupe and what the later stages need of it.
    private struct Survivor {
        /// The line: input line `line`, or (when negative) merged line `-line - 1`.
        var line: Int
        var kind: RecordKind
        var arrival: Int
        var orderKey: Range<Int>
        /// Nil when coex-load's first look needs the decoded record.
        var loadKey: Range<Int>?
        var pair: Int32 = -1
        /// Messages: a hash of the wamid, to find those with changes without decoding them.
        var wamidHash = 0
        var seq = 0
        /// A history report of an earlier run, which coex-order drops.
        var dropped = false
    }

    /// A record as coex-apply hands it to coex-load.
    private enum LoadItem {
        case survivor(Int)
        /// A record coex-apply wrote (a changed message, a version, a pending change, a
        /// history report): an index into `written`.
        case record(Int)
    }

    private var input = RecordLines()
    private var merged: [[UInt8]] = []
    private var survivors: [Survivor] = []
    private var keys: [UInt8] = []
    private var pairs: [(UserIDPair, SeenSpan)] = []
    private var written: [Record] = []
    private var scratch: [UInt8] = []

    init(wabaID: String) {
        self.wabaID = wabaID
        wabaIsSafe = BusinessFile.isSafe(wabaID)
    }

    /// `lines`: the business's records as coex-normalize wrote them, each with its
    /// `arrival` (its position in the run's whole record stream), in arrival order.
    func run(_ lines: consuming RecordLines, settings: LoadSettings) {
        // Moved, not shared: the padding `withLines` adds would copy a shared buffer whole.
        input = consume lines
        input.withLines { lines in
            dedupe(lines)
            let sorted = order(lines)
            let items = apply(lines, sorted)
            load(lines, items, settings: settings)
        }
        input = RecordLines()
        merged = []
        survivors = []
        keys = []
        pairs = []
        written = []
    }

    /// What is kept of the job until every business is done (its rejects are reported as
    /// soon as it ends).
    var result: BusinessResult {
        BusinessResult(wabaID: wabaID, tallies: tallies, rejectCounts: rejectCounts, outcome: outcome)
    }

    /// The business could not be loaded at all (its records could not be read back).
    func fail(_ message: String) {
        outcome = .failed(message)
    }

    private func withLine(_ s: Survivor, _ lines: [UnsafeRawBufferPointer], _ body: (UnsafeRawBufferPointer) -> Void) {
        if s.line >= 0 {
            body(lines[s.line])
        } else {
            merged[-s.line - 1].withUnsafeBytes(body)
        }
    }

    private func key(_ range: Range<Int>, _ keys: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: keys[range])
    }

    // MARK: coex-dedupe

    private func dedupe(_ lines: [UnsafeRawBufferPointer]) {
        var counts = DedupeCounts()
        var seen: Set<Digest128> = []
        var held: [Digest128: Int] = [:]
        var writer = JSONWriter(capacity: 1024)
        tallies.dedupeLines = lines.count
        survivors.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            guard let value = try? parser.parse(line, padded: true), let view = RecordView(value),
                let arrival = value["arrival"]?.int64
            else {
                reject(line, stage: "coex-dedupe", reason: "not a coex record with an arrival")
                continue
            }
            counts.recordsIn += 1
            let key = view.dedupeKey(scratch: &writer, content: RecordLine.content(of: line))
            if !key.held {
                if seen.insert(key.digest).inserted {
                    counts.recordsOut += 1
                    survivors.append(survivor(view, line: index, arrival: Int(arrival)))
                } else {
                    counts.duplicates += 1
                }
                continue
            }
            guard let first = held[key.digest] else {
                held[key.digest] = survivors.count
                survivors.append(survivor(view, line: index, arrival: Int(arrival)))
                continue
            }
            // A second sighting: rare enough to decode both and merge them as records (as
            // Deduplicator does).
            var stored: Record?
            withLine(survivors[first], lines) { stored = try? Record(json: try parser.parse($0)) }
            let decoded = try? Record(json: try parser.parse(line, padded: true))
            guard let before = stored, let sighting = decoded else {
                // As Deduplicator: the copy that does not read as a record is rejected (not
                // counted as a bad line: it was read), and a readable one is kept.
                counts.unreadable += 1
                let unreadable = "a copy of a held fact that does not read as a coex record"
                if stored == nil, decoded != nil {
                    withLine(survivors[first], lines) { reject($0, stage: "coex-dedupe", reason: unreadable, counted: false) }
                    if let value = try? parser.parse(line, padded: true), let view = RecordView(value) {
                        survivors[first] = survivor(view, line: index, arrival: Int(arrival))
                    }
                } else {
                    reject(line, stage: "coex-dedupe", reason: unreadable, counted: false)
                }
                continue
            }
            let after = Deduplicator.combine(before, sighting)
            if Deduplicator.sameContent(sighting, before) { counts.duplicates += 1 } else { counts.merged += 1 }
            if after == before { continue }
            writer.reset()
            after.write(to: &writer)
            merged.append(writer.bytes)
            // Written just now by Record.write: it reads back.
            if let value = try? parser.parse(merged[merged.count - 1]), let view = RecordView(value) {
                survivors[first] = survivor(view, line: -merged.count, arrival: after.arrival ?? 0)
            }
        }
        counts.recordsOut += held.count
        tallies.dedupe = counts
    }

    /// What the later stages need of a record, read from its parsed line.
    private func survivor(_ view: RecordView, line: Int, arrival: Int) -> Survivor {
        OrderKey.of(view, into: &scratch)
        let orderStart = keys.count
        keys.append(contentsOf: scratch)
        var s = Survivor(line: line, kind: view.kind, arrival: arrival, orderKey: orderStart..<keys.count)
        var pair: (UserIDPair, SeenSpan)?
        if LoadOrder.keyInPlace(view, wabaIsSafe: wabaIsSafe, ordinal: 0, into: &scratch, pair: &pair) {
            let loadStart = keys.count
            keys.append(contentsOf: scratch)
            s.loadKey = loadStart..<keys.count
            if let pair {
                s.pair = Int32(pairs.count)
                pairs.append(pair)
            }
        }
        if view.kind == .message, let wamid = view.wamid { s.wamidHash = Self.hash(wamid) }
        return s
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    // MARK: coex-order

    /// Survivors in chat order (OrderKey), messages numbered (seq), history reports made.
    private func order(_ lines: [UnsafeRawBufferPointer]) -> [Int] {
        tallies.orderLines = survivors.count
        var sorted = Array(survivors.indices)
        var sequencer = ChatSequencer()
        var discard: [UInt8] = []
        var seq = 0
        var dropped = 0
        keys.withUnsafeBytes { keys in
            sorted.sort { a, b in
                Self.precedes(key(survivors[a].orderKey, keys), key(survivors[b].orderKey, keys), a, b)
            }
            for i in sorted {
                switch survivors[i].kind {
                case .message:
                    seq += 1
                    survivors[i].seq = seq
                case .historyChunk:
                    // Only chunks go to the sequencer: they all come first, so its reports are
                    // the ones it makes on the whole stream.
                    let before = sequencer.linesOut
                    withLine(survivors[i], lines) { sequencer.process($0, key: key(survivors[i].orderKey, keys), into: &discard) }
                    if sequencer.linesOut == before {
                        // A report of an earlier run: this run writes its own.
                        survivors[i].dropped = true
                        dropped += 1
                    }
                    discard.removeAll(keepingCapacity: true)
                default:
                    break
                }
            }
        }
        sequencer.finish(into: &discard)
        tallies.reports = sequencer.reports
        tallies.orderOut = survivors.count - dropped + sequencer.reports.count
        return sorted.filter { !survivors[$0].dropped }
    }

    /// memcmp order (a key that is a prefix of another first), then input order: the
    /// order of the stages' sorter.
    static func precedes(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer, _ i: Int, _ j: Int) -> Bool {
        let n = min(x.count, y.count)
        if n > 0 {
            let c = memcmp(x.baseAddress!, y.baseAddress!, n)
            if c != 0 { return c < 0 }
        }
        return x.count != y.count ? x.count < y.count : i < j
    }

    // MARK: coex-apply

    /// The records coex-apply would write, in its order.
    private func apply(_ lines: [UnsafeRawBufferPointer], _ sorted: [Int]) -> [LoadItem] {
        var applier = EditApplier()
        var changed: Set<Int> = []
        var isHeld = [Bool](repeating: false, count: survivors.count)
        for i in sorted where survivors[i].kind == .edit || survivors[i].kind == .revoke {
            var change: Record?
            withLine(survivors[i], lines) { change = try? Record(json: try parser.parse($0)) }
            guard let change, let original = change.originalMessageID else { continue }
            applier.hold(change)
            isHeld[i] = true
            var id = original
            changed.insert(id.withUTF8 { Self.hash(UnsafeRawBufferPointer($0)) })
        }
        tallies.applyLines = tallies.orderOut
        tallies.held = applier.heldCount
        var items: [LoadItem] = []
        items.reserveCapacity(sorted.count + tallies.reports.count)
        var reportsPlaced = false
        var out: [Record] = []
        for i in sorted where !isHeld[i] {
            let s = survivors[i]
            if !reportsPlaced && s.kind != .historyChunk {
                // coex-order writes each phone number's report after its chunks, before any
                // other record; their load order depends only on their own order.
                for report in tallies.reports { items.append(add(report.record())) }
                reportsPlaced = true
            }
            if s.kind == .message, !changed.isEmpty, changed.contains(s.wamidHash) {
                var message: Record?
                withLine(s, lines) { message = try? Record(json: try parser.parse($0)) }
                if var message, let wamid = message.wamid, applier.hasChanges(waba: message.wabaID, wamid: wamid) {
                    message.seq = s.seq
                    applier.apply(to: message, into: &out)
                    for record in out { items.append(add(record)) }
                    out.removeAll(keepingCapacity: true)
                    continue
                }
            }
            items.append(.survivor(i))
        }
        if !reportsPlaced {
            for report in tallies.reports { items.append(add(report.record())) }
        }
        let pending = applier.pending()
        for record in pending { items.append(add(record)) }
        tallies.appliedEdits = applier.appliedEdits
        tallies.editedMessages = applier.editedMessages
        tallies.versionsOut = applier.versionsOut
        tallies.appliedRevokes = applier.appliedRevokes
        tallies.pending = pending.count
        tallies.applyOut = items.count
        return items
    }

    private func add(_ record: Record) -> LoadItem {
        written.append(record)
        return .record(written.count - 1)
    }

    // MARK: coex-load

    private func load(_ lines: [UnsafeRawBufferPointer], _ items: [LoadItem], settings: LoadSettings) {
        tallies.loadLines = items.count
        var identity = IdentityFacts()
        var arrivals: [Int] = []
        var loadKeys: [UInt8] = []
        var ranges: [Range<Int>] = []
        var accepted: [Int] = []
        var rejected: [String: Int] = [:]
        accepted.reserveCapacity(items.count)
        ranges.reserveCapacity(items.count)
        // First pass: check and key every record, and gather the run's identity facts.
        for (k, item) in items.enumerated() {
            switch item {
            case .survivor(let i) where survivors[i].loadKey != nil:
                let s = survivors[i]
                if s.pair >= 0 { identity.addPair(pairs[Int(s.pair)].0, pairs[Int(s.pair)].1) }
                if s.kind == .message { arrivals.append(s.arrival) }
                let start = loadKeys.count
                keys.withUnsafeBytes { loadKeys.append(contentsOf: key(s.loadKey!, $0)) }
                ranges.append(start..<loadKeys.count)
                accepted.append(k)
            default:
                guard let record = self.record(item, lines) else {
                    rawLine(item, lines).withUnsafeBytes { reject($0, stage: "coex-load", reason: "not a coex record") }
                    continue
                }
                if let problem = LoadCheck.problem(with: record) {
                    // Counted by kind in the business's counts, as coex-load does; not as a bad line.
                    rejects.append(Reject(provenance: record.provenance, stage: "coex-load", reason: problem,
                                          raw: rawLine(item, lines)))
                    rejected[record.kind.rawValue, default: 0] += 1
                    continue
                }
                identity.add(record)
                if record.kind == .message, let arrival = record.arrival { arrivals.append(arrival) }
                LoadOrder.key(of: record, ordinal: 0, into: &scratch)
                let start = loadKeys.count
                loadKeys.append(contentsOf: scratch)
                ranges.append(start..<loadKeys.count)
                accepted.append(k)
            }
        }
        tallies.loadRejected = rejected
        // A business none of whose records could be loaded has no database (as with coex-load).
        guard !accepted.isEmpty else { return }
        var order = Array(accepted.indices)
        loadKeys.withUnsafeBytes { keys in
            order.sort { a, b in Self.precedes(key(ranges[a], keys), key(ranges[b], keys), a, b) }
        }
        let path: String
        let load: BusinessLoad
        do throws(StoreError) {
            path = try BusinessFile.path(for: wabaID, in: settings.outDirectory)
            load = try BusinessLoad(path: path, wabaID: wabaID, inputs: settings.inputs, time: settings.time,
                                    identity: identity, messageArrivals: Array(Set(arrivals)).sorted())
        } catch {
            outcome = .failed(error.description)
            return
        }
        for (kind, n) in rejected { load.noteRejected(kind: kind, count: n) }
        do throws(StoreError) {
            for o in order {
                guard let record = record(items[accepted[o]], lines, rawJSON: true) else {
                    outcome = .failed("cannot read a record again; nothing of this run was written to \(path)")
                    return
                }
                try load.add(record)
            }
            outcome = .loaded(try load.finish())
        } catch {
            outcome = .failed("\(error.description); nothing of this run was written to \(path)")
        }
    }

    /// The record coex-load reads for an item: the line's (with its seq), or a written
    /// record as it reads back.
    private func record(_ item: LoadItem, _ lines: [UnsafeRawBufferPointer], rawJSON: Bool = false) -> Record? {
        var result: Record?
        switch item {
        case .survivor(let i):
            let s = survivors[i]
            // Lines of the input are followed by its padding; merged lines are not.
            withLine(s, lines) { result = try? Record(json: try parser.parse($0, padded: s.line >= 0), rawJSON: rawJSON) }
            if s.kind == .message { result?.seq = s.seq }
        case .record(let r):
            var writer = JSONWriter(capacity: 1024)
            written[r].write(to: &writer)
            result = try? Record(json: try parser.parse(writer.bytes), rawJSON: rawJSON)
        }
        return result
    }

    /// The line coex-load would read for an item.
    private func rawLine(_ item: LoadItem, _ lines: [UnsafeRawBufferPointer]) -> [UInt8] {
        switch item {
        case .survivor(let i):
            let s = survivors[i]
            var bytes: [UInt8] = []
            withLine(s, lines) { line in
                if s.kind == .message { ChatSequencer.setSeq(s.seq, in: line, to: &bytes) } else { bytes = Array(line) }
            }
            return bytes
        case .record(let r):
            var writer = JSONWriter(capacity: 1024)
            written[r].write(to: &writer)
            return writer.bytes
        }
    }

    /// `counted`: whether the stage counts it as a line it rejected.
    private func reject(_ line: UnsafeRawBufferPointer, stage: String, reason: String, counted: Bool = true) {
        if counted { rejectCounts[stage, default: 0] += 1 }
        let provenance = (try? parser.parse(Array(line))).map {
            Provenance(source: $0["source"]?.string ?? "-", line: Int($0["line"]?.int64 ?? 0))
        } ?? Provenance(source: "-", line: 0)
        rejects.append(Reject(provenance: provenance, stage: stage, reason: reason, raw: Array(line)))
    }
}

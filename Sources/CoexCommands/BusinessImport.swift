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
struct StageTallies {
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

/// What a business's load needs besides its records.
struct LoadSettings: Sendable {
    var outDirectory: String
    /// The input names recorded in `imports`.
    var inputs: [String]
    var time: Int64
}

/// One business's records through dedupe, order, apply and load, in memory: the same
/// transforms as the stage executables (Deduplicator, OrderKey and ChatSequencer,
/// EditApplier, LoadOrder and BusinessLoad) on the same record lines, without the pipes
/// between them. Every fact of a business is keyed by its business, so a business's
/// records alone give the result the stages give on the whole stream.
final class BusinessImport: @unchecked Sendable {
    let wabaID: String
    private(set) var tallies = StageTallies()
    /// Records a stage could not take, with the stage that rejected them (taken by the caller).
    var rejects: [Reject] = []
    /// How many records each stage rejected.
    private(set) var rejectCounts: [String: Int] = [:]
    /// Nil when no record was left to load (no database is written, as with coex-load).
    private(set) var outcome: BusinessOutcome?
    private let parser = JSONParser()

    init(wabaID: String) {
        self.wabaID = wabaID
    }

    /// `lines`: the business's records as coex-normalize wrote them, each with its
    /// `arrival` (its position in the run's whole record stream), in arrival order.
    func run(_ lines: consuming RecordLines, settings: LoadSettings) {
        var deduped = dedupe(consume lines)
        var ordered = order(&deduped)
        var applied = apply(&ordered)
        load(&applied, settings: settings)
    }

    // MARK: coex-dedupe

    private func dedupe(_ input: consuming RecordLines) -> RecordLines {
        var dedupe = Deduplicator()
        var scratch = JSONWriter(capacity: 1024)
        var passed: [UInt8] = []
        input.withLines { lines in
            tallies.dedupeLines = lines.count
            for line in lines {
                guard let value = try? parser.parse(line, padded: true), let view = RecordView(value),
                    let arrival = value["arrival"]?.int64
                else {
                    reject(line, stage: "coex-dedupe", reason: "not a coex record with an arrival")
                    continue
                }
                dedupe.process(line, key: view.dedupeKey(scratch: &scratch), hasArrival: true, arrival: Int(arrival),
                               into: &passed)
                for copy in dedupe.takeUnreadable() {
                    copy.withUnsafeBytes { reject($0, stage: "coex-dedupe", reason: "a copy of a held fact that does not read as a coex record") }
                }
            }
        }
        _ = consume input
        var out = RecordLines(ndjson: passed)
        passed = []
        dedupe.finish { out.append(ndjson: $0) }
        tallies.dedupe = dedupe.counts
        return out
    }

    // MARK: coex-order

    private func order(_ input: inout RecordLines) -> RecordLines {
        var keys: [UInt8] = []
        var keyEnds: [Int] = []
        var key: [UInt8] = []
        var block: [UInt8] = []
        var sequencer = ChatSequencer()
        let size = input.byteCount + input.count * 12
        input.withLines { lines in
            tallies.orderLines = lines.count
            var kept: [Int] = []
            kept.reserveCapacity(lines.count)
            keyEnds.reserveCapacity(lines.count)
            for (i, line) in lines.enumerated() {
                guard let value = try? parser.parse(line, padded: true), let view = RecordView(value) else {
                    reject(line, stage: "coex-order", reason: "not a coex record")
                    continue
                }
                OrderKey.of(view, into: &key)
                keys.append(contentsOf: key)
                keyEnds.append(keys.count)
                kept.append(i)
            }
            keys.withUnsafeBytes { keys in
                func key(_ k: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: keys[(k == 0 ? 0 : keyEnds[k - 1])..<keyEnds[k]])
                }
                var sorted = Array(kept.indices)
                sorted.sort { a, b in Self.precedes(key(a), key(b), a, b) }
                block.reserveCapacity(size)
                for k in sorted { sequencer.process(lines[kept[k]], key: key(k), into: &block) }
            }
        }
        input = RecordLines()
        sequencer.finish(into: &block)
        tallies.orderOut = sequencer.linesOut
        tallies.reports = sequencer.reports
        return RecordLines(ndjson: block)
    }

    /// memcmp order (a key that is a prefix of another first), then input order: the
    /// order of coex-order's sorter.
    static func precedes(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer, _ i: Int, _ j: Int) -> Bool {
        let n = min(x.count, y.count)
        if n > 0 {
            let c = memcmp(x.baseAddress!, y.baseAddress!, n)
            if c != 0 { return c < 0 }
        }
        return x.count != y.count ? x.count < y.count : i < j
    }

    // MARK: coex-apply

    private func apply(_ input: inout RecordLines) -> RecordLines {
        var applier = EditApplier()
        var writer = JSONWriter(capacity: 1 << 16)
        var block: [UInt8] = []
        var passed = 0
        var written = 0
        let size = input.byteCount
        input.withLines { lines in
            tallies.applyLines = lines.count
            // First pass: hold edits and revokes; every other line waits for the second.
            var kept: [(line: Int, message: Bool)] = []
            kept.reserveCapacity(lines.count)
            for (i, line) in lines.enumerated() {
                guard let value = try? parser.parse(line, padded: true), let view = RecordView(value) else {
                    reject(line, stage: "coex-apply", reason: "not a coex record")
                    continue
                }
                if view.kind == .edit || view.kind == .revoke, let change = try? Record(json: value),
                    change.originalMessageID != nil
                {
                    applier.hold(change)
                    continue
                }
                kept.append((i, view.kind == .message))
            }
            tallies.held = applier.heldCount
            // Second pass: messages with changes are rewritten, the rest passes as it is.
            block.reserveCapacity(size)
            var out: [Record] = []
            for (i, isMessage) in kept {
                let line = lines[i]
                if isMessage, applier.heldCount > 0, let value = try? parser.parse(line, padded: true),
                    let waba = value["waba_id"]?.string, let wamid = value["wamid"]?.string,
                    applier.hasChanges(waba: waba, wamid: wamid),
                    let message = try? Record(json: value)
                {
                    applier.apply(to: message, into: &out)
                    Self.write(out, with: &writer, to: &block)
                    written += out.count
                    out.removeAll(keepingCapacity: true)
                } else {
                    block.append(contentsOf: line)
                    block.append(0x0A)
                    passed += 1
                }
            }
        }
        input = RecordLines()
        let pending = applier.pending()
        Self.write(pending, with: &writer, to: &block)
        written += pending.count
        tallies.appliedEdits = applier.appliedEdits
        tallies.editedMessages = applier.editedMessages
        tallies.versionsOut = applier.versionsOut
        tallies.appliedRevokes = applier.appliedRevokes
        tallies.pending = pending.count
        tallies.applyOut = passed + written
        return RecordLines(ndjson: block)
    }

    private static func write(_ records: [Record], with writer: inout JSONWriter, to block: inout [UInt8]) {
        for record in records {
            writer.reset()
            record.write(to: &writer)
            writer.newline()
            block.append(contentsOf: writer.bytes)
        }
    }

    // MARK: coex-load

    private func load(_ input: inout RecordLines, settings: LoadSettings) {
        var identity = IdentityFacts()
        var arrivals: [Int] = []
        var keys: [UInt8] = []
        var keyEnds: [Int] = []
        var key: [UInt8] = []
        var accepted: [Int] = []
        let sortedLines = BusinessLines(wabaID: wabaID)
        let size = input.byteCount
        input.withLines { lines in
            tallies.loadLines = lines.count
            accepted.reserveCapacity(lines.count)
            // First pass: check and key every record, and gather the run's identity facts.
            for (i, line) in lines.enumerated() {
                guard let value = try? parser.parse(line, padded: true),
                    let record = try? Record(json: value, rawJSON: false)
                else {
                    reject(line, stage: "coex-load", reason: "not a coex record")
                    continue
                }
                if let problem = LoadCheck.problem(with: record) {
                    rejects.append(Reject(provenance: record.provenance, stage: "coex-load", reason: problem, raw: Array(line)))
                    rejectCounts["coex-load", default: 0] += 1
                    tallies.loadRejected[record.kind.rawValue, default: 0] += 1
                    continue
                }
                identity.add(record)
                if record.kind == .message, let arrival = record.arrival { arrivals.append(arrival) }
                LoadOrder.key(of: record, ordinal: 0, into: &key)
                keys.append(contentsOf: key)
                keyEnds.append(keys.count)
                accepted.append(i)
            }
            keys.withUnsafeBytes { keys in
                func key(_ k: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: keys[(k == 0 ? 0 : keyEnds[k - 1])..<keyEnds[k]])
                }
                var sorted = Array(accepted.indices)
                sorted.sort { a, b in Self.precedes(key(a), key(b), a, b) }
                sortedLines.reserve(bytes: size)
                for k in sorted { sortedLines.addInMemory(lines[accepted[k]]) }
            }
        }
        input = RecordLines()
        // A business none of whose records could be loaded has no database (as with coex-load).
        guard !accepted.isEmpty else { return }
        do throws(StoreError) {
            let job = BusinessJob(lines: sortedLines, path: try BusinessFile.path(for: wabaID, in: settings.outDirectory),
                                  inputs: settings.inputs, time: settings.time, identity: identity,
                                  arrivals: Array(Set(arrivals)).sorted(), rejected: tallies.loadRejected)
            outcome = job.run()
        } catch {
            outcome = .failed(error.description)
        }
    }

    /// The business could not be loaded at all (its records could not be read back).
    func fail(_ message: String) {
        outcome = .failed(message)
    }

    private func reject(_ line: UnsafeRawBufferPointer, stage: String, reason: String) {
        rejectCounts[stage, default: 0] += 1
        let provenance = (try? parser.parse(Array(line))).map {
            Provenance(source: $0["source"]?.string ?? "-", line: Int($0["line"]?.int64 ?? 0))
        } ?? Provenance(source: "-", line: 0)
        rejects.append(Reject(provenance: provenance, stage: stage, reason: reason, raw: Array(line)))
    }
}

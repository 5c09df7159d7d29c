import CoexIO
import CoexKit

/// coex-order: records sorted per business into `OrderKey` order (history chunks, then
/// messages in chat order, then every other fact by time), messages numbered (`seq`),
/// and after each phone number's chunks a history_chunk report record. Stable; past its
/// budget sorted runs spill to temporary files.
public final class OrderStage: RecordStage {
    public static let name = StageName.order

    private let sorter: ExternalSorter
    private let settings: SpillSettings
    private var key: [UInt8] = []
    private var encoded: [UInt8] = []
    private var sequencer = ChatSequencer()
    public private(set) var sorted = 0
    private var absorbed = (reports: [HistoryProgress](), out: 0, spilledRuns: 0)

    public init(_ settings: SpillSettings) {
        self.settings = settings
        sorter = ExternalSorter(stage: Self.name.command, settings, prefixStart: OrderKey.prefixStart)
    }

    public var reports: [HistoryProgress] { sequencer.reports + absorbed.reports }

    /// Adds another instance's counts (a stage run on another share of the businesses).
    public func absorb(_ other: OrderStage) {
        sorted += other.sorted
        absorbed.reports += other.reports
        absorbed.out += other.sequencer.recordsOut + other.absorbed.out
        absorbed.spilledRuns += other.sorter.spilledRuns + other.absorbed.spilledRuns
    }

    public func take(_ record: Record, _ out: RecordOutlet) throws(IOError) {
        sorted += 1
        OrderKey.of(record, into: &key)
        encoded.removeAll(keepingCapacity: true)
        RecordCodec.encode(record, into: &encoded)
        try key.withBytes { key throws(IOError) in
            try encoded.withBytes { bytes throws(IOError) in try sorter.add(key: key, line: bytes) }
        }
    }

    public func finish(_ out: RecordOutlet) throws(IOError) {
        let path = settings.temporaryDirectory
        var cache = RecordCodec.DecodeCache()
        try sorter.finish { _, bytes throws(IOError) in
            guard let record = RecordCodec.decode(bytes, cache: &cache) else { throw .damagedSpill(path) }
            try sequencer.process(record, out)
        }
        try sequencer.finish(out)
        for report in sequencer.reports { out.note("history \(report.wabaID) \(report.summary)", stage: Self.name) }
    }

    public func summary(_ input: InputCounts) -> [String] {
        var line = "\(plural(input.lines, "line")) read: \(sorted) records sorted, "
            + "\(plural(reports.count, "history report")) added, \(sequencer.recordsOut + absorbed.out) out; "
            + "\(input.rejected) rejected, \(input.blank) blank"
        let runs = sorter.spilledRuns + absorbed.spilledRuns
        if runs > 0 { line += "; \(runs) sorted runs spilled past \(settings.label)" }
        return [line]
    }
}

/// The streaming end of coex-order: takes records in `OrderKey` order, numbers messages
/// (`seq`, per business) and reports each phone number's history sync after its last
/// chunk. A report of an earlier run (a chunk without phase) is dropped: this run makes
/// its own.
public struct ChatSequencer {
    private var business: String?
    private var seq = 0
    private var history: HistoryProgress?
    private var lastChunk: (phase: Int, chunkOrder: Int)?
    public private(set) var reports: [HistoryProgress] = []
    public private(set) var recordsOut = 0

    public init() {}

    public mutating func process(_ record: Record, _ out: RecordOutlet) throws(IOError) {
        var record = record
        if business != record.wabaID {
            try flushHistory(out)
            business = record.wabaID
            seq = 0
        }
        switch record.kind {
        case .historyChunk:
            guard let phase = record.phase else { return }
            let phone = record.phoneNumberID ?? ""
            if history?.phoneNumberID != phone {
                try flushHistory(out)
                history = HistoryProgress(wabaID: record.wabaID, phoneNumberID: phone)
                lastChunk = nil
            }
            if let order = record.chunkOrder {
                if let last = lastChunk, last.phase == phase, last.chunkOrder == order {
                    history!.repeated.append((phase, order))
                } else {
                    history!.chunks[phase, default: []].append(order)
                }
                lastChunk = (phase, order)
            }
            history!.lastProgress = max(history!.lastProgress, record.progress ?? 0)
        case .message:
            try flushHistory(out)
            seq += 1
            record.seq = seq
        default:
            try flushHistory(out)
        }
        recordsOut += 1
        try out.put(record)
    }

    public mutating func finish(_ out: RecordOutlet) throws(IOError) {
        try flushHistory(out)
    }

    private mutating func flushHistory(_ out: RecordOutlet) throws(IOError) {
        guard let done = history else { return }
        history = nil
        lastChunk = nil
        reports.append(done)
        recordsOut += 1
        try out.put(done.record())
    }
}

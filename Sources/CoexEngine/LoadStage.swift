import CoexIO
import CoexJSON
import CoexKit
import CoexStore

/// Where and how the load stage writes.
public struct LoadSettings: Sendable {
    public var outDirectory: String
    /// The inputs the imports table names.
    public var inputs: [String]
    public var time: Int64
    /// Businesses loaded at once.
    public var threads: Int

    public init(outDirectory: String, inputs: [String], time: Int64, threads: Int) {
        self.outDirectory = outDirectory
        self.inputs = inputs
        self.time = time
        self.threads = max(1, threads)
    }
}

/// coex-load: records checked (those no database can store are rejected), sorted by
/// (business, `LoadOrder`), past its budget in sorted runs on disk; the identity facts
/// of the whole run gathered per business. At the end of input each business is
/// loaded (`BusinessLoad`, one transaction) on one of `threads` threads. Outcomes are
/// reported in business order, whatever order the loads end in.
public final class LoadStage: RecordStage {
    public static let name = StageName.load

    private let settings: LoadSettings
    private let spill: SpillSettings
    private let sorter: ExternalSorter
    private var identity: [String: IdentityFacts] = [:]
    private var arrivals: [String: [Int]] = [:]
    private var rejectedKinds: [String: [String: Int]] = [:]
    private var key: [UInt8] = []
    private var encoded: [UInt8] = []
    private var writer = JSONWriter(capacity: 4096)
    public private(set) var total = LoadCounts()
    public private(set) var databases = 0
    public private(set) var failedBusinesses = 0
    private var absorbedRuns = 0

    public init(_ settings: LoadSettings, spill: SpillSettings) {
        self.settings = settings
        self.spill = spill
        sorter = ExternalSorter(stage: Self.name.command, spill.share(2), prefixStart: LoadOrder.prefixStart)
    }

    public func take(_ record: Record, _ out: RecordOutlet) throws(IOError) {
        if let problem = LoadCheck.problem(with: record) {
            // Counted by kind in the business's counts; the raw bytes are the record's line.
            writer.reset()
            record.write(to: &writer)
            try out.reject(Reject(provenance: record.provenance, stage: Self.name.command, reason: problem, raw: writer.bytes))
            rejectedKinds[record.wabaID, default: [:]][record.kind.rawValue, default: 0] += 1
            return
        }
        identity[record.wabaID, default: IdentityFacts()].add(record)
        if record.kind == .message, let arrival = record.arrival { arrivals[record.wabaID, default: []].append(arrival) }
        // The sorter is stable: input order already breaks ties, the ordinal need not.
        LoadOrder.key(of: record, ordinal: 0, into: &key)
        encoded.removeAll(keepingCapacity: true)
        RecordCodec.encode(record, into: &encoded)
        try key.withBytes { key throws(IOError) in
            try encoded.withBytes { bytes throws(IOError) in try sorter.add(key: key, line: bytes) }
        }
    }

    public func finish(_ out: RecordOutlet) throws(IOError) {
        let loader = BusinessLoader(threads: settings.threads)
        // The businesses gathered and being loaded draw on the pool the sorter drains.
        let share = spill.share(2 * (settings.threads + 1))
        var gathering: (waba: [UInt8], records: RecordSpool)?
        func handOver() {
            guard let (wabaBytes, records) = gathering else { return }
            gathering = nil
            let waba = String(decoding: wabaBytes, as: UTF8.self)
            let job = BusinessJob(
                wabaID: waba, records: records, settings: settings,
                identity: identity.removeValue(forKey: waba) ?? IdentityFacts(),
                arrivals: Array(Set(arrivals.removeValue(forKey: waba) ?? [])).sorted(),
                rejected: rejectedKinds.removeValue(forKey: waba) ?? [:])
            loader.submit(waba) { job.run() }
            loader.reportFinished { report($0, $1, out) }
        }
        do throws(IOError) {
            try sorter.finish { key, bytes throws(IOError) in
                let waba = LoadOrder.business(key)
                if gathering == nil || !gathering!.waba.withUnsafeBytes({ equalBytes(waba, $0) }) {
                    handOver()
                    gathering = (Array(waba), RecordSpool(stage: Self.name, share))
                }
                try gathering!.records.append(encoded: bytes)
            }
            handOver()
        } catch {
            // Loads already started finish (and report) before the run ends with the error.
            loader.finish { report($0, $1, out) }
            throw error
        }
        loader.finish { report($0, $1, out) }
        // Businesses all of whose records were rejected have no database to note them in.
        for kinds in rejectedKinds.values {
            for (kind, n) in kinds { total.reject(kind, count: n) }
        }
        rejectedKinds = [:]
    }

    private func report(_ business: String, _ outcome: BusinessOutcome, _ out: RecordOutlet) {
        switch outcome {
        case .loaded(let counts):
            total.add(counts)
            databases += 1
            out.note("\(business).sqlite: \(counts.summary); \(counts.effects)", stage: Self.name)
        case .failed(let message):
            failedBusinesses += 1
            out.fail("\(business): \(message)", stage: Self.name)
        }
    }

    /// Adds another instance's counts (a stage run on another share of the businesses).
    public func absorb(_ other: LoadStage) {
        total.add(other.total)
        databases += other.databases
        failedBusinesses += other.failedBusinesses
        absorbedRuns += other.sorter.spilledRuns + other.absorbedRuns
    }

    public func summary(_ input: InputCounts) -> [String] {
        var line = "\(plural(input.lines, "line")) read: \(total.summary); "
            + "\(plural(databases, "database")) written to \(settings.outDirectory); "
            + "\(plural(input.rejected, "line")) rejected, \(input.blank) blank"
        if failedBusinesses > 0 { line += "; \(failedBusinesses) \(failedBusinesses == 1 ? "business" : "businesses") failed" }
        let runs = sorter.spilledRuns + absorbedRuns
        if runs > 0 { line += "; \(runs) sorted runs spilled past \(spill.label)" }
        return [line]
    }
}

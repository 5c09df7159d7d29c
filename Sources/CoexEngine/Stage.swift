import CoexIO
import CoexKit
import Synchronization

/// The stages of the pipe, in their order; each has an executable `coex-<name>`.
public enum StageName: String, Sendable, CaseIterable {
    case validate, normalize, dedupe, order, apply, load

    /// The executable, which is also the prefix of the stage's lines on stderr.
    public var command: String { "coex-\(rawValue)" }
}

/// Where a stage's records go: the next stage, or the NDJSON writer at a process edge.
/// Rejects and summary lines go beside them, to the run's rejects file and stderr.
public protocol RecordOutlet: AnyObject {
    func put(_ record: Record) throws(IOError)
    func reject(_ reject: Reject) throws(IOError)
    /// A line for stderr on behalf of `stage`.
    func note(_ line: String, stage: StageName)
    /// A line for stderr that fails the run (exit 1) when it ends; the work goes on.
    func fail(_ line: String, stage: StageName)
    /// The end of the stream: everything is put.
    func finish() throws(IOError)
}

/// The one shape of the stages after normalize: records in, one at a time; records out,
/// now or when the input ends (`finish`); counts for the summary. A stage that holds
/// state past its memory budget spills it to temporary files in its own store, so the
/// same stage object runs in a stage executable and in `coex import`.
public protocol RecordStage: AnyObject {
    static var name: StageName { get }
    /// Takes one record, in input order.
    func take(_ record: Record, _ out: RecordOutlet) throws(IOError)
    /// The input ended: emits what the stage held.
    func finish(_ out: RecordOutlet) throws(IOError)
    /// The stage's summary lines for stderr (the last one the totals), given what the
    /// reader in front of it counted.
    func summary(_ input: InputCounts) -> [String]
}

/// What the reader in front of a stage counted: lines (or records handed over in
/// process), and lines it rejected or skipped as blank.
public struct InputCounts: Sendable, Equatable {
    public var lines = 0
    public var rejected = 0
    public var blank = 0

    public init(lines: Int = 0, rejected: Int = 0, blank: Int = 0) {
        self.lines = lines
        self.rejected = rejected
        self.blank = blank
    }

    public mutating func add(_ other: InputCounts) {
        lines += other.lines
        rejected += other.rejected
        blank += other.blank
    }
}

/// A stage and the outlet after it, as an outlet itself: chaining `then` the way miller
/// chains verbs. `finish` finishes the stage, then the outlet.
public final class StageLink: RecordOutlet {
    public let stage: any RecordStage
    public let next: RecordOutlet
    /// Records handed to the stage (its input count inside a chain).
    public private(set) var taken = 0

    public init(_ stage: any RecordStage, then next: RecordOutlet) {
        self.stage = stage
        self.next = next
    }

    public func put(_ record: Record) throws(IOError) {
        taken += 1
        try stage.take(record, next)
    }

    public func reject(_ reject: Reject) throws(IOError) { try next.reject(reject) }
    public func note(_ line: String, stage: StageName) { next.note(line, stage: stage) }
    public func fail(_ line: String, stage: StageName) { next.fail(line, stage: stage) }

    public func finish() throws(IOError) {
        try stage.finish(next)
        try next.finish()
    }
}

/// The end of a chain that keeps nothing (the load stage writes databases, not records).
public final class DiscardingOutlet: RecordOutlet {
    private let rejects: (Reject) throws(IOError) -> Void
    private let notes: (String, StageName, Bool) -> Void

    /// `notes` takes each line, its stage and whether it fails the run.
    public init(rejects: @escaping (Reject) throws(IOError) -> Void, notes: @escaping (String, StageName, Bool) -> Void) {
        self.rejects = rejects
        self.notes = notes
    }

    public func put(_ record: Record) throws(IOError) {}
    public func reject(_ reject: Reject) throws(IOError) { try rejects(reject) }
    public func note(_ line: String, stage: StageName) { notes(line, stage, false) }
    public func fail(_ line: String, stage: StageName) { notes(line, stage, true) }
    public func finish() throws(IOError) {}
}

/// How much memory, and where to spill past it. The stores of one process draw on one
/// pool: whichever holds state now may use what the others do not (a stage's store fills
/// while the one before it drains), and a store that cannot grow spills.
public struct SpillSettings: Sendable {
    /// What one store sizes its buffers by (and, alone in a process, its share of the pool).
    public var budget: Int
    public var temporaryDirectory: String
    /// How summaries name the budget ("--memory 512MB").
    public var label: String
    public let pool: MemoryPool

    public init(budget: Int, temporaryDirectory: String, label: String) {
        // Tests spill at the smallest budgets; --memory itself is at least 1MB.
        self.budget = max(64 << 10, budget)
        self.temporaryDirectory = temporaryDirectory
        self.label = label
        // What batches, parsers and buffers need beside the stores stays out of the pool.
        pool = MemoryPool(capacity: self.budget - min(32 << 20, self.budget / 4))
    }

    private init(budget: Int, temporaryDirectory: String, label: String, pool: MemoryPool) {
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
        self.label = label
        self.pool = pool
    }

    /// The same pool, for one of `parts` stores that size their buffers by a share of it.
    public func share(_ parts: Int) -> SpillSettings {
        SpillSettings(budget: max(64 << 10, budget / max(1, parts)), temporaryDirectory: temporaryDirectory,
                      label: label, pool: pool)
    }
}

/// Bytes the stores of a process may hold, taken and given back as they grow and drain.
public final class MemoryPool: Sendable {
    public let capacity: Int
    private let used = Atomic<Int>(0)

    public init(capacity: Int) { self.capacity = capacity }

    public var inUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` when they fit beside what is taken; false when they do not.
    public func take(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= capacity else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    public func give(_ bytes: Int) { used.subtract(bytes, ordering: .relaxed) }
}

/// What one store has taken of the pool, grown in steps as the store grows. Up to its
/// floor a store needs nothing from the pool: with the pool taken by the others it still
/// works in runs of that size, instead of spilling at every record.
public struct MemoryClaim {
    private let pool: MemoryPool
    private let floor: Int
    public private(set) var taken = 0
    private static let step = 4 << 20

    public init(_ settings: SpillSettings) {
        pool = settings.pool
        floor = max(256 << 10, min(settings.budget / 4, 4 << 20))
    }

    /// Whether the store may hold `bytes`: takes more of the pool when needed.
    public mutating func cover(_ bytes: Int) -> Bool {
        let bytes = bytes - floor
        guard bytes > taken else { return true }
        let more = max(Self.step, bytes - taken)
        guard pool.take(more) else { return false }
        taken += more
        return true
    }

    /// The store spilled or drained: its memory goes back to the pool.
    public mutating func release() {
        pool.give(taken)
        taken = 0
    }
}

/// "1 history report", "3 history reports".
public func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

import CoexIO
import CoexJSON
import CoexKit

/// Sorts records by a byte key within a memory budget: sorted runs spill to
/// temporary files and merge at the end. Stable: equal keys keep input order.
public final class ExternalSorter {
    private struct Item {
        var key: [UInt8]
        var index: Int
        var record: Record
    }

    private let budget: Int
    private let temporaryDirectory: String
    private let stage: String
    private let keyOf: (Record) -> [UInt8]
    private var items: [Item] = []
    private var bytes = 0
    private var inputIndex = 0
    private var spill: SpillDirectory?
    private var runs: [String] = []
    private var writer = JSONWriter(capacity: 1 << 20)

    public var spilledRuns: Int { runs.count }

    public init(stage: String, budget: Int, temporaryDirectory: String, key: @escaping (Record) -> [UInt8]) {
        self.stage = stage
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
        keyOf = key
    }

    public func add(_ record: Record) throws(IOError) {
        let key = keyOf(record)
        bytes += Deduplicator.size(record) + key.count + 64
        items.append(Item(key: key, index: inputIndex, record: record))
        inputIndex += 1
        if bytes > budget { try writeRun() }
    }

    /// Calls `emit` with every record in key order.
    public func finish(_ emit: (Record) throws(IOError) -> Void) throws(IOError) {
        if runs.isEmpty {
            sortItems()
            for item in items { try emit(item.record) }
            items.removeAll()
            return
        }
        try writeRun()
        try merge(emit)
    }

    private func sortItems() {
        items.sort { a, b in
            a.key.lexicographicallyPrecedes(b.key) || (a.key == b.key && a.index < b.index)
        }
    }

    private func writeRun() throws(IOError) {
        guard !items.isEmpty else { return }
        if spill == nil { spill = try SpillDirectory(in: temporaryDirectory, prefix: stage) }
        sortItems()
        let path = spill!.file("run-\(runs.count)")
        let sink = try OutputSink.creating(path)
        for item in items {
            item.record.write(to: &writer)
            writer.newline()
            if writer.bytes.count >= 1 << 20 {
                try sink.write(writer.bytes)
                writer.reset()
            }
        }
        try sink.write(writer.bytes)
        writer.reset()
        try sink.flush()
        runs.append(path)
        items.removeAll(keepingCapacity: true)
        bytes = 0
    }

    /// A k-way merge; on equal keys the earlier run (earlier input) goes first.
    private func merge(_ emit: (Record) throws(IOError) -> Void) throws(IOError) {
        final class Run {
            let lines: LineReader
            var reader: RecordReader
            var head: (key: [UInt8], record: Record)?
            init(_ lines: LineReader, stage: String) {
                self.lines = lines
                reader = RecordReader(stage: stage)
            }
        }
        var open: [Run] = []
        var rejects: [Reject] = []
        func advance(_ run: Run) throws(IOError) {
            run.head = nil
            while let line = try run.lines.next() {
                if let record = run.reader.read(line.bytes, padded: true,
                                                provenance: Provenance(source: "run", line: line.number), rejects: &rejects) {
                    run.head = (keyOf(record), record)
                    return
                }
            }
        }
        for path in runs {
            let run = Run(LineReader(source: try FileSource(path: path)), stage: stage)
            try advance(run)
            open.append(run)
        }
        while true {
            var best: Run?
            for run in open {
                guard let head = run.head else { continue }
                if best == nil || head.key.lexicographicallyPrecedes(best!.head!.key) { best = run }
            }
            guard let run = best else { break }
            try emit(run.head!.record)
            try advance(run)
        }
    }
}

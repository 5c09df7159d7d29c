import CoexIO
import CoexJSON
import CoexKit
#if canImport(Glibc)
import Glibc
#endif

/// Sorts lines by a byte key within a memory budget: keys and lines sit in one
/// arena; past the budget a sorted run is written to a temporary file, and the
/// runs merge at the end. Stable: equal keys keep input order.
public final class ExternalSorter {
    private struct Entry {
        var offset: Int
        var keyLength: Int32
        var lineLength: Int32
    }

    private let budget: Int
    private let temporaryDirectory: String
    private let stage: String
    private var arena: [UInt8] = []
    private var entries: [Entry] = []
    private var spill: SpillDirectory?
    private var runs: [String] = []

    public var spilledRuns: Int { runs.count }

    public init(stage: String, budget: Int, temporaryDirectory: String) {
        self.stage = stage
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    public func add(key: [UInt8], line: UnsafeRawBufferPointer) throws(IOError) {
        let offset = arena.count
        arena.append(contentsOf: key)
        arena.append(contentsOf: line)
        entries.append(Entry(offset: offset, keyLength: Int32(key.count), lineLength: Int32(line.count)))
        // Half the budget: growing the arena briefly needs the old and the new copy.
        if (arena.capacity + entries.capacity * MemoryLayout<Entry>.stride) * 2 > budget { try writeRun() }
    }

    /// Calls `emit` with every line in key order.
    public func finish(_ emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        if runs.isEmpty {
            sortEntries()
            try arena.withBytes { bytes throws(IOError) in
                for e in entries {
                    let start = e.offset + Int(e.keyLength)
                    try emit(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(e.lineLength))]))
                }
            }
            entries = []
            arena = []
            return
        }
        try writeRun()
        try merge(emit)
    }

    private func sortEntries() {
        // Sorting indices keeps equal keys in input order (the index breaks ties).
        var order = Array(entries.indices)
        arena.withUnsafeBytes { bytes in
            let base = bytes.baseAddress!
            order.sort { i, j in
                let a = entries[i]
                let b = entries[j]
                let n = Int(min(a.keyLength, b.keyLength))
                let c = memcmp(base + a.offset, base + b.offset, n)
                if c != 0 { return c < 0 }
                if a.keyLength != b.keyLength { return a.keyLength < b.keyLength }
                return i < j
            }
        }
        entries = order.map { entries[$0] }
    }

    private func writeRun() throws(IOError) {
        guard !entries.isEmpty else { return }
        if spill == nil { spill = try SpillDirectory(in: temporaryDirectory, prefix: stage) }
        sortEntries()
        let path = spill!.file("run-\(runs.count)")
        let sink = try OutputSink.creating(path)
        var header = [UInt8](repeating: 0, count: 8)
        for e in entries {
            withUnsafeBytes(of: UInt32(e.keyLength).littleEndian) { header.replaceSubrange(0..<4, with: $0) }
            withUnsafeBytes(of: UInt32(e.lineLength).littleEndian) { header.replaceSubrange(4..<8, with: $0) }
            try sink.write(header)
            try arena.withBytes { bytes throws(IOError) in
                try sink.write(UnsafeRawBufferPointer(rebasing: bytes[e.offset..<(e.offset + Int(e.keyLength + e.lineLength))]))
            }
        }
        try sink.flush()
        runs.append(path)
        entries = []
        arena = []
    }

    /// A k-way merge; on equal keys the earlier run (earlier input) goes first.
    private func merge(_ emit: (UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        final class Run {
            let reader: BufferedReader
            var key: [UInt8] = []
            var line: [UInt8] = []
            var live = false
            init(_ reader: BufferedReader) { self.reader = reader }

            func advance() throws(IOError) {
                var header: [UInt8] = []
                live = try reader.read(8, into: &header)
                guard live else { return }
                let keyLength = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
                let lineLength = Int(UInt32(header[4]) | UInt32(header[5]) << 8 | UInt32(header[6]) << 16 | UInt32(header[7]) << 24)
                key.removeAll(keepingCapacity: true)
                line.removeAll(keepingCapacity: true)
                _ = try reader.read(keyLength, into: &key)
                _ = try reader.read(lineLength, into: &line)
            }
        }
        var open: [Run] = []
        for path in runs {
            let run = Run(BufferedReader(source: try FileSource(path: path)))
            try run.advance()
            open.append(run)
        }
        while true {
            var best: Run?
            for run in open where run.live {
                if best == nil || run.key.lexicographicallyPrecedes(best!.key) { best = run }
            }
            guard let run = best else { break }
            try run.line.withBytes { bytes throws(IOError) in try emit(bytes) }
            try run.advance()
        }
    }
}

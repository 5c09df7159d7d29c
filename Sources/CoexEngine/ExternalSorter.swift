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
        var slot: ByteArena.Slot
        var keyLength: Int32
        /// The key's first 8 bytes after `prefixStart`, big-endian: comparing these
        /// integers orders like memcmp on those bytes, and settles most comparisons.
        var prefix: UInt64
        var prefixStart: Int32
    }

    private let budget: Int
    private let temporaryDirectory: String
    private let stage: String
    private let arena: ByteArena
    private var entries: [Entry] = []
    private var spill: SpillDirectory?
    private var runs: [String] = []

    /// Sorted runs written to disk (before any merging of runs).
    public private(set) var spilledRuns = 0

    /// Where the cheap integer prefix of each key starts (keys usually share a first part,
    /// such as a business id, that compares equal most of the time).
    private let prefixStart: (UnsafeRawBufferPointer) -> Int

    /// What the arena and the entry table have taken of the pool.
    private var claim: MemoryClaim

    public init(
        stage: String, _ settings: SpillSettings,
        prefixStart: @escaping (UnsafeRawBufferPointer) -> Int = { _ in 0 }
    ) {
        self.prefixStart = prefixStart
        budget = settings.budget
        arena = ByteArena(chunkSize: min(ByteArena.defaultChunkSize, max(64 << 10, budget / 8)))
        self.stage = stage
        temporaryDirectory = settings.temporaryDirectory
        claim = MemoryClaim(settings)
    }

    deinit { claim.release() }

    public func add(key: UnsafeRawBufferPointer, line: UnsafeRawBufferPointer) throws(IOError) {
        let slot = arena.append(key, line)
        var prefix: UInt64 = 0
        let start = min(prefixStart(key), key.count)
        for i in 0..<8 { prefix = prefix << 8 | UInt64(start + i < key.count ? key[start + i] : 0) }
        entries.append(Entry(slot: slot, keyLength: Int32(key.count), prefix: prefix, prefixStart: Int32(start)))
        // The entry table doubles as it grows (and sorting copies it): count it twice.
        let held = arena.capacity + entries.capacity * MemoryLayout<Entry>.stride * 3
        if !claim.cover(held) { try writeRun() }
    }

    /// Calls `emit` with every key and line in key order.
    public func finish(_ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(IOError) -> Void) throws(IOError) {
        if runs.isEmpty {
            sortEntries()
            for e in entries {
                let bytes = arena.bytes(e.slot)
                try emit(UnsafeRawBufferPointer(rebasing: bytes[..<Int(e.keyLength)]),
                         UnsafeRawBufferPointer(rebasing: bytes[Int(e.keyLength)...]))
            }
            entries = []
            arena.removeAll()
            claim.release()
            return
        }
        try writeRun()
        // Merge at most `fanIn` runs at once (each holds a file open and a buffer):
        // earlier runs first, so that equal keys keep input order.
        while runs.count > fanIn {
            let group = Array(runs.prefix(fanIn))
            let path = spill!.file("run-\(runCounter)")
            runCounter += 1
            let sink = try OutputSink.creating(path)
            var record: [UInt8] = []
            try merge(group) { key, line throws(IOError) in
                record.removeAll(keepingCapacity: true)
                withUnsafeBytes(of: UInt32(key.count).littleEndian) { record.append(contentsOf: $0) }
                withUnsafeBytes(of: UInt32(line.count).littleEndian) { record.append(contentsOf: $0) }
                record.append(contentsOf: key)
                record.append(contentsOf: line)
                try sink.write(record)
            }
            try sink.flush()
            for done in group { unlink(done) }
            runs = [path] + runs.dropFirst(fanIn)
        }
        try merge(runs, emit)
    }

    /// Runs merged at once, and the read buffer of each: together at most a quarter
    /// of the budget (fewer, smaller when the budget is small).
    private var fanIn: Int { max(16, min(64, budget / (4 * 64 << 10))) }
    private var readBuffer: Int { max(4096, min(1 << 20, budget / (4 * fanIn))) }
    private var runCounter = 0

    private func sortEntries() {
        // The comparator reads only locals: class properties there cost an exclusivity
        // check per access, a tenth of the sort. The arena does not move while sorting.
        let table = entries
        let bases = table.map { arena.bytes($0.slot).baseAddress! }
        // Sorting indices keeps equal keys in input order (the index breaks ties).
        var order = Array(table.indices)
        // memcmp of whole keys up to the prefix, then the prefix, then the rest:
        // the same order as memcmp of whole keys, at a fraction of the cost.
        table.withUnsafeBufferPointer { table in
            bases.withUnsafeBufferPointer { bases in
                order.sort { i, j in
                    let a = table[i]
                    let b = table[j]
                    let x = bases[i]
                    let y = bases[j]
                    let lengthA = Int(a.keyLength)
                    let lengthB = Int(b.keyLength)
                    let startA = Int(a.prefixStart)
                    let startB = Int(b.prefixStart)
                    if startA != startB || lengthA < startA + 8 || lengthB < startB + 8 || memcmp(x, y, startA) != 0 {
                        let n = min(lengthA, lengthB)
                        let c = memcmp(x, y, n)
                        if c != 0 { return c < 0 }
                        return lengthA != lengthB ? lengthA < lengthB : i < j
                    }
                    if a.prefix != b.prefix { return a.prefix < b.prefix }
                    let restA = lengthA - startA - 8
                    let restB = lengthB - startB - 8
                    if restA > 0 && restB > 0 {
                        let c = memcmp(x + startA + 8, y + startB + 8, min(restA, restB))
                        if c != 0 { return c < 0 }
                    }
                    if lengthA != lengthB { return lengthA < lengthB }
                    return i < j
                }
            }
        }
        entries = order.map { table[$0] }
    }

    private func writeRun() throws(IOError) {
        guard !entries.isEmpty else { return }
        if spill == nil { spill = try SpillDirectory(in: temporaryDirectory, prefix: stage) }
        sortEntries()
        let path = spill!.file("run-\(runCounter)")
        runCounter += 1
        spilledRuns += 1
        let sink = try OutputSink.creating(path, bufferSize: readBuffer)
        var record: [UInt8] = []
        for e in entries {
            record.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: UInt32(e.keyLength).littleEndian) { record.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(e.slot.length - Int(e.keyLength)).littleEndian) { record.append(contentsOf: $0) }
            record.append(contentsOf: arena.bytes(e.slot))
            try sink.write(record)
        }
        try sink.flush()
        runs.append(path)
        entries = []
        arena.removeAll()
        claim.release()
    }

    /// A k-way merge; on equal keys the earlier run (earlier input) goes first.
    private func merge(
        _ runs: [String], _ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(IOError) -> Void
    ) throws(IOError) {
        final class Run {
            let reader: BufferedReader
            var key: [UInt8] = []
            var line: [UInt8] = []
            var live = false
            private var header: [UInt8] = []
            init(_ reader: BufferedReader) { self.reader = reader }

            func advance() throws(IOError) {
                header.removeAll(keepingCapacity: true)
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
            let run = Run(BufferedReader(source: try FileSource(path: path), capacity: readBuffer))
            try run.advance()
            open.append(run)
        }
        while true {
            var best: Run?
            for run in open where run.live {
                if let current = best, !Self.precedes(run.key, current.key) { continue }
                best = run
            }
            guard let run = best else { break }
            try run.key.withBytes { key throws(IOError) in
                try run.line.withBytes { line throws(IOError) in try emit(key, line) }
            }
            try run.advance()
        }
    }

    /// memcmp order of two keys (a shorter key first when it is a prefix of the other).
    private static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        let c = n == 0 ? 0 : a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, n) } }
        return c != 0 ? c < 0 : a.count < b.count
    }
}

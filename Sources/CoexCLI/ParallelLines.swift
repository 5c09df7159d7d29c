import CoexIO
import CoexJSON
import CoexKit
import Dispatch

/// A stage's per-line work, done by one of several workers on its own share of
/// each batch. A worker owns its parser and buffers; the driver writes the
/// workers' output in line order after every batch.
public protocol LineWorker: AnyObject {
    /// `bytes` is followed by at least `JSONParser.padding` readable bytes.
    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance)
    /// Writes what the batch produced (output, rejects) and forgets it.
    func drain(into io: StageIO) throws(IOError)
}

/// Lines copied out of the reader so that several workers can parse them at once.
private final class LineBatch: @unchecked Sendable {
    struct Entry {
        var offset: Int
        var count: Int
        var number: Int
        var source: Int
    }

    var bytes: [UInt8] = []
    var entries: [Entry] = []
    var sources: [String] = []

    func add(_ line: Line, source: String) {
        if sources.last != source { sources.append(source) }
        entries.append(Entry(offset: bytes.count, count: line.bytes.count, number: line.number,
                             source: sources.count - 1))
        bytes.append(contentsOf: line.bytes)
        bytes.append(0x0A)
    }

    func reset() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        if let last = sources.last { sources = [last] }
    }
}

private final class WorkerBox<W: LineWorker>: @unchecked Sendable {
    let workers: [W]
    init(_ workers: [W]) { self.workers = workers }
}

extension StageIO {
    /// Like `forEachLine`, with the lines of each batch (about `batchBytes` of
    /// input) shared among `workers` running at the same time. Memory stays at
    /// one batch plus what the workers produce from it.
    public func forEachLineInParallel<W: LineWorker>(
        _ inputs: [String], workers: [W], batchBytes: Int = 2 << 20
    ) throws(IOError) {
        if workers.count == 1 {
            let worker = workers[0]
            try forEachLine(inputs) { line, source throws(IOError) in
                worker.process(line.bytes, provenance: Provenance(source: source, line: line.number))
                try worker.drain(into: self)
            }
            return
        }
        let batch = LineBatch()
        let box = WorkerBox(workers)
        func run() throws(IOError) {
            guard !batch.entries.isEmpty else { return }
            // simdjson reads up to 64 bytes past a line: the batch ends in padding.
            batch.bytes.append(contentsOf: repeatElement(0, count: JSONParser.padding))
            let shares = Self.split(batch, parts: box.workers.count)
            batch.bytes.withUnsafeBytes { buffer in
                // The buffer outlives the parallel loop below, which only reads it.
                nonisolated(unsafe) let base = UnsafeRawBufferPointer(buffer)
                DispatchQueue.concurrentPerform(iterations: shares.count) { part in
                    let worker = box.workers[part]
                    for e in batch.entries[shares[part]] {
                        let line = UnsafeRawBufferPointer(rebasing: base[e.offset..<(e.offset + e.count)])
                        worker.process(line, provenance: Provenance(source: batch.sources[e.source], line: e.number))
                    }
                }
            }
            // The workers hold pointers into the batch: it is cleared only after they
            // drained, and not reused at all when a drain fails (the run ends).
            for part in shares.indices { try box.workers[part].drain(into: self) }
            batch.reset()
        }
        try forEachLine(inputs) { line, source throws(IOError) in
            // A line bigger than a batch (a huge history chunk) is not copied: the
            // batch before it goes first, then the line straight from the reader.
            if line.bytes.count >= batchBytes {
                try run()
                let worker = box.workers[0]
                worker.process(line.bytes, provenance: Provenance(source: source, line: line.number))
                try worker.drain(into: self)
                return
            }
            batch.add(line, source: source)
            if batch.bytes.count >= batchBytes { try run() }
        }
        try run()
    }

    /// Contiguous ranges of entries with about the same number of bytes each.
    private static func split(_ batch: LineBatch, parts: Int) -> [Range<Int>] {
        let total = batch.entries.last.map { $0.offset + $0.count } ?? 0
        var ranges: [Range<Int>] = []
        var start = 0
        for part in 1...parts {
            let target = total * part / parts
            var end = start
            while end < batch.entries.count && (part == parts || batch.entries[end].offset < target) { end += 1 }
            ranges.append(start..<end)
            start = end
        }
        return ranges.filter { !$0.isEmpty }
    }
}

/// Workers to use: one per core, at most 8.
public func defaultWorkerCount() -> Int {
    min(8, max(1, System.coreCount))
}

enum System {
    static var coreCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 2
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

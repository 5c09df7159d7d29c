import CoexIO
import CoexJSON
import CoexKit
import Dispatch

/// Sorted lines parsed into records one batch ahead, on another thread: parsing the
/// next batch overlaps with loading the current one into SQLite (which runs on the
/// caller's thread, one record at a time, in order).
final class RecordPipeline {
    private final class Batch: @unchecked Sendable {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var records: [Result<Record, any Error>] = []
    }

    private let queue = DispatchQueue(label: "coex-load.parse")
    private var filling = Batch()
    private var started: (batch: Batch, done: DispatchSemaphore)?
    private let batchBytes: Int
    private let consume: (Result<Record, any Error>) throws(IOError) -> Void

    init(batchBytes: Int = 4 << 20, consume: @escaping (Result<Record, any Error>) throws(IOError) -> Void) {
        self.batchBytes = batchBytes
        self.consume = consume
    }

    func add(_ line: UnsafeRawBufferPointer) throws(IOError) {
        filling.bytes.append(contentsOf: line)
        filling.ends.append(filling.bytes.count)
        if filling.bytes.count >= batchBytes { try cycle() }
    }

    /// Consumes everything added.
    func finish() throws(IOError) {
        try cycle()
        try consumeStarted()
    }

    /// Starts parsing the filled batch, then consumes the one started before it.
    private func cycle() throws(IOError) {
        let next = filling
        filling = Batch()
        let done = DispatchSemaphore(value: 0)
        queue.async {
            Self.parse(next)
            done.signal()
        }
        try consumeStarted()
        started = (next, done)
    }

    private func consumeStarted() throws(IOError) {
        guard let (batch, done) = started else { return }
        started = nil
        done.wait()
        // Records are large values: moved out one by one (popLast) rather than copied.
        var records = batch.records
        batch.records = []
        records.reverse()
        while let record = records.popLast() { try consume(record) }
    }

    private static func parse(_ batch: Batch) {
        // simdjson reads up to `padding` bytes past a line: the next lines, then zeros.
        batch.bytes.append(contentsOf: repeatElement(0, count: JSONParser.padding))
        let parser = JSONParser()
        batch.records.reserveCapacity(batch.ends.count)
        batch.bytes.withUnsafeBytes { all in
            var start = 0
            for end in batch.ends {
                let line = UnsafeRawBufferPointer(rebasing: all[start..<end])
                start = end
                batch.records.append(Result { try Record(json: try parser.parse(line, padded: true)) })
            }
        }
    }
}

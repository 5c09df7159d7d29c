import CoexIO
import CoexJSON
import CoexKit

/// Parses its share of a batch into records; `drain` hands them, in input order,
/// to a stage that must see every record in sequence (dedupe, order, apply).
public final class RecordWorker: LineWorker {
    public var reader: RecordReader
    var records: [Record] = []
    var rejects: [Reject] = []
    let consume: ([Record], StageIO) throws(IOError) -> Void

    public init(stage: String, consume: @escaping ([Record], StageIO) throws(IOError) -> Void) {
        reader = RecordReader(stage: stage)
        self.consume = consume
    }

    public func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        if let record = reader.read(bytes, padded: true, provenance: provenance, rejects: &rejects) {
            records.append(record)
        }
    }

    public func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(records, io)
        records.removeAll(keepingCapacity: true)
    }
}

/// Writes records as NDJSON to the stage's stdout.
public struct RecordOutput {
    private var writer = JSONWriter(capacity: 1 << 20)
    public private(set) var count = 0

    public init() {}

    public mutating func write(_ records: [Record], to io: StageIO) throws(IOError) {
        for i in records.indices {
            records[i].write(to: &writer)
            writer.newline()
        }
        count += records.count
        if writer.bytes.count >= 1 << 20 { try flush(to: io) }
    }

    public mutating func flush(to io: StageIO) throws(IOError) {
        try io.output.write(writer.bytes)
        writer.reset()
    }
}

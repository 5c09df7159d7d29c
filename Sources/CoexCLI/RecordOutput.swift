import CoexIO
import CoexJSON
import CoexKit

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

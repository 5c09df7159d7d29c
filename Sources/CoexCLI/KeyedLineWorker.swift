import CoexIO
import CoexJSON
import CoexKit

/// Parses its share of a batch and computes a key per record; the lines stay in
/// the batch and are handed, in input order, to `consume` with their keys.
public final class KeyedLineWorker: LineWorker {
    public var reader: RecordReader
    var keys: [[UInt8]] = []
    var lines: [UnsafeRawBufferPointer] = []
    var rejects: [Reject] = []
    var scratch: [UInt8] = []
    let key: (RecordView, inout [UInt8]) -> Void
    let consume: ([[UInt8]], [UnsafeRawBufferPointer]) throws(IOError) -> Void

    public init(
        stage: String, key: @escaping (RecordView, inout [UInt8]) -> Void,
        consume: @escaping ([[UInt8]], [UnsafeRawBufferPointer]) throws(IOError) -> Void
    ) {
        reader = RecordReader(stage: stage)
        self.key = key
        self.consume = consume
    }

    public func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        guard let view = reader.view(bytes, padded: true, provenance: provenance, rejects: &rejects) else { return }
        key(view, &scratch)
        keys.append(scratch)
        lines.append(bytes)
    }

    public func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(keys, lines)
        keys.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
    }
}

import CoexIO
import CoexJSON
import CoexKit

/// Parses its share of a batch and computes a key per record; the lines stay in
/// the batch and are handed, in input order, to `consume` with their keys (end to
/// end in one buffer, with the end offset of each).
public final class KeyedLineWorker: LineWorker {
    public var reader: RecordReader
    /// Keys end to end; `keyEnds[i]` is where key i ends.
    var keys: [UInt8] = []
    var keyEnds: [Int] = []
    var lines: [UnsafeRawBufferPointer] = []
    var rejects: [Reject] = []
    var scratch: [UInt8] = []
    let key: (RecordView, inout [UInt8]) -> Void
    let consume: (UnsafeRawBufferPointer, [Int], [UnsafeRawBufferPointer]) throws(IOError) -> Void

    public init(
        stage: String, key: @escaping (RecordView, inout [UInt8]) -> Void,
        consume: @escaping (UnsafeRawBufferPointer, [Int], [UnsafeRawBufferPointer]) throws(IOError) -> Void
    ) {
        reader = RecordReader(stage: stage)
        self.key = key
        self.consume = consume
    }

    public func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        guard let view = reader.view(bytes, padded: true, provenance: provenance, rejects: &rejects) else { return }
        key(view, &scratch)
        keys.append(contentsOf: scratch)
        keyEnds.append(keys.count)
        lines.append(bytes)
    }

    public func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try keys.withBytes { flat throws(IOError) in try consume(flat, keyEnds, lines) }
        keys.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
    }
}

import CoexJSON

/// Reads normalized records, one per line, for the stages after coex-normalize.
public struct RecordReader {
    public let stage: String
    public private(set) var lines = 0
    public private(set) var blank = 0
    public private(set) var rejected = 0
    private let parser = JSONParser()

    public init(stage: String) { self.stage = stage }

    /// The record of a line, or nil (a blank line, or a reject appended to `rejects`).
    public mutating func read(
        _ bytes: UnsafeRawBufferPointer, padded: Bool, provenance: Provenance, rejects: inout [Reject],
        rawJSON: Bool = true
    ) -> Record? {
        guard let value = value(bytes, padded: padded, provenance: provenance, rejects: &rejects) else { return nil }
        do {
            return try Record(json: value, rawJSON: rawJSON)
        } catch {
            rejected += 1
            rejects.append(Reject(provenance: provenance, stage: stage,
                                  reason: "not a coex record: \(error.description)", raw: Array(bytes)))
            return nil
        }
    }

    /// The JSON of a line, counted: nil for a blank line, or a reject when it is not JSON.
    private mutating func value(
        _ bytes: UnsafeRawBufferPointer, padded: Bool, provenance: Provenance, rejects: inout [Reject]
    ) -> JSONValue? {
        lines += 1
        if isBlank(bytes) {
            blank += 1
            return nil
        }
        guard let value = parser.parse(line: bytes, padded: padded, provenance: provenance, stage: stage,
                                       rejects: &rejects)
        else {
            rejected += 1
            return nil
        }
        return value
    }

    /// Counts a line the caller rejected after reading it.
    public mutating func countRejected() { rejected += 1 }

    public mutating func add(_ other: RecordReader) {
        lines += other.lines
        blank += other.blank
        rejected += other.rejected
    }
}

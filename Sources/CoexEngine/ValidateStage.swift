import CoexJSON
import CoexKit

public struct ValidateCounts: Sendable, Equatable {
    public var lines = 0
    public var valid = 0
    public var rejected = 0
    public var blank = 0
    /// Bad records dropped from lines that passed.
    public var rejectedRecords = 0
    public init() {}

    public mutating func add(_ other: Self) {
        lines += other.lines
        valid += other.valid
        rejected += other.rejected
        blank += other.blank
        rejectedRecords += other.rejectedRecords
    }
}

/// coex-validate, one line at a time: a valid line becomes an envelope, a bad
/// line or record a reject.
public struct ValidateStage {
    public static let name = StageName.validate
    public var counts = ValidateCounts()
    private let parser = JSONParser()

    public init() {}

    /// `padded`: `JSONParser.padding` readable bytes follow `bytes`.
    public mutating func process(
        _ bytes: UnsafeRawBufferPointer, padded: Bool, provenance: Provenance,
        output: inout JSONWriter, rejects: inout [Reject],
        bodyOut: ((UnsafeRawBufferPointer) -> Void)? = nil
    ) {
        counts.lines += 1
        if isBlank(bytes) {
            counts.blank += 1
            return
        }
        guard let root = parser.parse(line: bytes, padded: padded, provenance: provenance, stage: Self.name.command,
                                      rejects: &rejects)
        else {
            counts.rejected += 1
            return
        }
        switch WebhookValidator.check(root) {
        case .rejected(let reason, let path):
            counts.rejected += 1
            rejects.append(Reject(provenance: provenance, stage: Self.name.command, reason: reason, path: path, raw: Array(bytes)))
        case .valid(let dropped):
            counts.valid += 1
            counts.rejectedRecords += dropped.count
            // One copy of the line, shared by its rejects (arrays share storage until written).
            let raw = dropped.isEmpty ? [] : Array(bytes)
            for bad in dropped {
                rejects.append(Reject(provenance: provenance, stage: Self.name.command, reason: bad.reason, path: bad.path,
                                      raw: raw))
            }
            if let bodyOut {
                // The caller writes the body itself: a huge line is never copied here.
                Envelope.writeHead(provenance: provenance, dropped: dropped.count, to: &output)
                bodyOut(trimmed(bytes))
            } else {
                Envelope.write(provenance: provenance, dropped: dropped.count, body: trimmed(bytes), to: &output)
                output.newline()
            }
        }
    }
}

/// The line without surrounding whitespace, so the envelope stays one compact line.
func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    var start = 0
    var end = bytes.count
    func space(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
    while start < end && space(bytes[start]) { start += 1 }
    while end > start && space(bytes[end - 1]) { end -= 1 }
    return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
}

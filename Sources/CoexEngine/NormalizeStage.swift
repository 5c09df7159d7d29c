import CoexJSON
import CoexKit

public struct NormalizeStageCounts: Sendable, Equatable {
    public var lines = 0
    /// Lines that became records (envelopes, or raw bodies that passed validation).
    public var normalized = 0
    public var rejected = 0
    public var blank = 0
    /// Records validation already dropped from envelopes (reported by coex-validate).
    public var droppedUpstream = 0
    /// Bad records of raw (unvalidated) lines, rejected here.
    public var rejectedRecords = 0
    public init() {}

    public mutating func add(_ other: Self) {
        lines += other.lines
        normalized += other.normalized
        rejected += other.rejected
        blank += other.blank
        droppedUpstream += other.droppedUpstream
        rejectedRecords += other.rejectedRecords
    }
}

/// coex-normalize, one line at a time. Takes coex-validate's envelopes, or raw
/// webhook bodies, which it then validates itself so that nothing bad slips through.
public struct NormalizeStage {
    public static let name = StageName.normalize
    public var counts = NormalizeStageCounts()
    public var normalizer = Normalizer()
    private let parser = JSONParser()

    public init() {}

    public mutating func process(
        _ bytes: UnsafeRawBufferPointer, padded: Bool, provenance: Provenance,
        records: inout [Record], rejects: inout [Reject]
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
        if let envelope = Envelope.read(root) {
            // An envelope is trusted only as far as it checks out: its body must be a
            // webhook, and its bad records exactly those coex-validate counted.
            if let reason = WebhookValidator.checkEnvelope(envelope.body) {
                counts.rejected += 1
                rejects.append(Reject(provenance: envelope.provenance, stage: Self.name.command, reason: reason,
                                      raw: Array(bytes)))
                return
            }
            let start = records.count
            let countsBefore = normalizer.counts
            normalizer.normalize(envelope.body, provenance: envelope.provenance, into: &records)
            let bad = normalizer.counts.badRecords - countsBefore.badRecords
            normalizer.counts.badRecords = countsBefore.badRecords
            if bad == envelope.dropped {
                counts.normalized += 1
                counts.droppedUpstream += envelope.dropped
                return
            }
            judge(envelope.body, bytes: bytes, provenance: envelope.provenance, start: start,
                  countsBefore: countsBefore, records: &records, rejects: &rejects)
            return
        }
        // Normalizing checks every record as it goes; the full validation walk,
        // which finds paths and reasons, is needed only when something was bad.
        let start = records.count
        let badBefore = normalizer.counts.badRecords
        if let reason = WebhookValidator.checkEnvelope(root) {
            counts.rejected += 1
            rejects.append(Reject(provenance: provenance, stage: Self.name.command, reason: reason, raw: Array(bytes)))
            return
        }
        let countsBefore = normalizer.counts
        normalizer.normalize(root, provenance: provenance, into: &records)
        guard normalizer.counts.badRecords != badBefore else {
            counts.normalized += 1
            return
        }
        normalizer.counts.badRecords = badBefore
        judge(root, bytes: bytes, provenance: provenance, start: start, countsBefore: countsBefore,
              records: &records, rejects: &rejects)
    }

    /// Full validation of a body whose records were not all good: the line is
    /// rejected whole (its records taken back), or its bad records one by one.
    private mutating func judge(
        _ body: JSONValue, bytes: UnsafeRawBufferPointer, provenance: Provenance, start: Int,
        countsBefore: NormalizeCounts, records: inout [Record], rejects: inout [Reject]
    ) {
        switch WebhookValidator.check(body) {
        case .rejected(let reason, let path):
            // Nothing of a rejected line goes out, nor is counted as out.
            records.removeSubrange(start...)
            normalizer.counts = countsBefore
            counts.rejected += 1
            rejects.append(Reject(provenance: provenance, stage: Self.name.command, reason: reason, path: path, raw: Array(bytes)))
        case .valid(let dropped):
            counts.normalized += 1
            counts.rejectedRecords += dropped.count
            // One copy of the line, shared by its rejects (arrays share storage until written).
            let raw = dropped.isEmpty ? [] : Array(bytes)
            for bad in dropped {
                rejects.append(Reject(provenance: provenance, stage: Self.name.command, reason: bad.reason, path: bad.path,
                                      raw: raw))
            }
        }
    }
}

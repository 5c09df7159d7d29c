import CoexCLI
import CoexIO
import CoexJSON
import CoexKit
import CoexStore

/// Parses its share of a batch: each record is checked (records coex-load cannot store
/// become rejects), keyed in load order, and its identity facts are collected per
/// business, so that every row of the run can be written with the identity the whole
/// run establishes. The lines stay in the batch and go to the sorter in input order.
final class LoadWorker: LineWorker {
    var reader = RecordReader(stage: "coex-load")
    var rejects: [Reject] = []
    /// Keys end to end; `keyEnds[i]` is where key i ends.
    var keys: [UInt8] = []
    var keyEnds: [Int] = []
    var lines: [UnsafeRawBufferPointer] = []
    var identity: [String: IdentityFacts] = [:]
    /// The arrival of every message record, per business.
    var arrivals: [String: [Int]] = [:]
    /// Records rejected by kind, per business (unsafe ids under their own name).
    var rejectedKinds: [String: [String: Int]] = [:]
    private var scratch: [UInt8] = []
    let consume: (LoadWorker) throws(IOError) -> Void

    init(consume: @escaping (LoadWorker) throws(IOError) -> Void) {
        self.consume = consume
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        // Keys and identity need no content: it is read (and stored) in the second pass.
        guard let record = reader.read(bytes, padded: true, provenance: provenance, rejects: &rejects, rawJSON: false) else { return }
        if let problem = LoadCheck.problem(with: record) {
            rejects.append(Reject(provenance: provenance, stage: "coex-load", reason: problem, raw: Array(bytes)))
            rejectedKinds[record.wabaID, default: [:]][record.kind.rawValue, default: 0] += 1
            return
        }
        identity[record.wabaID, default: IdentityFacts()].add(record)
        if record.kind == .message, let arrival = record.arrival { arrivals[record.wabaID, default: []].append(arrival) }
        // The sorter is stable: input order already breaks ties, the ordinal need not.
        LoadOrder.key(of: record, ordinal: 0, into: &scratch)
        keys.append(contentsOf: scratch)
        keyEnds.append(keys.count)
        lines.append(bytes)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(self)
        keys.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        identity.removeAll(keepingCapacity: true)
        arrivals.removeAll(keepingCapacity: true)
        rejectedKinds.removeAll(keepingCapacity: true)
    }
}

import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

public struct DedupeCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex-dedupe",
        abstract: "Drop redelivered facts and merge the sightings of each message.",
        discussion: """
            Reads records from coex-normalize. Exact redeliveries (same fact, whatever the
            capture or line) are kept once. Sightings of one wamid merge into one message:
            a media asset resolves its media_placeholder, real content beats 'unsupported',
            a message seen in history and live or as an echo is kept once with the richer
            content and its history place. Edits and revokes are kept by their own wamid
            and kind, statuses by wamid and status, other facts by their content; none is
            merged into a message here.
            Every record out carries "arrival": the input position of its first sighting.
            Past --memory the state spills to temporary files. A summary goes to stderr.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    @OptionGroup var threading: ThreadOptions

    public func run() throws {
        try runStage("coex-dedupe", input: input, accepts: .records(from: "coex-normalize"), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        let dedupe = SpillingDeduplicator(budget: memory.memoryBytes, temporaryDirectory: memory.temporaryDirectory)
        var out: [UInt8] = []
        let workers = threading.workers {
            DedupeWorker { keys, lines, io throws(IOError) in
                for i in keys.indices {
                    try dedupe.process(lines[i], key: keys[i].key, hasArrival: keys[i].hasArrival, into: &out)
                    try reportUnreadable(dedupe, io)
                    if out.count >= 1 << 20 {
                        try io.output.write(out)
                        out.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        try io.forEachLineInParallel(input.inputs, workers: workers)
        try io.output.write(out)
        try dedupe.finish { bytes throws(IOError) in try io.output.write(bytes) }
        try reportUnreadable(dedupe, io)
        let c = dedupe.counts
        var reader = RecordReader(stage: "coex-dedupe")
        for worker in workers { reader.add(worker.reader) }
        var summary = Self.summary(lines: reader.lines, c, rejected: reader.rejected, blank: reader.blank)
        if dedupe.spilled { summary += "; spilled to disk past --memory \(memory.memory)" }
        io.note(summary)
    }
}

extension DedupeCommand {
    static func summary(lines: Int, _ c: DedupeCounts, rejected: Int, blank: Int) -> String {
        var summary = "\(plural(lines, "line")) read: \(c.recordsIn) records in, \(c.recordsOut) out, "
            + "\(c.duplicates) duplicates dropped, \(c.merged) merged; \(rejected) rejected, \(blank) blank"
        if c.unreadable > 0 { summary += "; \(c.unreadable) \(c.unreadable == 1 ? "copy" : "copies") rejected: not readable as records" }
        return summary
    }
}

/// Copies the deduplicator could not merge become rejects, with the provenance they carry.
func reportUnreadable(_ dedupe: SpillingDeduplicator, _ io: StageIO) throws(IOError) {
    guard !dedupe.unreadable.isEmpty else { return }
    let parser = JSONParser()
    var rejects = dedupe.unreadable.map { line -> Reject in
        let value = try? parser.parse(line)
        let provenance = Provenance(source: value?["source"]?.string ?? "-", line: Int(value?["line"]?.int64 ?? 0))
        return Reject(provenance: provenance, stage: "coex-dedupe",
                      reason: "a copy of a held fact that does not read as a coex record", raw: line)
    }
    dedupe.unreadable.removeAll()
    try io.report(&rejects)
}

/// Parses its share of a batch and computes each record's dedupe key; the lines
/// themselves stay in the batch and pass on as they are.
final class DedupeWorker: LineWorker {
    var reader = RecordReader(stage: "coex-dedupe")
    var keys: [(key: DedupeKey, hasArrival: Bool)] = []
    var lines: [UnsafeRawBufferPointer] = []
    var rejects: [Reject] = []
    var scratch = JSONWriter(capacity: 1024)
    let consume: ([(key: DedupeKey, hasArrival: Bool)], [UnsafeRawBufferPointer], StageIO) throws(IOError) -> Void

    init(consume: @escaping ([(key: DedupeKey, hasArrival: Bool)], [UnsafeRawBufferPointer], StageIO) throws(IOError) -> Void) {
        self.consume = consume
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        guard let view = reader.view(bytes, padded: true, provenance: provenance, rejects: &rejects) else { return }
        let key = view.dedupeKey(scratch: &scratch)
        keys.append((key, view.hasArrival))
        lines.append(bytes)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(keys, lines, io)
        keys.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
    }
}

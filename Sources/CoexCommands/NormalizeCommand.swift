import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

public struct NormalizeCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.normalize.command,
        abstract: "Turn webhooks into flat records, one per fact (docs/records.md).",
        discussion: """
            Reads coex-validate's envelopes, or raw webhook bodies (validated here).
            Writes one JSON record per line: message, edit, revoke, status, contact,
            account_event, history_chunk, sync_error, error, user_id_change.
            Changes of other webhook fields are skipped and counted on stderr.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions

    @OptionGroup var threading: ThreadOptions

    public func run() throws {
        try runStage(NormalizeStage.name.command, input: input, accepts: .capturesOrEnvelopes, execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        let workers = threading.workers { NormalizeWorker() }
        try io.forEachLineInParallel(input.inputs, workers: workers)
        io.note(Self.summary(of: workers.map(\.stage)))
    }

    /// The summary of the workers' stages together.
    /// `unverified`: lines a signature gate rejected before the stage saw them.
    static func summary(of stages: [NormalizeStage], unverified: Int = 0) -> String {
        var counts = NormalizeStageCounts()
        var normalizer = NormalizeCounts()
        for stage in stages {
            counts.add(stage.counts)
            normalizer.add(stage.normalizer.counts)
        }
        counts.lines += unverified
        counts.rejected += unverified
        return summary(counts, normalizer)
    }

    static func summary(_ c: NormalizeStageCounts, _ n: NormalizeCounts) -> String {
        var text = "\(plural(c.lines, "line")) read: \(c.normalized) normalized, \(c.rejected) rejected, \(c.blank) blank"
        let kinds = Dictionary(uniqueKeysWithValues: n.records.map { ($0.key.rawValue, $0.value) })
        text += "; \(n.recordTotal) records out"
        if !kinds.isEmpty { text += " (\(tally(kinds)))" }
        if !n.skippedFields.isEmpty { text += "; skipped: \(tally(n.skippedFields))" }
        if !n.skippedItems.isEmpty { text += "; skipped items: \(tally(n.skippedItems))" }
        if !n.unknownTypes.isEmpty { text += "; unknown message types: \(tally(n.unknownTypes))" }
        if c.droppedUpstream > 0 { text += "; \(plural(c.droppedUpstream, "bad record")) dropped by coex-validate" }
        if c.rejectedRecords > 0 { text += "; \(plural(c.rejectedRecords, "bad record")) rejected" }
        return text
    }
}

/// One thread's share: normalizes lines into its own buffer of NDJSON records.
final class NormalizeWorker: LineWorker {
    var stage = NormalizeStage()
    var records: [Record] = []
    var rejects: [Reject] = []
    var output = JSONWriter(capacity: 1 << 20)

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        stage.process(bytes, padded: true, provenance: provenance, records: &records, rejects: &rejects)
        for i in records.indices {
            records[i].write(to: &output)
            output.newline()
        }
        records.removeAll(keepingCapacity: true)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try io.output.write(output.bytes)
        output.reset()
    }
}

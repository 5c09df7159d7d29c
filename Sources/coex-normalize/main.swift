import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

@main
struct NormalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coex-normalize",
        abstract: "Turn webhooks into flat records, one per fact (docs/records.md).",
        discussion: """
            Reads coex-validate's envelopes, or raw webhook bodies (validated here).
            Writes one JSON record per line: message, edit, revoke, status, contact,
            account_event, history_chunk, sync_error, error, user_id_change.
            Changes of other webhook fields are skipped and counted on stderr.

            \(exitStatusHelp)
            """)

    @OptionGroup var input: InputOptions

    func run() throws {
        try runStage(NormalizeStage.name, input: input) { io throws(IOError) in
            var stage = NormalizeStage()
            var records: [Record] = []
            var rejects: [Reject] = []
            var output = JSONWriter(capacity: 1 << 20)
            try io.forEachLine(input.inputs) { line, source throws(IOError) in
                stage.process(line.bytes, padded: true, provenance: Provenance(source: source, line: line.number),
                              records: &records, rejects: &rejects)
                try io.report(&rejects)
                for i in records.indices {
                    records[i].write(to: &output)
                    output.newline()
                }
                records.removeAll(keepingCapacity: true)
                if output.bytes.count >= 1 << 20 {
                    try io.output.write(output.bytes)
                    output.reset()
                }
            }
            try io.output.write(output.bytes)
            io.note(summary(stage))
        }
    }

    func summary(_ stage: NormalizeStage) -> String {
        let c = stage.counts
        let n = stage.normalizer.counts
        var text = "\(c.lines) lines read: \(c.normalized) normalized, \(c.rejected) rejected, \(c.blank) blank"
        let kinds = Dictionary(uniqueKeysWithValues: n.records.map { ($0.key.rawValue, $0.value) })
        text += "; \(n.recordTotal) records out"
        if !kinds.isEmpty { text += " (\(tally(kinds)))" }
        if !n.skippedFields.isEmpty { text += "; skipped: \(tally(n.skippedFields))" }
        if !n.skippedItems.isEmpty { text += "; skipped items: \(tally(n.skippedItems))" }
        if !n.unknownTypes.isEmpty { text += "; unknown message types: \(tally(n.unknownTypes))" }
        if c.droppedUpstream > 0 { text += "; \(c.droppedUpstream) bad records dropped by coex-validate" }
        if c.rejectedRecords > 0 { text += "; \(c.rejectedRecords) bad records rejected" }
        return text
    }
}

import ArgumentParser
import CoexCLI
import CoexIO
import CoexKit

@main
struct DedupeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coex-dedupe",
        abstract: "Drop redelivered facts and merge the sightings of each message.",
        discussion: """
            Reads records from coex-normalize. Exact redeliveries (same fact, whatever the
            capture or line) are kept once. Sightings of one wamid merge into one message:
            a media asset resolves its media_placeholder, real content beats 'unsupported',
            a message seen in history and live or as an echo is kept once with the richer
            content and its history place. Edits and revokes are kept by their own wamid,
            statuses by content; none is merged into a message here.
            Every record out carries "arrival": the input position of its first sighting.
            Past --memory the state spills to temporary files. A summary goes to stderr.

            \(exitStatusHelp)
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        try runStage("coex-dedupe", input: input) { io throws(IOError) in
            let dedupe = SpillingDeduplicator(budget: memory.memoryBytes, temporaryDirectory: memory.temporaryDirectory)
            var output = RecordOutput()
            var out: [Record] = []
            let worker = RecordWorker(stage: "coex-dedupe") { records, io throws(IOError) in
                for record in records { try dedupe.process(record, into: &out) }
                try output.write(out, to: io)
                out.removeAll(keepingCapacity: true)
            }
            try io.forEachLineInParallel(input.inputs, workers: [worker])
            try dedupe.finish(into: &out) { records throws(IOError) in try output.write(records, to: io) }
            try output.write(out, to: io)
            try output.flush(to: io)
            let c = dedupe.counts
            let r = worker.reader
            var summary = "\(r.lines) lines read: \(c.recordsIn) records in, \(c.recordsOut) out, "
                + "\(c.duplicates) duplicates dropped, \(c.merged) merged; \(r.rejected) rejected, \(r.blank) blank"
            if dedupe.spilled { summary += "; spilled to disk past --memory \(memory.memory)" }
            io.note(summary)
        }
    }
}

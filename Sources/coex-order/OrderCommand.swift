import ArgumentParser
import CoexCLI
import CoexIO
import CoexKit

@main
struct OrderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coex-order",
        abstract: "Sort records into chat order and number messages (seq).",
        discussion: """
            Reads records (from coex-dedupe). Writes them sorted per business: history
            chunks by (phone number, phase, chunk_order), then messages so that
            ORDER BY timestamp, seq is the chat order as the app shows it (equal times
            follow the history position, older phases first, then arrival order for live
            messages), then every other fact by time. After each phone number's chunks
            comes a history_chunk report record (extra.report = true: phases, chunks,
            gaps, repeated chunks, last progress); the same goes to stderr.
            Stable; past --memory sorted runs spill to temporary files.

            \(exitStatusHelp)
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    func run() throws {
        try runStage("coex-order", input: input) { io throws(IOError) in
            let sorter = ExternalSorter(stage: "coex-order", budget: memory.memoryBytes,
                                        temporaryDirectory: memory.temporaryDirectory, key: OrderKey.of)
            let worker = RecordWorker(stage: "coex-order") { records, _ throws(IOError) in
                for record in records { try sorter.add(record) }
            }
            try io.forEachLineInParallel(input.inputs, workers: [worker])
            var sequencer = ChatSequencer()
            var output = RecordOutput()
            var out: [Record] = []
            try sorter.finish { record throws(IOError) in
                sequencer.process(record, into: &out)
                if out.count >= 4096 {
                    try output.write(out, to: io)
                    out.removeAll(keepingCapacity: true)
                }
            }
            sequencer.finish(into: &out)
            try output.write(out, to: io)
            try output.flush(to: io)
            for report in sequencer.reports { io.note("history \(report.wabaID) \(report.summary)") }
            let r = worker.reader
            var summary = "\(r.lines) lines read: \(r.lines - r.rejected - r.blank) records sorted, "
                + "\(sequencer.reports.count) history reports added, \(output.count) out; \(r.rejected) rejected, \(r.blank) blank"
            if sorter.spilledRuns > 0 { summary += "; \(sorter.spilledRuns) sorted runs spilled past --memory \(memory.memory)" }
            io.note(summary)
        }
    }
}

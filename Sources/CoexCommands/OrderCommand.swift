import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

public struct OrderCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
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
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    @OptionGroup var threading: ThreadOptions

    public func run() throws {
        try runStage("coex-order", input: input, accepts: .records(from: "coex-dedupe"), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        let sorter = ExternalSorter(stage: "coex-order", budget: memory.memoryBytes,
                                    temporaryDirectory: memory.temporaryDirectory, prefixStart: OrderKey.prefixStart)
        let workers = threading.workers {
            KeyedLineWorker(stage: "coex-order", key: OrderKey.of) { keys, ends, lines throws(IOError) in
                var start = 0
                for i in lines.indices {
                    try sorter.add(key: UnsafeRawBufferPointer(rebasing: keys[start..<ends[i]]), line: lines[i])
                    start = ends[i]
                }
            }
        }
        try io.forEachLineInParallel(input.inputs, workers: workers)
        var sequencer = ChatSequencer()
        var out: [UInt8] = []
        try sorter.finish { key, line throws(IOError) in
            sequencer.process(line, key: key, into: &out)
            if out.count >= 1 << 20 {
                try io.output.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        sequencer.finish(into: &out)
        try io.output.write(out)
        for report in sequencer.reports { io.note("history \(report.wabaID) \(report.summary)") }
        var reader = RecordReader(stage: "coex-order")
        for worker in workers { reader.add(worker.reader) }
        let sorted = reader.lines - reader.rejected - reader.blank
        var summary = Self.summary(lines: reader.lines, sorted: sorted, reports: sequencer.reports.count,
                                   out: sequencer.linesOut, rejected: reader.rejected, blank: reader.blank)
        if sorter.spilledRuns > 0 { summary += "; \(sorter.spilledRuns) sorted runs spilled past --memory \(memory.memory)" }
        io.note(summary)
    }
}

extension OrderCommand {
    static func summary(lines: Int, sorted: Int, reports: Int, out: Int, rejected: Int, blank: Int) -> String {
        "\(plural(lines, "line")) read: \(sorted) records sorted, \(plural(reports, "history report")) added, "
            + "\(out) out; \(rejected) rejected, \(blank) blank"
    }
}

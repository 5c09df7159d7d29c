import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

public struct OrderCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.order.command,
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
        try runStage(OrderStage.name.command, input: input, accepts: .records(from: .dedupe), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        try io.run(OrderStage(memory.spill), inputs: input.inputs, threads: threading.threads)
    }
}

import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

public struct DedupeCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.dedupe.command,
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
        try runStage(DedupeStage.name.command, input: input, accepts: .records(from: .normalize), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        try io.run(DedupeStage(memory.spill), inputs: input.inputs, threads: threading.threads)
    }
}

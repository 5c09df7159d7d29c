import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

public struct ApplyCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.apply.command,
        abstract: "Apply edits and revokes to the messages they change.",
        discussion: """
            Reads records (from coex-order). An edit replaces the visible type, content
            and body of its message (edits apply in edit-time order: the last edit wins
            whatever the arrival order) and every version is written as a
            message_version record, the original first. A revoke marks its message
            revoked at the earliest revoke's time; content is kept unless
            --redact-revoked. Edits and revokes never become messages; those whose
            message is not in the input are written at the end with "pending": true,
            for a later import to apply. Every other record passes in order.
            Past --memory the records wait for the second pass in a temporary file.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Blank body and content of revoked messages and of their versions.")
    var redactRevoked = false

    public func run() throws {
        try runStage(ApplyStage.name.command, input: input, accepts: .records(from: .order), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        try io.run(ApplyStage(memory.spill, redactRevoked: redactRevoked), inputs: input.inputs, threads: threading.threads)
    }
}

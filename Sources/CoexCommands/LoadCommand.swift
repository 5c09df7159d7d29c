import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexKit
import CoexStore
import Foundation

public struct LoadCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.load.command,
        abstract: "Load records into one SQLite database per business.",
        discussion: """
            Reads records (from coex-apply) and writes DIR/<waba_id>.sqlite for every
            business in them (schema: docs/schema.md; PRAGMA user_version = \(StoreSchema.version)).
            Loads are incremental and idempotent: a message seen again merges with its
            stored row (real content beats placeholders), edits and revokes apply to
            messages stored by earlier imports, pending changes apply when their message
            arrives, seq is renumbered for the whole business, and users known by phone
            and by BSUID become one chat. Loading night by night gives the same tables
            as loading everything at once; loading the same input twice changes nothing
            but the imports table. Each database is written in one transaction (WAL):
            a crash leaves it as before the run or complete, and a re-run completes it.
            A database with a newer schema than this binary knows is refused untouched;
            a database that cannot be loaded fails the run (exit 1) after the others.
            Records are sorted by business and key first (past --memory in temporary
            files). Per business and in total, a summary goes to stderr.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions
    @OptionGroup var threading: ThreadOptions

    @Option(name: .customLong("out-dir"), help: ArgumentHelp("Directory of the databases (created if missing).", valueName: "DIR"))
    var outDirectory: String

    /// In a pipe the inputs are stdin: this names the captures behind it in `imports`.
    @Option(name: .customLong("recorded-input"), help: ArgumentHelp(
        "Name NAME as an input in the imports table instead of the files read (repeatable; for a pipe, whose input is '-').",
        valueName: "NAME"))
    var recordedInputs: [String] = []

    public func run() throws {
        InterruptNotice.install(LoadStage.name.command)
        try runStage(LoadStage.name.command, input: input, accepts: .records(from: .apply), preflight: checkOutDirectory, execute)
    }

    /// Before any input: the folder must take new databases and the ones in it must open
    /// for writing, or hours of reading end in a database that cannot be written.
    func checkOutDirectory() throws(IOError) {
        try WritableCheck.directory(outDirectory)
        try WritableCheck.existingFiles(in: outDirectory, suffixes: BusinessFile.suffixes)
    }

    func execute(_ io: StageIO) throws(IOError) {
        let settings = LoadSettings(outDirectory: outDirectory, inputs: recordedInputs.isEmpty ? input.inputs : recordedInputs,
                                    time: Int64(Date().timeIntervalSince1970), threads: threading.threads)
        try io.run(LoadStage(settings, spill: memory.spill), inputs: input.inputs, threads: threading.threads)
    }
}

import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexStore
import Foundation

public struct ImportCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import captures into one SQLite database per business, every stage in one process.",
        discussion: """
            Runs normalize (which validates raw captures itself) on every thread, and
            hands its records, as values, to one chain of the very stage objects the
            stage executables run: dedupe, then order, then apply, then load (several
            businesses at once). The databases are the ones `coex-validate |
            coex-normalize | coex-dedupe | coex-order | coex-apply | coex-load` writes
            (only the imports table differs: it names the captures, not stdin). Each
            stage prints its summary on stderr; when stderr is a terminal a progress
            line shows bytes read, webhooks/s, the time left to read, and the
            businesses loaded.
            --rejects FILE is emptied first, then takes every stage's rejects.
            --memory is the budget of the whole run: each of the four stages' stores
            (dedupe's held messages, order's and load's sorters, apply's spool) holds
            up to a quarter of it, and past that spills to temporary files.

            \(exitStatusHelp)
            Rejects count against --max-rejects over the capture lines read, whatever
            stage rejected them; the databases hold every good record in any case.
            SIGINT or SIGTERM print what state the databases are in.
            """,
        version: coexVersion)

    @Argument(help: "Captures, read in order (NDJSON; .zst is decompressed). None or '-' reads stdin.")
    var files: [String] = []

    @Option(name: .customLong("out-dir"), help: ArgumentHelp("Directory of the databases (created if missing).", valueName: "DIR"))
    var outDirectory: String

    @Option(help: ArgumentHelp("Write every rejected line and record to FILE (emptied first) as NDJSON.", valueName: "FILE"))
    var rejects: String?

    @OptionGroup var limit: RejectLimitOption

    @OptionGroup var memory: MemoryOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var signatures: SignatureOptions

    public mutating func validate() throws {
        files = try withoutSignatureFiles(files, command: "coex import")
        if let rejects, let input = files.first(where: { isSameFile($0, rejects) }) {
            throw ValidationError("--rejects \(rejects) is the input \(input): rejects would be written into the capture")
        }
    }

    public func run() throws {
        ignoreBrokenPipeSignal()
        // The stages talk through pipes: a closed standard descriptor would be handed out as
        // one of them. stderr must be open to report; stdin only when it is read.
        guard descriptorIsOpen(2) else { throw ExitCode.failure }
        if files.isEmpty || files.contains("-"), !descriptorIsOpen(0) {
            try? OutputSink.standardError().write("coex import: stdin is closed (no captures given)\n")
            throw ExitCode.failure
        }
        try refuseTerminalStdin("coex import", files: files)
        reopenClosedStandardDescriptors()
        let captures = files.isEmpty ? ["-"] : files
        let gate = try signatures.gate(stage: "coex import", inputs: captures)
        // Before any capture is read: every output must be writable, and only then is the
        // old rejects file emptied.
        do throws(IOError) {
            try WritableCheck.directory(outDirectory)
            try WritableCheck.existingFiles(in: outDirectory, suffixes: BusinessFile.suffixes)
        } catch {
            try? OutputSink.standardError().write("coex import: --out-dir \(error.description)\n")
            throw ExitCode.failure
        }
        if let rejects {
            do throws(IOError) {
                try WritableCheck.file(rejects, makingFolder: true)
                try OutputSink.creating(rejects).close()
            } catch {
                try? OutputSink.standardError().write("coex import: --rejects \(error.description)\n")
                throw ExitCode.failure
            }
        }
        InterruptNotice.install("coex import")
        let run = FusedImport(captures: captures, outDirectory: outDirectory, rejects: rejects, memory: memory,
                              threads: threading.threads, gate: gate)
        let outcome = run.run()
        let verdict = RunVerdict.judge(failed: !outcome.succeeded, lines: outcome.lines, rejects: outcome.rejects,
                                       limit: limit.maxRejects, rejectsFile: rejects, inputs: captures)
        if let message = verdict.message { try? OutputSink.standardError().write("coex import: \(message)\n") }
        if verdict.status != .success { throw verdict.status.exitCode }
    }
}

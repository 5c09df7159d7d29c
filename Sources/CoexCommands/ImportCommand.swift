import ArgumentParser
import CoexCLI
import CoexIO
import Foundation

public struct ImportCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import captures into one SQLite database per business, every stage in one process.",
        discussion: """
            Runs normalize (which validates raw captures itself), dedupe, order, apply and
            load at once, each on its own threads, records passing from stage to stage as
            the same record lines the stage executables exchange: the databases are the
            ones `coex-validate | coex-normalize | coex-dedupe | coex-order | coex-apply |
            coex-load` writes (only the imports table differs: it names the captures, not
            stdin). Each stage prints its summary on stderr; when stderr is a terminal a
            progress line shows bytes read, webhooks/s and the time left.
            --rejects FILE is emptied first, then takes every stage's rejects.
            --memory is the budget of the whole run, shared by the four stages that hold state.

            \(exitStatusHelp)
            """)

    @Argument(help: "Captures, read in order (NDJSON; .zst is decompressed). None or '-' reads stdin.")
    var files: [String] = []

    @Option(name: .customLong("out-dir"), help: ArgumentHelp("Directory of the databases (created if missing).", valueName: "DIR"))
    var outDirectory: String

    @Option(help: ArgumentHelp("Write every rejected line and record to FILE (emptied first) as NDJSON.", valueName: "FILE"))
    var rejects: String?

    @OptionGroup var memory: MemoryOptions
    @OptionGroup var threading: ThreadOptions

    public func run() throws {
        ignoreBrokenPipeSignal()
        let captures = files.isEmpty ? ["-"] : files
        if let rejects {
            // Its folder is made like --out-dir's; an old rejects file is emptied.
            let folder = (rejects as NSString).deletingLastPathComponent
            do {
                if !folder.isEmpty { try makeDirectories(folder) }
                try OutputSink.creating(rejects).close()
            } catch {
                try? OutputSink.standardError().write("coex import: --rejects \(error.description)\n")
                throw ExitCode.failure
            }
        }
        // Four stages hold state (dedupe, order, apply, load): each gets a quarter.
        let share = "\(max(1, (memory.memoryBytes / 4) >> 20))MB"
        var shared = ["--memory", share, "--temp-dir", memory.temporaryDirectory, "--threads", "\(threading.threads)"]
        if let rejects { shared += ["--rejects", rejects] }
        let chain = StageChain(captures: captures)
        chain.add("coex-normalize", NormalizeCommand.self, ["--threads", "\(threading.threads)"] + (rejects.map { ["--rejects", $0] } ?? []))
        chain.add("coex-dedupe", DedupeCommand.self, shared)
        chain.add("coex-order", OrderCommand.self, shared)
        chain.add("coex-apply", ApplyCommand.self, shared)
        chain.add("coex-load", LoadCommand.self, shared + ["--out-dir", outDirectory] + captures.flatMap { ["--recorded-input", $0] })
        guard try chain.run(totalBytes: ImportProgress.totalBytes(of: captures)) else { throw ExitCode.failure }
    }
}

/// A stage command that `coex import` can run on a thread with its output piped on.
protocol ChainableStage: ParsableCommand {
    var input: InputOptions { get }
    func execute(_ io: StageIO) throws(IOError)
}

extension NormalizeCommand: ChainableStage {}
extension DedupeCommand: ChainableStage {}
extension OrderCommand: ChainableStage {}
extension ApplyCommand: ChainableStage {}
extension LoadCommand: ChainableStage {}

import ArgumentParser
import CoexIO
#if canImport(Glibc)
import Glibc
#endif

/// The inputs every stage reads, where its rejects go, and how many it may have.
public struct InputOptions: ParsableArguments {
    @Argument(help: "Input files, read in order (NDJSON; .zst is decompressed). '-' reads stdin; none reads stdin unless it is a terminal.")
    public var files: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Append rejected lines and records to FILE as NDJSON.",
            discussion: "Without it each reject is an error line on stderr and the run exits 1.",
            valueName: "FILE"))
    public var rejects: String?

    @OptionGroup public var limit: RejectLimitOption

    public init() {}

    public func validate() throws {
        if let rejects, let input = files.first(where: { isSameFile($0, rejects) }) {
            throw ValidationError("--rejects \(rejects) is the input \(input): rejects would be written into the capture")
        }
    }

    public var inputs: [String] { files.isEmpty ? ["-"] : files }
}

/// `--max-rejects`, for the stages and `coex import` alike.
public struct RejectLimitOption: ParsableArguments {
    @Option(
        name: .customLong("max-rejects"),
        help: ArgumentHelp("Exit 2 when more than N rejects, or more than P% of the lines read, were rejected.",
                           valueName: "N|P%"))
    public var maxRejects: RejectLimit = .standard

    public init() {}
}

/// A command given no input files would wait for a person to type webhooks: it refuses,
/// unless stdin was asked for by name ('-').
public func refuseTerminalStdin(_ command: String, files: [String]) throws {
    guard files.isEmpty, isatty(0) == 1 else { return }
    try? OutputSink.standardError().write(
        "\(command): no input files and stdin is a terminal: name the captures (or '-' to read the terminal), or pipe them in\n")
    throw ExitStatus.usage.exitCode
}

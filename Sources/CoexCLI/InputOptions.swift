import ArgumentParser
import CoexIO

/// The inputs every stage reads, and where its rejects go.
public struct InputOptions: ParsableArguments {
    @Argument(help: "Input files, read in order (NDJSON; .zst is decompressed). None or '-' reads stdin.")
    public var files: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Append rejected lines and records to FILE as NDJSON.",
            discussion: "Without it each reject is an error line on stderr and the run exits 1.",
            valueName: "FILE"))
    public var rejects: String?

    public init() {}

    public func validate() throws {
        if let rejects, let input = files.first(where: { isSameFile($0, rejects) }) {
            throw ValidationError("--rejects \(rejects) is the input \(input): rejects would be written into the capture")
        }
    }

    public var inputs: [String] { files.isEmpty ? ["-"] : files }
}

/// The exit status paragraph every stage's --help ends with.
public let exitStatusHelp = """
    EXIT STATUS
      0   success (also when the reader of stdout goes away, as with '| head')
      1   the run failed: an input could not be read, or lines were rejected
          with no --rejects file to take them
      64  usage error (unknown option, missing value)
    """

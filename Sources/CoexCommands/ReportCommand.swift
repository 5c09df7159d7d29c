import ArgumentParser
import CoexIO
import CoexReport

public struct ReportCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex-report",
        abstract: "Summarise business databases: history sync, account state, counts.",
        discussion: """
            Reads databases written by coex-load (opened read-only) and reports, per
            business: history sync completeness per phone number (phases, chunks, gaps,
            progress, declined), the account's connection state from its account events
            in time order, messages by origin and direction and by type, edits, revokes,
            pending changes, statuses, errors, contacts, users (and how many are known
            by BSUID only), the time range and the imports. A text table by default;
            --json writes one JSON object per business per line (NDJSON). Fields:
            docs/report.md. A database that cannot be reported (missing, not a coex
            database, newer schema) is named on stderr and the run exits 1 after the
            others.

            EXIT STATUS
              0   success (also when the reader of stdout goes away, as with '| head')
              1   a database or the --out-dir directory could not be reported (the
                  other databases are still reported)
              64  usage error (unknown option, missing value, neither or both of
                  --out-dir and --db)
            """,
        version: coexVersion)

    @Option(name: .customLong("out-dir"), help: ArgumentHelp(
        "Report every *.sqlite database of DIR, sorted by WABA id.", valueName: "DIR"))
    var outDirectory: String?

    @Option(name: .customLong("db"), help: ArgumentHelp(
        "Report the database FILE (repeatable, reported in the order given).", valueName: "FILE"))
    var databases: [String] = []

    @Flag(name: .customLong("json"), help: "Write one JSON object per business per line (NDJSON).")
    var json = false

    public func validate() throws {
        if outDirectory == nil && databases.isEmpty { throw ValidationError("give --out-dir DIR or --db FILE") }
        if outDirectory != nil && !databases.isEmpty { throw ValidationError("give either --out-dir or --db, not both") }
    }

    public func run() throws {
        ignoreBrokenPipeSignal()
        guard descriptorIsOpen(1) else {
            if descriptorIsOpen(2) { try? OutputSink.standardError().write("coex-report: stdout is closed\n") }
            throw ExitCode.failure
        }
        if !execute(output: OutputSink.standardOutput()) { throw ExitCode.failure }
    }

    /// Writes the reports to `output`, messages to stderr; false when a database (or the
    /// directory) could not be reported. A closed output ends the run quietly.
    public func execute(output: OutputSink) -> Bool {
        let errors = OutputSink.standardError()
        var ok = true
        var paths = databases
        if let outDirectory {
            do { paths = try ReportReader.databases(in: outDirectory) } catch {
                try? errors.write("coex-report: \(error)\n")
                return false
            }
        }
        var written = 0
        do throws(IOError) {
            for path in paths {
                let report: BusinessReport
                do { report = try ReportReader.read(path: path) } catch {
                    ok = false
                    try? errors.write("coex-report: \(error)\n")
                    continue
                }
                if json {
                    try output.write(ReportJSON.line(report))
                } else {
                    if written > 0 { try output.write(ReportText.separator) }
                    try output.write(ReportText.render(report))
                }
                written += 1
                try output.flush()
            }
        } catch .brokenPipe {
            return ok
        } catch {
            try? errors.write("coex-report: \(error)\n")
            return false
        }
        return ok
    }
}

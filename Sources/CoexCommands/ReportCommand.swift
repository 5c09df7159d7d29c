import ArgumentParser
import CoexExport
import CoexIO
import CoexJSON
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
            by BSUID only), the time range and the imports; onboarding, the 24-hour
            history deadline of each phone number (flagged when late, overdue or
            incomplete) and the pricing split by month (sent from the app: free; sent
            through the API: billed, by status, pricing category and billable; inbound).
            --windows lists the customer service window of every chat instead;
            --search QUERY lists the messages whose text (now or before an edit)
            matches an FTS5 query. --at TIME judges windows and deadlines at TIME
            (default: the latest time in each database). A text table by default;
            --json writes NDJSON (one object per business, per chat with --windows, per
            message with --search). Fields: docs/report.md. A database that cannot be
            reported (missing, not a coex database, newer schema, no search index yet)
            is named on stderr and the run exits 1 after the others.

            EXIT STATUS
              0   success (also when the reader of stdout goes away, as with '| head')
              1   a database or the --out-dir directory could not be reported (the
                  other databases are still reported)
              64  usage error (unknown option, missing value, neither or both of
                  --out-dir and --db, --windows with --search, a TIME that does not
                  parse, a QUERY that FTS5 cannot run)
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

    @Flag(name: .customLong("windows"), help: "List the customer service window of every chat.")
    var windows = false

    @Option(name: .customLong("search"), help: ArgumentHelp(
        "List the messages whose text, now or before an edit, matches the FTS5 query QUERY.", valueName: "QUERY"))
    var search: String?

    @Option(name: .customLong("at"), help: ArgumentHelp(
        "Judge windows and deadlines at TIME: Unix seconds, YYYY-MM-DD or ISO-8601 (default: the latest time in each database).",
        valueName: "TIME"))
    var at: String?

    public func validate() throws {
        if outDirectory == nil && databases.isEmpty { throw ValidationError("give --out-dir DIR or --db FILE") }
        if outDirectory != nil && !databases.isEmpty { throw ValidationError("give either --out-dir or --db, not both") }
        if windows && search != nil { throw ValidationError("give either --windows or --search, not both") }
        if search != nil && at != nil { throw ValidationError("--at applies to the report and --windows, not --search") }
        if let at, ExportTime.parse(at) == nil {
            throw ValidationError("--at '\(at)': not a time (Unix seconds, YYYY-MM-DD or ISO-8601)")
        }
        if let search, let problem = MessageSearch.check(search) {
            throw ValidationError("--search '\(search)': \(problem)")
        }
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
            let time = at.flatMap(ExportTime.parse)
            var writer = JSONWriter(capacity: 4096)
            for path in paths {
                let text: String, lines: [UInt8]
                do throws(ReportError) {
                    if windows {
                        let w = try ServiceWindows.read(path: path, at: time)
                        (text, lines) = json ? ("", w.ndjson(into: &writer)) : (w.text(), [])
                    } else if let search {
                        let found = try MessageSearch.read(path: path, query: search)
                        (text, lines) = json ? ("", found.ndjson(into: &writer)) : (found.text(), [])
                    } else {
                        let report = try ReportReader.read(path: path, at: time)
                        (text, lines) = json ? ("", ReportJSON.line(report)) : (ReportText.render(report), [])
                    }
                } catch {
                    ok = false
                    try? errors.write("coex-report: \(error)\n")
                    continue
                }
                if json {
                    try output.write(lines)
                } else {
                    if written > 0 { try output.write(ReportText.separator) }
                    try output.write(text)
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

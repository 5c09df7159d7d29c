import ArgumentParser
import CoexArchive
import CoexCLI
import CoexEngine
import CoexExport
import CoexIO
import Foundation

public struct ExportCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex-export",
        abstract: "Write a compliance archive of one business database.",
        discussion: """
            Writes ARCHIVE (.tar.zst, .tar.gz/.tgz or .zip, by its extension) from a
            database of coex-load: manifest.json (sizes and SHA-256 of every other
            file, counts, time range, imports, filters), messages.ndjson,
            message_versions.ndjson, statuses.ndjson, contacts.csv,
            threads/<phone_number_id>/<user>.txt transcripts, and database.sqlite, a
            snapshot holding exactly the exported rows (docs/export.md). The same
            database and flags give a byte-identical archive. The archive is staged
            next to ARCHIVE and renamed when complete; an interrupted export (SIGINT,
            SIGTERM, SIGHUP) removes what it staged. A summary goes to stderr.

            TIME is Unix seconds, a date YYYY-MM-DD (00:00 UTC) or an ISO-8601
            date-time (2026-01-14T19:00:00Z, +02:00; no zone means UTC).

            EXIT STATUS
              0   the archive was written
              1   the export failed (no such database, not a coex database, newer
                  schema, locked, archive not writable); ARCHIVE is left as it was
              64  usage error (unknown option, no known archive extension, a bad
                  TIME, --out naming the database)
              130, 143, 129   interrupted by SIGINT, SIGTERM, SIGHUP
            """,
        version: coexVersion)

    @Option(help: ArgumentHelp("The business database (DIR/<waba_id>.sqlite of coex-load).", valueName: "FILE"))
    var db: String

    @Option(help: ArgumentHelp("The archive to write: .tar.zst, .tar.gz, .tgz or .zip.", valueName: "ARCHIVE"))
    var out: String

    @Option(help: ArgumentHelp("Only messages at or after TIME (inclusive).", valueName: "TIME"))
    var since: String?

    @Option(help: ArgumentHelp("Only messages before TIME (exclusive).", valueName: "TIME"))
    var until: String?

    @Option(help: ArgumentHelp("Only this user: a phone number (wa_id) or BSUID (user_id); repeatable.", valueName: "ID"))
    var contact: [String] = []

    @Flag(help: "Blank the text and content of revoked messages and of all their versions.")
    var redactRevoked = false

    @Option(name: .customLong("waba-id"), help: ArgumentHelp("The business id for the manifest (default: FILE's name without .sqlite).", valueName: "ID"))
    var wabaID: String?

    public mutating func validate() throws {
        if ArchiveFormat.from(path: out) == nil { throw ValidationError(ExportError.unknownFormat(path: out).description) }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, ExportTime.parse(value) == nil {
                throw ValidationError("\(name) '\(value)' is not Unix seconds, YYYY-MM-DD or an ISO-8601 date-time")
            }
        }
        if let s = since.flatMap(ExportTime.parse), let u = until.flatMap(ExportTime.parse), s >= u {
            throw ValidationError("--since must be before --until (the window would be empty)")
        }
        if contact.contains("") { throw ValidationError("--contact needs a phone number or BSUID, not an empty string") }
    }

    public func run() throws {
        let filter = ExportFilter(since: since.flatMap(ExportTime.parse), until: until.flatMap(ExportTime.parse),
                                  contacts: contact, redactRevoked: redactRevoked)
        let stderr = OutputSink.standardError()
        WorkDirectories.removeOnSignals()
        do {
            let s = try ArchiveExport.run(databasePath: db, archivePath: out,
                                          options: ExportOptions(filter: filter, wabaID: wabaID))
            var line = "coex-export: \(s.archivePath): \(s.files) files, \(s.archiveBytes) bytes: "
            line += "\(plural(s.messages, "message")) (\(s.apiMessages) sent through the API), "
            line += "\(plural(s.messageVersions, "message version")), "
            line += "\(s.statuses) status\(s.statuses == 1 ? "" : "es"), \(plural(s.contacts, "contact")), "
            line += plural(s.threads, "thread") + (filter.changesData ? " (filtered)" : "") + "\n"
            try? stderr.write(line)
            if !contact.isEmpty && s.messages == 0 && s.contacts == 0 {
                // Most likely a typo or a different spelling of the number (a leading +).
                try? stderr.write("coex-export: warning: --contact \(contact.joined(separator: ", ")) matches no message and no contact\n")
            }
        } catch {
            // Interrupted: the signal handler is removing the staged files and ends the process.
            while WorkDirectories.isInterrupted { sleep(1) }
            try? stderr.write("coex-export: \(error.description)\n")
            throw error.isUsageError ? ExitCode(64) : ExitCode.failure
        }
    }
}

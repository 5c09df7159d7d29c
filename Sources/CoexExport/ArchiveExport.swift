import CoexArchive
import CoexIO
import CoexJSON
import CoexSQLite
import CoexStore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var archivePath: String
    public var format: ArchiveFormat
    public var archiveBytes: Int64
    public var wabaID: String
    /// Lines of messages.ndjson: message rows and messages sent through the API.
    public var messages = 0
    /// Of `messages`, those sent through the API (known by their statuses only).
    public var apiMessages = 0
    public var messageVersions = 0
    public var statuses = 0
    public var contacts = 0
    public var threads = 0
    /// Every member of the archive, manifest.json included.
    public var files = 0
}

/// A compliance archive of one business database (docs/export.md): manifest.json with the size
/// and SHA-256 of every other member, messages/message_versions/statuses as NDJSON, contacts as
/// CSV, one transcript per chat, and a consistent snapshot of the database holding exactly the
/// exported rows.
///
/// How: `VACUUM INTO` a private copy next to the archive (one read transaction of the source,
/// which is never written); filter and redact the copy and rewrite it with `VACUUM INTO` when a
/// filter is given; then read every other member from that final snapshot, so the files and
/// the snapshot agree by construction. Rows are streamed from SQLite into staged member files
/// (bounded memory), the manifest is built from their sums, and the archive is written to a
/// temporary file that is renamed over `--out` only when complete.
public enum ArchiveExport {
    /// Exports the database at `databasePath` to the archive `archivePath`, whose format is
    /// taken from its extension (`ArchiveFormat.from(path:)`).
    public static func run(
        databasePath: String, archivePath: String, options: ExportOptions = ExportOptions()
    ) throws(ExportError) -> ExportSummary {
        guard let format = ArchiveFormat.from(path: archivePath) else { throw .unknownFormat(path: archivePath) }
        let wabaID = options.wabaID ?? BusinessFile.wabaID(ofDatabase: databasePath)
        if isSameFile(archivePath, databasePath) { throw .outputIsDatabase(path: archivePath) }
        let source = try openSource(databasePath)

        let work = try WorkDirectory(nextTo: archivePath)
        // Removed when released: not before the archive has been renamed out of it.
        defer { withExtendedLifetime(work) {} }

        // 1. The snapshot: one consistent copy; filtered and redacted when asked.
        let snapshot = work.file("database.sqlite")
        var contactIDs: [String] = []
        if options.filter.changesData {
            let copy = work.file("unfiltered.sqlite")
            try reading(databasePath) { try source.vacuumInto(copy) }
            try reading(databasePath) {
                let db = try Database(path: copy, mode: .readWrite, writeAheadLog: false)
                contactIDs = try SnapshotFilter.apply(options.filter, to: db)
                try db.vacuumInto(snapshot)
            }
            // The unfiltered copy goes as soon as the filtered snapshot exists.
            unlink(copy)
        } else {
            try reading(databasePath) { try source.vacuumInto(snapshot) }
        }

        // 2. The members, all read from the snapshot.
        var summary = ExportSummary(archivePath: archivePath, format: format, archiveBytes: 0, wabaID: wabaID)
        let db = try reading(databasePath) { try Database(path: snapshot, mode: .readOnly) }
        var writer = MemberWriter(db: db, work: work, filter: options.filter, sourcePath: databasePath)
        var members: [StagedMember] = []
        var threads: [StagedMember] = []
        try reading(databasePath) {
            let messages = try writer.messagesAndThreads(&summary)
            members.append(messages.messages)
            threads = messages.threads
            members.append(try writer.versions(&summary))
            members.append(try writer.statuses(&summary))
            members.append(try writer.contacts(&summary))
        }
        members += threads
        members.append(try StagedFile.member(entryPath: "database.sqlite", hashing: snapshot))

        let manifest = try reading(databasePath) {
            try Manifest.build(db: db, wabaID: wabaID, filter: options.filter, contactIDs: contactIDs,
                               summary: summary, timeRange: writer.timeRange, edited: writer.edited,
                               revoked: writer.revoked, members: members)
        }
        summary.files = members.count + 1

        // 3. The archive: manifest first, then the members in the order it lists them.
        let partial = work.file("archive.partial")
        do {
            let archive = try ArchiveWriter(path: partial, format: format)
            try archive.add(path: "manifest.json", data: manifest)
            for member in members { try archive.add(path: member.entryPath, contentsOfFile: member.filePath) }
            try archive.finish()
        } catch let error as ArchiveError {
            if case .cannotCreate(_, let reason) = error { throw .cannotWrite(path: archivePath, reason: reason) }
            throw .archive(error)
        } catch {
            throw .cannotWrite(path: archivePath, reason: "\(error)")
        }
        var info = stat()
        if stat(partial, &info) == 0 { summary.archiveBytes = Int64(info.st_size) }
        guard rename(partial, archivePath) == 0 else {
            throw .cannotWrite(path: archivePath, reason: String(cString: strerror(errno)))
        }
        return summary
    }

    /// Opens the source (never writing to it) and checks it is a coex database this binary understands.
    static func openSource(_ path: String) throws(ExportError) -> Database {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .missingDatabase(path: path) }
            throw .notADatabase(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notADatabase(path: path, reason: "not a regular file") }
        let db: Database
        do {
            // Read-write without touching the journal mode, although nothing is written: a reader
            // of a WAL database creates its -wal and -shm files, and only a connection that may
            // write removes them again when it closes. A write-protected file opens read-only.
            db = try Database(path: path, mode: .readWrite, writeAheadLog: false)
        } catch {
            throw .notADatabase(path: path, reason: sqliteMessage(error))
        }
        let state: StoreSchema.State
        do {
            state = try StoreSchema.state(of: db)
        } catch {
            if error.isBusy { throw .locked(path: path) }
            throw .notADatabase(path: path, reason: sqliteMessage(error))
        }
        switch state {
        case .known:
            break
        case .newer(let found):
            throw .newerSchema(path: path, found: found, supported: StoreSchema.version)
        case .foreign, .empty:
            throw .notACoexDatabase(path: path)
        }
        // A schema version alone is not enough to export: the rows must be there to read.
        let tables: Int64
        do {
            tables = try db.integer(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('messages', 'imports')")
        } catch {
            if error.isBusy { throw .locked(path: path) }
            throw .notADatabase(path: path, reason: sqliteMessage(error))
        }
        guard tables == 2 else { throw .notACoexDatabase(path: path) }
        return db
    }

    /// SQLite's own words ("file is not a database"), without the SQL around them.
    private static func sqliteMessage(_ error: SQLiteError) -> String {
        error.message ?? error.description
    }
}

/// The hidden directory next to the archive where members are staged; removed with
/// everything in it at the end, whether the export succeeded or not.
final class WorkDirectory {
    private let directory: SpillDirectory
    var path: String { directory.path }

    init(nextTo archivePath: String) throws(ExportError) {
        let slash = archivePath.lastIndex(of: "/")
        let dir = slash.map { String(archivePath[..<$0]) } ?? "."
        let name = slash.map { String(archivePath[archivePath.index(after: $0)...]) } ?? archivePath
        do {
            directory = try SpillDirectory(in: dir.isEmpty ? "" : dir, prefix: "." + name)
        } catch {
            if case .cannotCreateDirectory(_, let reason) = error { throw .cannotWrite(path: archivePath, reason: reason) }
            throw .cannotWrite(path: archivePath, reason: error.description)
        }
        WorkDirectories.shared.add(path)
    }

    func file(_ name: String) -> String { directory.file(name) }

    deinit { WorkDirectories.shared.remove(path) }
}

/// The work directories of exports in progress: an interrupted export must not leave its
/// staged files behind (the unfiltered copy of the database among them).
public final class WorkDirectories: @unchecked Sendable {
    static let shared = WorkDirectories()
    private let lock = NSLock()
    private var paths: Set<String> = []
    private var signalSources: [any DispatchSourceSignal] = []
    private var interrupted = false

    /// Set when a signal arrived: the export's own errors from then on (its files vanish)
    /// are not failures to report, the signal handler ends the process.
    public static var isInterrupted: Bool { shared.lock.withLock { shared.interrupted } }

    func add(_ path: String) { lock.withLock { _ = paths.insert(path) } }
    func remove(_ path: String) { lock.withLock { _ = paths.remove(path) } }

    /// From now on SIGINT, SIGTERM and SIGHUP remove the work directories of exports in
    /// progress, then end the process with 128 + the signal's number, as the shell reports it.
    public static func removeOnSignals() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // Moved away first, so that the export still running cannot add files to it.
                let paths = shared.lock.withLock {
                    shared.interrupted = true
                    return shared.paths
                }
                for path in paths {
                    let doomed = path + ".interrupted"
                    try? FileManager.default.removeItem(atPath: rename(path, doomed) == 0 ? doomed : path)
                }
                exit(128 + number)
            }
            source.resume()
            shared.lock.withLock { shared.signalSources.append(source) }
        }
    }
}

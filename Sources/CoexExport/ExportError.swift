import CoexArchive
import CoexSQLite

/// Why an export failed. Every message is one line naming the file involved.
public enum ExportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `--out` names no supported archive kind (usage error).
    case unknownFormat(path: String)
    /// The database file does not exist.
    case missingDatabase(path: String)
    /// The file exists but SQLite cannot read it as a database.
    case notADatabase(path: String, reason: String)
    /// An SQLite database, but not a coex business database (no coex tables).
    case notACoexDatabase(path: String)
    /// A coex database of a schema newer than this binary knows.
    case newerSchema(path: String, found: Int32, supported: Int32)
    /// The archive (or its temporary files next to it) could not be written.
    case cannotWrite(path: String, reason: String)
    /// SQLite failed while reading the database or writing the snapshot.
    case database(path: String, reason: String)
    /// libarchive failed.
    case archive(ArchiveError)
    /// `--out` names the database itself (usage error: the export would overwrite it).
    case outputIsDatabase(path: String)
    /// Another connection holds a lock on the database for longer than the busy timeout.
    case locked(path: String)

    public var description: String {
        switch self {
        case .unknownFormat(let path):
            return "cannot tell the archive format of '\(path)': use a name ending in "
                + ArchiveFormat.allCases.map(\.fileExtension).joined(separator: ", ") + " (or .tgz)"
        case .missingDatabase(let path):
            return "\(path): no such database file"
        case let .notADatabase(path, reason):
            return "\(path) is not an SQLite database (\(reason))"
        case .notACoexDatabase(let path):
            return "\(path) is not a coex business database (no coex tables; write one with coex-load)"
        case let .newerSchema(path, found, supported):
            return "\(path) has schema version \(found), newer than this coex-export knows (\(supported)); "
                + "export it with a newer coex"
        case let .cannotWrite(path, reason):
            return "cannot write '\(path)': \(reason)"
        case let .database(path, reason):
            return "\(path): " + String(reason.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        case .archive(let error):
            return error.description
        case .outputIsDatabase(let path):
            return "--out '\(path)' is the database itself; the archive would overwrite it"
        case .locked(let path):
            return "\(path) is locked by another connection (waited 5 s); export it when the writer is done"
        }
    }

    /// True for mistakes in the command line (exit 64) rather than failures of the run.
    public var isUsageError: Bool {
        switch self {
        case .unknownFormat, .outputIsDatabase: return true
        default: return false
        }
    }
}

/// Runs `body`, turning SQLite failures into `.database` errors about `path`.
@inline(__always)
func reading<T>(_ path: String, _ body: () throws -> T) throws(ExportError) -> T {
    do {
        return try body()
    } catch let error as ExportError {
        throw error
    } catch let error as SQLiteError {
        if error.isBusy { throw .locked(path: path) }
        throw .database(path: path, reason: error.description)
    } catch let error as ArchiveError {
        throw .archive(error)
    } catch {
        throw .database(path: path, reason: "\(error)")
    }
}

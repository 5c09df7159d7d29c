import CoexSQLite

/// Why a database (or a directory of them) could not be reported. Each description is
/// one line that starts with the file or directory it is about.
public enum ReportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No such file.
    case missing(path: String)
    /// The path exists but cannot be opened as a file (a directory, no permission, ...).
    case cannotOpen(path: String, reason: String)
    /// Not a database coex wrote: not SQLite at all, or SQLite without coex's schema.
    case notCoexDatabase(path: String, reason: String)
    /// Written by a newer coex: this binary does not know what its schema means.
    case newerSchema(path: String, found: Int32, supported: Int32)
    /// SQLite failed while reading.
    case sqlite(path: String, SQLiteError)
    /// `--out-dir` names no directory.
    case notADirectory(path: String, reason: String)
    /// `--out-dir` holds no `*.sqlite` file.
    case noDatabases(directory: String)
    /// `--search` on a database of schema 1, which has no search index until its next load.
    case noSearchIndex(path: String, version: Int32)

    public var description: String {
        switch self {
        case .missing(let path):
            "\(path): no such file"
        case let .cannotOpen(path, reason):
            "\(path): cannot open: \(reason)"
        case let .notCoexDatabase(path, reason):
            "\(path): not a coex database (\(reason))"
        case let .newerSchema(path, found, supported):
            "\(path): schema version \(found) is newer than this coex-report knows (\(supported)); report it with a newer coex"
        case let .sqlite(path, error):
            "\(path): \(error.description)"
        case let .notADirectory(path, reason):
            "\(path): cannot list the directory: \(reason)"
        case .noDatabases(let directory):
            "\(directory): no *.sqlite database in the directory"
        case let .noSearchIndex(path, version):
            "\(path): schema version \(version) has no search index; the next coex-load upgrades it"
        }
    }
}

import CoexSQLite

/// Why a business database could not be loaded.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The WABA id cannot name a file (empty, `.`, `..`, or holding `/` or NUL).
    case unsafeBusinessID(String)
    /// The database was written by a newer coex whose schema this binary does not know.
    case newerSchema(path: String, found: Int32, supported: Int32)
    /// The file is an SQLite database, but not one coex wrote (tables and no schema version).
    case foreignDatabase(path: String)
    /// SQLite failed.
    case sqlite(SQLiteError)

    public var description: String {
        switch self {
        case .unsafeBusinessID(let id):
            let shown = id.unicodeScalars.map { $0 == "\0" ? "\\0" : String($0) }.joined()
            return "waba_id \"\(shown)\" cannot name a database file (empty, '.', '..', or holding '/' or NUL)"
        case let .newerSchema(path, found, supported):
            return "\(path) has schema version \(found), newer than this coex-load knows (\(supported)); "
                + "load it with a newer coex, the database is left untouched"
        case .foreignDatabase(let path):
            return "\(path) is an SQLite database that coex did not write (it has tables but no schema version); "
                + "the database is left untouched"
        case .sqlite(let error):
            return error.description
        }
    }
}

/// Runs `body`, wrapping SQLite failures so callers see one error type.
@inline(__always)
func sql<T>(_ body: () throws -> T) throws(StoreError) -> T {
    do {
        return try body()
    } catch let error as SQLiteError {
        throw .sqlite(error)
    } catch let error as StoreError {
        throw error
    } catch {
        // Database and Statement throw only SQLiteError; anything else is a bug.
        fatalError("unexpected error from SQLite wrapper: \(error)")
    }
}

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
    /// A new database could not be built beside `path` or put in its place (the operating
    /// system's reason, or another run building the same database).
    case cannotCreate(path: String, reason: String)
    /// `add` or `finish` after the load finished or failed: its database is closed.
    case loadEnded(path: String)

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
        case let .cannotCreate(path, reason):
            return "cannot create \(path): \(reason)"
        case .loadEnded(let path):
            return "the load of \(path) has already finished or failed"
        }
    }
}

extension StoreError: SQLiteErrorCarrying {
    public init(sqlite: SQLiteError) { self = .sqlite(sqlite) }
}

// SQLite's calls as the store makes them: each throws StoreError, so that the load's code
// reads as one error type without wrapping every call.

extension Database {
    func run(_ script: String) throws(StoreError) {
        do { try execute(script) } catch { throw .sqlite(error) }
    }

    func statement(_ sql: String) throws(StoreError) -> Statement {
        do { return try prepare(sql) } catch { throw .sqlite(error) }
    }

    /// The first column of the first row of `sql` as an integer (0 when there is no row).
    func count(_ sql: String) throws(StoreError) -> Int64 {
        do { return try integer(sql) } catch { throw .sqlite(error) }
    }
}

extension Statement {
    /// Binds `values`, runs the statement to completion and resets it.
    func run(_ values: [SQLiteValue]) throws(StoreError) {
        do { try execute(values) } catch { throw .sqlite(error) }
    }

    /// Binds `values` and calls `body` with each result row.
    func rows(_ values: [SQLiteValue] = [], _ body: (Statement) -> Void) throws(StoreError) {
        do {
            if !values.isEmpty { try bind(values) }
            try forEachRow(body)
        } catch {
            throw .sqlite(error)
        }
    }

    /// Binds `values` and returns the first result row whole, or nil when there is none.
    func firstRow(_ values: [SQLiteValue]) throws(StoreError) -> [SQLiteValue]? {
        var found: [SQLiteValue]?
        try rows(values) { row in if found == nil { found = Rows.row(row) } }
        return found
    }
}

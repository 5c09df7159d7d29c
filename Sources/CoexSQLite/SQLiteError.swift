import CSQLite

/// A failure reported by SQLite, or a misuse of this wrapper detected before reaching SQLite.
///
/// Errors carry the SQL text (with `?` placeholders as written) but never the values bound to it,
/// so they can be logged without leaking message contents from captures.
public enum SQLiteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `sqlite3_open_v2` failed.
    case openFailed(path: String, code: Int32, extendedCode: Int32, message: String)
    /// The SQL could not be compiled (syntax error, unknown table, ...).
    case prepareFailed(sql: String, code: Int32, extendedCode: Int32, message: String)
    /// A value could not be bound to parameter `parameter` (1-based).
    case bindFailed(parameter: Int, sql: String, code: Int32, extendedCode: Int32, message: String)
    /// Running the statement failed (constraint violation, busy, I/O error, ...).
    case stepFailed(sql: String, code: Int32, extendedCode: Int32, message: String)
    /// `VACUUM INTO` could not write a snapshot to `destination`.
    case snapshotFailed(destination: String, sql: String, code: Int32, extendedCode: Int32, message: String)
    /// `prepare` was given text that holds no statement at all.
    case emptyStatement(sql: String)
    /// `prepare` was given more than one statement; the rest would be silently ignored.
    case multipleStatements(sql: String)
    /// A list of values was bound to a statement that expects a different number of parameters.
    case parameterCountMismatch(sql: String, expected: Int, given: Int)
    /// A PRAGMA that SQLite answers with its outcome (journal_mode) kept another value.
    case pragmaRefused(sql: String, result: String)
    /// COMMIT of a `Database.Transaction` that was already committed or rolled back.
    case notInTransaction(sql: String)

    /// The primary result code (`SQLITE_CONSTRAINT`, ...), or nil when SQLite was never called.
    public var code: Int32? {
        switch self {
        case .openFailed(_, let code, _, _), .prepareFailed(_, let code, _, _),
             .bindFailed(_, _, let code, _, _), .stepFailed(_, let code, _, _),
             .snapshotFailed(_, _, let code, _, _):
            return code
        case .emptyStatement, .multipleStatements, .parameterCountMismatch, .pragmaRefused, .notInTransaction:
            return nil
        }
    }

    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...), or nil when SQLite was never called.
    public var extendedCode: Int32? {
        switch self {
        case .openFailed(_, _, let code, _), .prepareFailed(_, _, let code, _),
             .bindFailed(_, _, _, let code, _), .stepFailed(_, _, let code, _),
             .snapshotFailed(_, _, _, let code, _):
            return code
        case .emptyStatement, .multipleStatements, .parameterCountMismatch, .pragmaRefused, .notInTransaction:
            return nil
        }
    }

    /// SQLITE_BUSY or SQLITE_LOCKED: another connection held a lock past the busy timeout.
    public var isBusy: Bool { code == 5 || code == 6 }

    /// The SQL that failed, or nil for failures to open a database.
    public var sql: String? {
        switch self {
        case .openFailed: return nil
        case .prepareFailed(let sql, _, _, _), .bindFailed(_, let sql, _, _, _),
             .stepFailed(let sql, _, _, _), .snapshotFailed(_, let sql, _, _, _),
             .emptyStatement(let sql), .multipleStatements(let sql),
             .parameterCountMismatch(let sql, _, _), .pragmaRefused(let sql, _), .notInTransaction(let sql):
            return sql
        }
    }

    /// SQLite's own message ("UNIQUE constraint failed: messages.wamid"), or nil when SQLite was
    /// never called.
    public var message: String? {
        switch self {
        case .openFailed(_, _, _, let message), .prepareFailed(_, _, _, let message),
             .bindFailed(_, _, _, _, let message), .stepFailed(_, _, _, let message),
             .snapshotFailed(_, _, _, _, let message):
            return message
        case .emptyStatement, .multipleStatements, .parameterCountMismatch, .pragmaRefused, .notInTransaction:
            return nil
        }
    }

    public var description: String {
        switch self {
        case let .openFailed(path, code, extended, message):
            return "Cannot open SQLite database '\(path)': \(message) (\(Self.codeText(code, extended)))"
        case let .prepareFailed(sql, code, extended, message):
            return "Invalid SQL: \(message) (\(Self.codeText(code, extended))). SQL: \(Self.excerpt(sql))"
        case let .bindFailed(parameter, sql, code, extended, message):
            return "Cannot bind parameter \(parameter): \(message) (\(Self.codeText(code, extended))). SQL: \(Self.excerpt(sql))"
        case let .stepFailed(sql, code, extended, message):
            return "SQL statement failed: \(message) (\(Self.codeText(code, extended))). SQL: \(Self.excerpt(sql))"
        case let .snapshotFailed(destination, sql, code, extended, message):
            return "Cannot write database snapshot to '\(destination)': \(message) (\(Self.codeText(code, extended))). SQL: \(Self.excerpt(sql))"
        case let .emptyStatement(sql):
            return "Expected one SQL statement but found none. SQL: \(Self.excerpt(sql))"
        case let .multipleStatements(sql):
            return "Expected one SQL statement but found several; run scripts with Database.execute. SQL: \(Self.excerpt(sql))"
        case let .parameterCountMismatch(sql, expected, given):
            return "Statement expects \(expected) parameter value(s) but \(given) were given. SQL: \(Self.excerpt(sql))"
        case let .pragmaRefused(sql, result):
            return "SQLite kept \(result.isEmpty ? "its setting" : "'\(result)'") instead. SQL: \(Self.excerpt(sql))"
        case let .notInTransaction(sql):
            return "No transaction is open (it was committed or rolled back already). SQL: \(Self.excerpt(sql))"
        }
    }

    /// Long generated SQL (big IN lists, whole scripts) would drown the message; the start identifies it.
    static func excerpt(_ sql: String) -> String {
        let limit = 1_000
        guard sql.utf8.count > limit else { return sql }
        return String(sql.prefix(limit)) + "…"
    }

    static func codeText(_ code: Int32, _ extended: Int32) -> String {
        let name = primaryCodeNames[code].map { "SQLITE_\($0)" } ?? "SQLite code"
        return extended == code ? "\(name) \(code)" : "\(name) \(code), extended code \(extended)"
    }

    // sqlite3_errstr gives prose ("constraint failed"); the symbolic name is what people search for.
    private static let primaryCodeNames: [Int32: String] = [
        0: "OK", 1: "ERROR", 2: "INTERNAL", 3: "PERM", 4: "ABORT", 5: "BUSY", 6: "LOCKED",
        7: "NOMEM", 8: "READONLY", 9: "INTERRUPT", 10: "IOERR", 11: "CORRUPT", 12: "NOTFOUND",
        13: "FULL", 14: "CANTOPEN", 15: "PROTOCOL", 16: "EMPTY", 17: "SCHEMA", 18: "TOOBIG",
        19: "CONSTRAINT", 20: "MISMATCH", 21: "MISUSE", 22: "NOLFS", 23: "AUTH", 24: "FORMAT",
        25: "RANGE", 26: "NOTADB", 27: "NOTICE", 28: "WARNING", 100: "ROW", 101: "DONE",
    ]
}

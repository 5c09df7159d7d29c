import CSQLite

/// One connection to an SQLite database file.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`: SQLite does not lock the connection, so it must be used from
/// one thread at a time. The class is deliberately not `Sendable`, which lets the compiler enforce that.
///
/// The connection closes when the last reference to it goes, and every `Statement` holds one:
/// whoever must know the file is closed (to rename it, say) releases its statements first.
public final class Database {
    public enum OpenMode: Sendable {
        /// Open an existing database for reading only.
        case readOnly
        /// Open an existing database for reading and writing; fail if it does not exist.
        case readWrite
        /// Open for reading and writing, creating the file if needed.
        case create
    }

    public let path: String
    let handle: OpaquePointer

    /// Opens `path` (`":memory:"` for a private in-memory database).
    ///
    /// Writable connections are switched to `journal_mode=WAL` with `synchronous=NORMAL` (unless
    /// `writeAheadLog` is false): in WAL mode a commit costs one fsync-free append, and NORMAL keeps the
    /// database consistent after a crash (only the last commits may be lost), which suits bulk loads
    /// that can be re-run. Read-only connections leave the journal mode alone because they cannot change it.
    ///
    /// - Parameter busyTimeoutMilliseconds: how long to wait on another connection's lock before
    ///   failing with `SQLITE_BUSY`.
    public init(
        path: String,
        mode: OpenMode = .create,
        busyTimeoutMilliseconds: Int32 = 5_000,
        writeAheadLog: Bool = true
    ) throws(SQLiteError) {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        _ = Self.configured
        var opened: OpaquePointer?
        let rc = sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == SQLITE_OK, let opened else {
            // SQLite allocates a handle even when opening fails, to carry the message; it must still be closed.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let extended = opened.map { sqlite3_extended_errcode($0) } ?? rc
            sqlite3_close_v2(opened)
            throw .openFailed(path: path, code: rc & 0xff, extendedCode: extended, message: message)
        }
        self.path = path
        self.handle = opened
        // From here on a throw releases self, and deinit closes the handle.
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
        if writeAheadLog && mode != .readOnly {
            try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        }
    }

    /// Process-wide settings, applied once before the first connection opens.
    private static let configured: Bool = {
        coex_sqlite3_disable_memory_statistics() == SQLITE_OK
    }()

    deinit {
        // Statements retain their database, so none can be left unfinalized here; close_v2 would defer
        // the close rather than fail if one were. Nothing can be reported from deinit anyway.
        sqlite3_close_v2(handle)
    }

    /// Runs a script of zero or more `;`-separated statements, discarding any rows they return.
    ///
    /// Statements before a failing one stay applied unless the script is run inside `transaction`.
    /// The error carries the failing statement's SQL, not the whole script.
    public func execute(_ script: String) throws(SQLiteError) {
        var script = script
        // withUTF8 only rethrows untyped errors: the failure is carried out of it as a value.
        let failure = script.withUTF8 { utf8 -> SQLiteError? in
            guard let base = utf8.baseAddress else { return nil }
            let start = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            let end = start + utf8.count
            var cursor = start
            while cursor < end {
                // Skipped so that an error quotes the failing statement without the previous line break.
                if cursor.pointee == 0x20 || (0x09...0x0D).contains(cursor.pointee) {
                    cursor += 1
                    continue
                }
                var compiled: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(handle, cursor, Int32(clamping: end - cursor), &compiled, &tail)
                guard rc == SQLITE_OK else {
                    let rest = String(decoding: UnsafeRawBufferPointer(start: cursor, count: end - cursor), as: UTF8.self)
                    return prepareError(rc, sql: rest)
                }
                let next = tail ?? end
                if let compiled {
                    let statement = Statement(database: self, handle: compiled)
                    do throws(SQLiteError) {
                        while try statement.step() {}
                    } catch {
                        return error
                    }
                }
                // Whitespace and comments compile to no statement; stop if SQLite made no progress.
                guard next > cursor else { break }
                cursor = next
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Compiles exactly one SQL statement for repeated use.
    ///
    /// Trailing text after the first statement is rejected rather than ignored, since SQLite would
    /// otherwise silently drop it.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var sql = sql
        let prepared: Result<Statement, SQLiteError> = sql.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, utf8.count > 0 else { return .failure(.emptyStatement(sql: "")) }
            let start = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            let end = start + utf8.count
            let text = String(decoding: utf8, as: UTF8.self)
            var compiled: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(handle, start, Int32(clamping: utf8.count), &compiled, &tail)
            guard rc == SQLITE_OK else { return .failure(prepareError(rc, sql: text)) }
            guard let compiled else { return .failure(.emptyStatement(sql: text)) }
            let statement = Statement(database: self, handle: compiled)
            if let tail, tail < end {
                var extra: OpaquePointer?
                let extraRC = sqlite3_prepare_v2(handle, tail, Int32(clamping: end - tail), &extra, nil)
                sqlite3_finalize(extra)
                guard extraRC == SQLITE_OK else { return .failure(prepareError(extraRC, sql: text)) }
                if extra != nil { return .failure(.multipleStatements(sql: text)) }
            }
            return .success(statement)
        }
        return try prepared.get()
    }

    /// The first column of the first row of `sql` as an integer (0 when there is no row).
    public func integer(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        return try statement.step() ? statement.int64(at: 0) : 0
    }

    /// `PRAGMA user_version`: an integer SQLite stores in the file header and never uses itself,
    /// meant for the application's schema version.
    public var userVersion: Int32 {
        get throws(SQLiteError) {
            Int32(truncatingIfNeeded: try integer("PRAGMA user_version"))
        }
    }

    public func setUserVersion(_ version: Int32) throws(SQLiteError) {
        // PRAGMA arguments cannot be bound parameters; an Int32 literal is safe to splice in.
        try execute("PRAGMA user_version = \(version)")
    }

    /// The current journal mode as SQLite names it ("wal", "delete", "memory", ...).
    public var journalMode: String {
        get throws(SQLiteError) {
            let statement = try prepare("PRAGMA journal_mode")
            guard try statement.step() else { return "" }
            return statement.text(at: 0)
        }
    }

    public enum JournalMode: String, Sendable {
        case delete, truncate, persist, memory, wal, off
    }

    /// Switches the journal mode. SQLite answers a switch it cannot make (inside a transaction,
    /// WAL on a file system without shared memory) with the mode it kept rather than an error;
    /// that is reported as `.pragmaRefused`.
    public func setJournalMode(_ mode: JournalMode) throws(SQLiteError) {
        let sql = "PRAGMA journal_mode = \(mode.rawValue)"
        let statement = try prepare(sql)
        let now = try statement.step() ? statement.text(at: 0) : ""
        guard now == mode.rawValue else { throw .pragmaRefused(sql: sql, result: now) }
    }

    /// Rowid of the most recent successful INSERT on this connection (0 if none).
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { Int(sqlite3_changes64(handle)) }

    /// True while a transaction is open on this connection.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Writes a consistent, compacted copy of the whole database to a new file at `path`.
    ///
    /// Uses `VACUUM INTO`, which reads inside one transaction (so concurrent writers cannot tear the
    /// copy) and produces a single self-contained file with no `-wal` companion, ready to be put into an
    /// archive. The destination must not exist yet; SQLite refuses to overwrite it. Not allowed inside
    /// `transaction`.
    public func vacuumInto(_ path: String) throws(SQLiteError) {
        let sql = "VACUUM INTO ?"
        let statement = try prepare(sql)
        try statement.bind(path, at: 1)
        do {
            try statement.execute()
        } catch let .stepFailed(_, code, extended, message) {
            throw .snapshotFailed(destination: path, sql: sql, code: code, extendedCode: extended, message: message)
        } catch {
            throw error
        }
    }

    func prepareError(_ rc: Int32, sql: String) -> SQLiteError {
        .prepareFailed(sql: sql, code: rc & 0xff, extendedCode: sqlite3_extended_errcode(handle),
                       message: String(cString: sqlite3_errmsg(handle)))
    }

    /// The message must be read before any other call on the connection overwrites it.
    func lastErrorMessage() -> String { String(cString: sqlite3_errmsg(handle)) }
}

import CSQLite

/// A compiled SQL statement, reusable through `reset()`.
///
/// Parameter and column indexes follow SQLite: parameters are 1-based, columns 0-based.
/// Holding a Statement keeps its Database open.
///
/// For bulk work, keep one Statement, bind typed values and call `execute()` per row: binding
/// copies the bytes straight into SQLite, so the only per-row cost on the Swift side is bridging
/// a non-native String to UTF-8, if the caller has one.
public final class Statement {
    public let database: Database
    let handle: OpaquePointer

    init(database: Database, handle: OpaquePointer) {
        self.database = database
        self.handle = handle
    }

    deinit {
        // finalize only repeats the last step's error, which step() already reported.
        sqlite3_finalize(handle)
    }

    /// The SQL text as given to `prepare`, placeholders and all (never with bound values).
    public var sql: String { String(cString: sqlite3_sql(handle)) }

    /// Number of `?` parameters the statement expects.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    // MARK: Binding

    public func bind(_ value: Int64, at index: Int) throws(SQLiteError) {
        try check(sqlite3_bind_int64(handle, Int32(clamping: index), value), parameter: index)
    }

    public func bind(_ value: Int, at index: Int) throws(SQLiteError) {
        try bind(Int64(value), at: index)
    }

    public func bind(_ value: Double, at index: Int) throws(SQLiteError) {
        try check(sqlite3_bind_double(handle, Int32(clamping: index), value), parameter: index)
    }

    public func bind(_ value: String, at index: Int) throws(SQLiteError) {
        var value = value
        let rc = value.withUTF8 { utf8 in textRC(UnsafeRawBufferPointer(utf8), at: index) }
        try check(rc, parameter: index)
    }

    public func bind(_ value: [UInt8], at index: Int) throws(SQLiteError) {
        let rc = value.withUnsafeBytes { bytes in blobRC(bytes, at: index) }
        try check(rc, parameter: index)
    }

    /// Binds a blob without first copying it into an Array.
    public func bind(bytes: UnsafeRawBufferPointer, at index: Int) throws(SQLiteError) {
        try check(blobRC(bytes, at: index), parameter: index)
    }

    private func blobRC(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int32 {
        guard let count = Int32(exactly: bytes.count) else { return SQLITE_TOOBIG }
        guard let base = bytes.baseAddress else {
            // A nil pointer would bind NULL, not an empty blob.
            return sqlite3_bind_zeroblob(handle, Int32(clamping: index), 0)
        }
        return sqlite3_bind_blob(handle, Int32(clamping: index), base, count, sqliteTransient)
    }

    /// Binds UTF-8 bytes as text (a JSON value as the record carried it) without first making a
    /// String of them. The bytes must be valid UTF-8, as SQLite does not check.
    public func bind(utf8 bytes: UnsafeRawBufferPointer, at index: Int) throws(SQLiteError) {
        try check(textRC(bytes, at: index), parameter: index)
    }

    private func textRC(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int32 {
        guard let count = Int32(exactly: bytes.count) else { return SQLITE_TOOBIG }
        guard let base = bytes.baseAddress else {
            // A nil pointer would bind NULL, not the empty string.
            return sqlite3_bind_text(handle, Int32(clamping: index), "", 0, sqliteTransient)
        }
        return sqlite3_bind_text(handle, Int32(clamping: index), base.assumingMemoryBound(to: CChar.self), count,
                                 sqliteTransient)
    }

    public func bindNull(at index: Int) throws(SQLiteError) {
        try check(sqlite3_bind_null(handle, Int32(clamping: index)), parameter: index)
    }

    public func bind(_ value: SQLiteValue, at index: Int) throws(SQLiteError) {
        switch value {
        case .null: try bindNull(at: index)
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try bind(v, at: index)
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        }
    }

    /// Binds `values` to parameters 1...n; their number must match the statement's parameters.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        let expected = parameterCount
        guard values.count == expected else {
            throw SQLiteError.parameterCountMismatch(sql: sql, expected: expected, given: values.count)
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: offset + 1)
        }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() {
        // Always returns SQLITE_OK.
        sqlite3_clear_bindings(handle)
    }

    // MARK: Running

    /// Advances to the next row: true when a row is available, false when the statement is done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw SQLiteError.stepFailed(sql: sql, code: rc & 0xff, extendedCode: rc,
                                         message: database.lastErrorMessage())
        }
    }

    /// Rewinds the statement so it can run again; bindings are kept.
    public func reset() {
        // With sqlite3_prepare_v2, reset only repeats the error of the last step(), which was thrown
        // there already; repeating it here would make every cleanup path throw twice.
        sqlite3_reset(handle)
    }

    /// Runs the statement with its current bindings to completion, then resets it (also on failure,
    /// so a reused statement never keeps a read transaction open).
    public func execute() throws(SQLiteError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Binds `values` (see `bind(_:)`), runs to completion and resets.
    public func execute(_ values: [SQLiteValue]) throws(SQLiteError) {
        try bind(values)
        try execute()
    }

    /// Calls `body` once per result row, from the first row (the statement is reset before and after).
    /// Read the current row through the column getters on the statement passed to `body`.
    public func forEachRow(_ body: (Statement) -> Void) throws(SQLiteError) {
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        while try step() {
            body(self)
        }
    }

    /// `forEachRow` for a body that may throw; the error is the body's or SQLite's.
    public func forEachRow(_ body: (Statement) throws -> Void) throws {
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        while try step() {
            try body(self)
        }
    }

    /// Collects `transform` of each result row, from the first row.
    public func mapRows<T>(_ transform: (Statement) -> T) throws(SQLiteError) -> [T] {
        var rows: [T] = []
        try forEachRow { rows.append(transform($0)) }
        return rows
    }

    /// `mapRows` for a transform that may throw; the error is the transform's or SQLite's.
    public func mapRows<T>(_ transform: (Statement) throws -> T) throws -> [T] {
        var rows: [T] = []
        try forEachRow { (row: Statement) throws in rows.append(try transform(row)) }
        return rows
    }

    // MARK: Columns of the current row

    // The typed getters apply SQLite's own conversions (NULL reads as 0, "" or an empty blob); use
    // isNull or value(at:) where NULL must be told apart. An out-of-range index reads as NULL.

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(at index: Int) -> String {
        sqlite3_column_name(handle, Int32(clamping: index)).map { String(cString: $0) } ?? ""
    }

    public func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(clamping: index)) == SQLITE_NULL
    }

    public func int64(at index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(clamping: index))
    }

    public func int(at index: Int) -> Int {
        Int(truncatingIfNeeded: int64(at: index))
    }

    public func double(at index: Int) -> Double {
        sqlite3_column_double(handle, Int32(clamping: index))
    }

    /// Invalid UTF-8 (SQLite hands back blob bytes unchanged when read as text) is repaired with U+FFFD.
    public func text(at index: Int) -> String {
        let column = Int32(clamping: index)
        // column_text must come before column_bytes: it may convert the value, changing its length.
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    public func blob(at index: Int) -> [UInt8] {
        let column = Int32(clamping: index)
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    public func value(at index: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(clamping: index)) {
        case SQLITE_INTEGER: return .integer(int64(at: index))
        case SQLITE_FLOAT: return .real(double(at: index))
        case SQLITE_TEXT: return .text(text(at: index))
        case SQLITE_BLOB: return .blob(blob(at: index))
        default: return .null
        }
    }

    // MARK: Errors

    @inline(__always)
    private func check(_ rc: Int32, parameter: Int) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw bindError(rc, parameter: parameter, message: nil) }
    }

    private func bindError(_ rc: Int32, parameter: Int, message: String?) -> SQLiteError {
        .bindFailed(parameter: parameter, sql: sql, code: rc & 0xff, extendedCode: rc,
                    message: message ?? String(cString: sqlite3_errstr(rc)))
    }
}

/// Tells SQLite to copy bound bytes before the call returns, so Swift buffers need not outlive it.
/// The C macro SQLITE_TRANSIENT is not imported into Swift.
private var sqliteTransient: sqlite3_destructor_type {
    unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

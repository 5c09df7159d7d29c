import CSQLite

/// An error type that can carry SQLite's own failures, so that a transaction whose body throws
/// it can throw that one type for BEGIN and COMMIT too.
public protocol SQLiteErrorCarrying: Error {
    init(sqlite: SQLiteError)
}

extension SQLiteError: SQLiteErrorCarrying {
    public init(sqlite: SQLiteError) { self = sqlite }
}

extension Database {
    /// How a transaction takes its locks (SQLite's `BEGIN DEFERRED | IMMEDIATE | EXCLUSIVE`).
    public enum TransactionKind: String, Sendable {
        /// Locks on first read or write: for readers that want one consistent snapshot.
        case deferred = "BEGIN DEFERRED"
        /// Takes the write lock up front, so a busy database fails (after the busy timeout) at
        /// BEGIN instead of half way through the work.
        case immediate = "BEGIN IMMEDIATE"
        case exclusive = "BEGIN EXCLUSIVE"
    }

    /// A transaction that stays open across calls (a load that is fed record by record), until
    /// `commit()` or `rollback()`; released while still open, it rolls back.
    ///
    /// The scoped `transaction { ... }` is built on it: this is the one place that says BEGIN,
    /// COMMIT or ROLLBACK. Transactions do not nest.
    public final class Transaction {
        public let database: Database
        public private(set) var isOpen = true

        fileprivate init(_ database: Database) {
            self.database = database
        }

        deinit { rollback() }

        /// Commits. On failure the transaction is rolled back (as far as SQLite has not done so
        /// itself) and is no longer open.
        public func commit() throws(SQLiteError) {
            guard isOpen else { throw .notInTransaction(sql: "COMMIT") }
            isOpen = false
            do {
                try database.execute("COMMIT")
            } catch {
                database.rollbackAfterFailure()
                throw error
            }
        }

        /// Rolls back everything since BEGIN; nothing to do once committed or rolled back.
        public func rollback() {
            guard isOpen else { return }
            isOpen = false
            database.rollbackAfterFailure()
        }
    }

    /// Starts a transaction; see `Transaction`.
    public func begin(_ kind: TransactionKind = .immediate) throws(SQLiteError) -> Transaction {
        try execute(kind.rawValue)
        return Transaction(self)
    }

    /// Runs `body` inside one transaction: commits when it returns, rolls back when it or the
    /// commit throws, and rethrows that error.
    ///
    /// This overload is for bodies that throw one error type able to carry SQLite's (declare it
    /// on the closure: `{ () throws(StoreError) in ... }`); the error type is kept.
    public func transaction<T, E: SQLiteErrorCarrying>(
        _ kind: TransactionKind = .immediate, _ body: () throws(E) -> T
    ) throws(E) -> T {
        let transaction: Transaction
        do {
            transaction = try begin(kind)
        } catch {
            throw E(sqlite: error)
        }
        let result = try body()
        do {
            try transaction.commit()
        } catch {
            throw E(sqlite: error)
        }
        return result
    }

    /// `transaction` for a body that throws nothing: only SQLite can fail.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () -> T) throws(SQLiteError) -> T {
        let transaction = try begin(kind)
        let result = body()
        try transaction.commit()
        return result
    }

    /// `transaction` for a body that may throw anything; the error is the body's or SQLite's.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        let transaction = try begin(kind)
        let result = try body()
        try transaction.commit()
        return result
    }

    /// Some errors (SQLITE_FULL, SQLITE_IOERR, ...) make SQLite roll back by itself, and a second
    /// ROLLBACK would then fail; the caller wants the original error, not that one.
    func rollbackAfterFailure() {
        guard sqlite3_get_autocommit(handle) == 0 else { return }
        sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
    }
}

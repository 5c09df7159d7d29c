import CoexSQLite
import Foundation
import Testing

private struct Refused: Error, Equatable {}

/// An error type of a caller's own that carries SQLite's, as the store's does.
private enum CallerError: SQLiteErrorCarrying, Equatable {
    case sqlite(SQLiteError)
    case refused
    init(sqlite: SQLiteError) { self = .sqlite(sqlite) }
}

private func table(_ dir: TemporaryDirectory) throws -> Database {
    let db = try Database(path: dir.file("t.sqlite"))
    try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    return db
}

private func keys(_ db: Database) throws -> [String] {
    try db.prepare("SELECT k FROM t ORDER BY k").mapRows { $0.text(at: 0) }
}

@Suite struct TransactionTests {
    @Test func scopedTransactionCommitsWhatTheBodyWrote() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        let insert = try db.prepare("INSERT INTO t VALUES (?)")
        let n = try db.transaction { () throws(SQLiteError) in
            try insert.execute(["a"])
            try insert.execute(["b"])
            return 2
        }
        #expect(n == 2)
        #expect(!db.inTransaction)
        // Committed: another connection sees the rows.
        #expect(try keys(Database(path: dir.file("t.sqlite"), mode: .readOnly)) == ["a", "b"])
    }

    @Test func typedBodyErrorRollsBackAndKeepsItsType() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        let insert = try db.prepare("INSERT INTO t VALUES (?)")
        #expect(throws: CallerError.refused) {
            try db.transaction { () throws(CallerError) in
                do throws(SQLiteError) { try insert.execute(["a"]) } catch { throw .sqlite(error) }
                throw .refused
            }
        }
        #expect(try keys(db).isEmpty)
        #expect(!db.inTransaction)
        // SQLite's own failure inside the body arrives as the caller's type, carrying the code.
        do throws(CallerError) {
            try db.transaction { () throws(CallerError) in
                do throws(SQLiteError) {
                    try insert.execute(["x"])
                    try insert.execute(["x"])
                } catch { throw .sqlite(error) }
            }
            Issue.record("the duplicate key should have failed")
        } catch {
            guard case .sqlite(let sqlite) = error else { Issue.record("unexpected \(error)"); return }
            #expect(sqlite.code == 19)
            #expect(sqlite.extendedCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        }
        #expect(try keys(db).isEmpty)
    }

    @Test func untypedBodyErrorRollsBack() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        #expect(throws: Refused.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES ('a')")
                throw Refused()
            }
        }
        #expect(try keys(db).isEmpty)
    }

    @Test func openTransactionCommitsOrRollsBackAcrossCalls() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        do {
            let t = try db.begin()
            try db.execute("INSERT INTO t VALUES ('kept')")
            #expect(db.inTransaction)
            try t.commit()
            #expect(!t.isOpen)
            // A second commit is a typed error, not a stray COMMIT on the connection.
            #expect(throws: SQLiteError.notInTransaction(sql: "COMMIT")) { try t.commit() }
        }
        do {
            let t = try db.begin(.deferred)
            try db.execute("INSERT INTO t VALUES ('dropped')")
            t.rollback()
            #expect(!db.inTransaction)
        }
        do {
            // Released while open: rolled back.
            let t = try db.begin()
            try withExtendedLifetime(t) { () throws(SQLiteError) in
                try db.execute("INSERT INTO t VALUES ('released')")
                #expect(db.inTransaction)
            }
        }
        #expect(!db.inTransaction)
        #expect(try keys(db) == ["kept"])
    }

    @Test func transactionsDoNotNest() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        let outer = try db.begin()
        do {
            _ = try db.begin()
            Issue.record("a nested BEGIN should fail")
        } catch {
            #expect(error.code == 1)
            #expect(error.sql == "BEGIN IMMEDIATE")
            #expect(error.message == "cannot start a transaction within a transaction")
        }
        try outer.commit()
    }

    @Test func failedCommitRollsBack() throws {
        let dir = try TemporaryDirectory()
        let db = try table(dir)
        try db.execute("""
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
            PRAGMA foreign_keys = ON;
            """)
        // A deferred foreign key is checked at COMMIT: the commit fails, and nothing stays.
        do {
            try db.transaction { () throws(SQLiteError) in
                try db.execute("INSERT INTO t VALUES ('a'); INSERT INTO child VALUES (7)")
            }
            Issue.record("the commit should have failed")
        } catch {
            #expect(error.code == 19)
            #expect(error.sql == "COMMIT")
            #expect(error.message == "FOREIGN KEY constraint failed")
        }
        #expect(!db.inTransaction)
        #expect(try keys(db).isEmpty)
    }

    @Test func journalModeSwitchIsChecked() throws {
        let dir = try TemporaryDirectory()
        let db = try Database(path: dir.file("j.sqlite"), writeAheadLog: false)
        try db.setJournalMode(.off)
        #expect(try db.journalMode == "off")
        try db.setJournalMode(.wal)
        #expect(try db.journalMode == "wal")
        // An in-memory database has no WAL: SQLite keeps "memory", which is reported.
        let memory = try Database(path: ":memory:", writeAheadLog: false)
        #expect(throws: SQLiteError.pragmaRefused(sql: "PRAGMA journal_mode = wal", result: "memory")) {
            try memory.setJournalMode(.wal)
        }
    }

    @Test func errorsCarryCodeMessageAndStatement() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE n (x INTEGER NOT NULL)")
        do {
            try db.prepare("INSERT INTO n VALUES (?)").execute([.null])
            Issue.record("NULL into NOT NULL should fail")
        } catch {
            guard case let .stepFailed(sql, code, extended, message) = error else { Issue.record("unexpected \(error)"); return }
            #expect(sql == "INSERT INTO n VALUES (?)")
            #expect(code == 19)
            #expect(extended == 1299)
            #expect(message == "NOT NULL constraint failed: n.x")
            #expect(error.message == message)
            #expect(error.description == "SQL statement failed: NOT NULL constraint failed: n.x "
                + "(SQLITE_CONSTRAINT 19, extended code 1299). SQL: INSERT INTO n VALUES (?)")
        }
        do {
            _ = try Database(path: "/nonexistent-dir/x.sqlite", mode: .readWrite)
            Issue.record("opening a missing file should fail")
        } catch {
            #expect(error.code == 14)
            #expect(error.sql == nil)
            #expect(error.message != nil)
        }
    }
}

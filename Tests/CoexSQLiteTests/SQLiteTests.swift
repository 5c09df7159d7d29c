import CoexSQLite
import Foundation
import Testing

private struct DeliberateFailure: Error {}

private func makeDatabase(_ dir: TemporaryDirectory, name: String = "test.sqlite") throws -> Database {
    let db = try Database(path: dir.file(name))
    try db.execute("""
        CREATE TABLE message (
            id INTEGER PRIMARY KEY,
            wamid TEXT NOT NULL UNIQUE,
            score REAL,
            body TEXT,
            payload BLOB
        );
        """)
    return db
}

private func count(_ db: Database, _ table: String = "message") throws -> Int64 {
    let statement = try db.prepare("SELECT count(*) FROM \(table)")
    #expect(try statement.step())
    return statement.int64(at: 0)
}

@Suite struct SQLiteTests {
    @Test func bulkInsertWithReusedStatementReadsBack() throws {
        let dir = try TemporaryDirectory()
        let db = try makeDatabase(dir)
        #expect(try db.journalMode == "wal")
        let synchronous = try db.prepare("PRAGMA synchronous")
        #expect(try synchronous.step())
        #expect(synchronous.int(at: 0) == 1)  // NORMAL

        let insert = try db.prepare("INSERT INTO message (wamid, score, body) VALUES (?, ?, ?)")
        try db.transaction {
            for i in 0..<10_000 {
                try insert.bind("wamid.\(i)", at: 1)
                try insert.bind(Double(i) / 4, at: 2)
                if i % 10 == 0 { try insert.bindNull(at: 3) } else { try insert.bind("body \(i)", at: 3) }
                try insert.execute()
                #expect(db.changes == 1)
            }
        }
        #expect(db.lastInsertRowID == 10_000)
        #expect(try count(db) == 10_000)

        let select = try db.prepare("SELECT id, wamid, score, body FROM message ORDER BY id")
        var seen = 0
        try select.forEachRow { row in
            let i = seen
            #expect(row.int64(at: 0) == Int64(i + 1))
            #expect(row.text(at: 1) == "wamid.\(i)")
            #expect(row.double(at: 2) == Double(i) / 4)
            if i % 10 == 0 {
                #expect(row.isNull(at: 3))
                #expect(row.value(at: 3) == .null)
            } else {
                #expect(row.text(at: 3) == "body \(i)")
            }
            seen += 1
        }
        #expect(seen == 10_000)
        #expect(select.columnCount == 4)
        #expect(select.columnName(at: 1) == "wamid")

        // Aggregates over what was written, so a dropped or duplicated row would show up.
        let sums = try db.prepare("SELECT sum(id), sum(score), count(body) FROM message")
        #expect(try sums.step())
        #expect(sums.int64(at: 0) == 10_000 * 10_001 / 2)
        #expect(sums.double(at: 1) == Double(9_999 * 10_000 / 2) / 4)
        #expect(sums.int64(at: 2) == 9_000)
    }

    @Test func thrownErrorRollsBackTheTransaction() throws {
        let dir = try TemporaryDirectory()
        let db = try makeDatabase(dir)
        let insert = try db.prepare("INSERT INTO message (wamid) VALUES (?)")

        #expect(throws: DeliberateFailure.self) {
            try db.transaction {
                for i in 0..<5 { try insert.execute([.text("w\(i)")]) }
                throw DeliberateFailure()
            }
        }
        #expect(try count(db) == 0)

        // A failing statement inside the body rolls back the rows before it, too.
        #expect(throws: SQLiteError.self) {
            try db.transaction {
                try insert.execute(["dup"])
                try insert.execute(["dup"])
            }
        }
        #expect(try count(db) == 0)

        // The connection is usable again: the failed transactions did not stay open.
        let value = try db.transaction {
            try insert.execute(["kept"])
            return 7
        }
        #expect(value == 7)
        #expect(try count(db) == 1)
    }

    @Test func userVersionRoundTripsThroughTheFile() throws {
        let dir = try TemporaryDirectory()
        do {
            let db = try makeDatabase(dir)
            #expect(try db.userVersion == 0)
            try db.setUserVersion(42)
            #expect(try db.userVersion == 42)
            try db.setUserVersion(-3)
            #expect(try db.userVersion == -3)
            try db.setUserVersion(Int32.max)
        }
        let reopened = try Database(path: dir.file("test.sqlite"), mode: .readOnly)
        #expect(try reopened.userVersion == Int32.max)
    }

    @Test func prepareErrorNamesTheSQLAndTheCode() throws {
        let db = try Database(path: ":memory:")
        let sql = "SELECT name FROM missing_table"
        do {
            _ = try db.prepare(sql)
            Issue.record("prepare should have failed")
        } catch {
            guard case .prepareFailed = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.code == 1)
            #expect(error.sql == sql)
            #expect(error.description.contains(sql))
            #expect(error.description.contains("SQLITE_ERROR 1"))
            #expect(error.description.contains("no such table: missing_table"))
        }
    }

    @Test func constraintErrorCarriesCodesAndSQLButNotBoundValues() throws {
        let dir = try TemporaryDirectory()
        let db = try makeDatabase(dir)
        let sql = "INSERT INTO message (wamid, body) VALUES (?, ?)"
        let insert = try db.prepare(sql)
        try insert.execute(["wamid.secret-1", "private body text"])
        do {
            try insert.execute(["wamid.secret-1", "private body text"])
            Issue.record("duplicate insert should have failed")
        } catch {
            guard case .stepFailed = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.code == 19)  // SQLITE_CONSTRAINT
            #expect(error.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error.sql == sql)
            let text = error.description
            #expect(text.contains(sql))
            #expect(text.contains("SQLITE_CONSTRAINT 19, extended code 2067"))
            #expect(text.contains("UNIQUE constraint failed: message.wamid"))
            #expect(!text.contains("secret-1"))
            #expect(!text.contains("private body"))
        }
        // execute() reset the statement after the failure, so it can be reused at once.
        try insert.execute(["wamid.other", .null])
        #expect(try count(db) == 2)
    }

    @Test func scriptErrorNamesTheFailingStatementOnly() throws {
        let db = try Database(path: ":memory:")
        do {
            try db.execute("""
                CREATE TABLE a (x INTEGER NOT NULL);
                INSERT INTO a VALUES (1);
                INSERT INTO a VALUES (NULL);
                INSERT INTO a VALUES (3);
                """)
            Issue.record("script should have failed")
        } catch {
            #expect(error.sql == "INSERT INTO a VALUES (NULL);")
            #expect(error.extendedCode == 1299)  // SQLITE_CONSTRAINT_NOTNULL
        }
        // Without a transaction the statements before the failure stay applied, and later ones never ran.
        #expect(try count(db, "a") == 1)
        // Comments and blank text run nothing and are no error.
        try db.execute("  -- only a comment\n ; ")
        try db.execute("")
    }

    @Test func prepareRejectsEmptyAndMultipleStatements() throws {
        let db = try Database(path: ":memory:")
        #expect(throws: SQLiteError.emptyStatement(sql: "  -- nothing ")) { try db.prepare("  -- nothing ") }
        #expect(throws: SQLiteError.emptyStatement(sql: "")) { try db.prepare("") }
        #expect(throws: SQLiteError.multipleStatements(sql: "SELECT 1; SELECT 2")) {
            try db.prepare("SELECT 1; SELECT 2")
        }
        // A trailing semicolon and comment are not a second statement.
        let one = try db.prepare("SELECT 1; -- done\n")
        #expect(try one.step())
        #expect(one.int(at: 0) == 1)
    }

    @Test func bindingMistakesAreTypedErrors() throws {
        let db = try Database(path: ":memory:")
        let statement = try db.prepare("SELECT ?")
        #expect(statement.parameterCount == 1)
        #expect(throws: SQLiteError.parameterCountMismatch(sql: "SELECT ?", expected: 1, given: 2)) {
            try statement.execute([1, 2])
        }
        do {
            try statement.bind(5, at: 3)
            Issue.record("binding a missing parameter should fail")
        } catch {
            guard case .bindFailed(parameter: 3, sql: "SELECT ?", code: 25, extendedCode: 25, _) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(error.description.contains("SQLITE_RANGE"))
        }
    }

    @Test func unicodeTextRoundTrips() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        let samples = [
            "héllo wörld", "日本語のテキスト", "emoji 👩‍👩‍👧‍👦 and 🇺🇦", "\u{1F600}\u{0301}",
            "", "tab\tand\nnewline", "Ω≈ç√∫˜µ≤≥÷", String(repeating: "ü", count: 10_000),
        ]
        let insert = try db.prepare("INSERT INTO t (id, body) VALUES (?, ?)")
        for (i, text) in samples.enumerated() {
            try insert.bind(i, at: 1)
            try insert.bind(text, at: 2)
            try insert.execute()
        }
        let select = try db.prepare("SELECT body, typeof(body), length(CAST(body AS BLOB)) FROM t ORDER BY id")
        let rows = try select.mapRows { ($0.text(at: 0), $0.text(at: 1), $0.int(at: 2)) }
        #expect(rows.map(\.0) == samples)
        // The empty string is stored as text, not NULL, and byte lengths are the UTF-8 lengths.
        #expect(rows.allSatisfy { $0.1 == "text" })
        #expect(rows.map(\.2) == samples.map(\.utf8.count))
    }

    @Test func blobsRoundTripIncludingZeroBytesAndEmpty() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
        let samples: [[UInt8]] = [
            Array(0...255), [], [0, 0, 0], pseudoRandomBytes(count: 100_000, seed: 1),
        ]
        let insert = try db.prepare("INSERT INTO t (id, data) VALUES (?, ?)")
        for (i, blob) in samples.enumerated() {
            try insert.execute([.integer(Int64(i)), .blob(blob)])
        }
        let select = try db.prepare("SELECT data, typeof(data) FROM t ORDER BY id")
        let rows = try select.mapRows { ($0.blob(at: 0), $0.text(at: 1), $0.value(at: 0)) }
        #expect(rows.map { fingerprint($0.0) } == samples.map(fingerprint))
        #expect(rows.allSatisfy { $0.1 == "blob" })
        #expect(rows.allSatisfy { $0.2 == .blob($0.0) })
    }

    @Test func everyValueKindRoundTripsThroughSQLiteValue() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (a, b, c, d, e)")
        let values: [SQLiteValue] = [.null, .integer(Int64.min), .real(-0.5), .text("x"), .blob([1, 2])]
        try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)").execute(values)
        let select = try db.prepare("SELECT * FROM t")
        #expect(try select.step())
        #expect((0..<5).map { select.value(at: $0) } == values)
        #expect(try !select.step())
    }

    @Test func openingMissingFileReadWriteFailsWithPath() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("absent/db.sqlite")
        do {
            _ = try Database(path: path, mode: .readWrite)
            Issue.record("open should have failed")
        } catch {
            guard case .openFailed(path: path, code: 14, _, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains(path))
            #expect(error.description.contains("SQLITE_CANTOPEN"))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func busyDatabaseFailsAfterTheBusyTimeout() throws {
        let dir = try TemporaryDirectory()
        let holder = try makeDatabase(dir)
        let waiter = try Database(path: dir.file("test.sqlite"), busyTimeoutMilliseconds: 150)
        let clock = ContinuousClock()
        try holder.transaction {
            let started = clock.now
            do throws(SQLiteError) {
                try waiter.transaction { () throws(SQLiteError) in
                    try waiter.execute("INSERT INTO message (wamid) VALUES ('blocked')")
                }
                Issue.record("second writer should have been refused")
            } catch {
                #expect(error.code == 5)  // SQLITE_BUSY
                #expect(error.sql == "BEGIN IMMEDIATE")
            }
            // It waited for the lock instead of failing at once.
            #expect(clock.now - started >= .milliseconds(100))
            try holder.execute("INSERT INTO message (wamid) VALUES ('holder')")
        }
        // Once the lock is released the waiter can write.
        try waiter.transaction { try waiter.execute("INSERT INTO message (wamid) VALUES ('later')") }
        #expect(try count(holder) == 2)
    }

    @Test func readOnlyConnectionRefusesWrites() throws {
        let dir = try TemporaryDirectory()
        _ = try makeDatabase(dir)
        let db = try Database(path: dir.file("test.sqlite"), mode: .readOnly)
        do {
            try db.execute("INSERT INTO message (wamid) VALUES ('x')")
            Issue.record("write should have failed")
        } catch {
            #expect(error.code == 8)  // SQLITE_READONLY
        }
    }

    @Test func snapshotFileOpensAndHoldsTheSameRows() throws {
        let dir = try TemporaryDirectory()
        let db = try makeDatabase(dir)
        try db.setUserVersion(3)
        let insert = try db.prepare("INSERT INTO message (wamid, body, payload) VALUES (?, ?, ?)")
        try db.transaction {
            for i in 0..<500 { try insert.execute([.text("w\(i)"), .text("b\(i)"), .blob([UInt8(i % 256)])]) }
        }
        // Rows committed after the snapshot must not appear in it.
        let snapshotPath = dir.file("snapshot.sqlite")
        try db.vacuumInto(snapshotPath)
        try insert.execute(["late", "late", .null])

        // A self-contained file: no WAL companion needed to read it.
        #expect(!FileManager.default.fileExists(atPath: snapshotPath + "-wal"))
        let snapshot = try Database(path: snapshotPath, mode: .readOnly)
        #expect(try snapshot.journalMode == "delete")
        #expect(try snapshot.userVersion == 3)
        let query = "SELECT wamid, body, payload FROM message WHERE wamid != 'late' ORDER BY id"
        let original = try db.prepare(query).mapRows { [$0.value(at: 0), $0.value(at: 1), $0.value(at: 2)] }
        let copied = try snapshot.prepare(query.replacingOccurrences(of: " WHERE wamid != 'late'", with: ""))
            .mapRows { [$0.value(at: 0), $0.value(at: 1), $0.value(at: 2)] }
        #expect(original.count == 500)
        #expect(copied == original)

        // SQLite never overwrites an existing file; the error names the destination.
        do {
            try db.vacuumInto(snapshotPath)
            Issue.record("second snapshot to the same path should fail")
        } catch {
            guard case .snapshotFailed(destination: snapshotPath, _, _, _, _) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(error.description.contains(snapshotPath))
        }
    }
}

import CoexKit
import CoexSQLite
import CoexTestSupport
import Foundation
import Testing

@testable import CoexStore

private let waba = "222000222"

private func message(_ wamid: String, ts: Int64, arrival: Int, user: String = "100") -> Record {
    var r = Record(kind: .message, wabaID: waba, provenance: Provenance(source: "a.ndjson", line: arrival + 1))
    r.phoneNumberID = "555"
    r.wamid = wamid
    r.timestamp = ts
    r.contactWaID = user
    r.direction = .inbound
    r.origin = .live
    r.type = "text"
    r.body = "m \(wamid)"
    r.arrival = arrival
    return r
}

private func status(_ wamid: String, _ name: String, ts: Int64) -> Record {
    var r = Record(kind: .status, wabaID: waba, provenance: Provenance(source: "a.ndjson", line: 900))
    r.phoneNumberID = "555"
    r.wamid = wamid
    r.status = name
    r.timestamp = ts
    r.contactWaID = "100"
    return r
}

/// A load of `records` that stops before `finish`, as one does when the caller's input fails
/// half way (an unreadable record) or the caller throws for any other reason.
private func abandonedLoad(_ records: [Record], path: String, inspect: (BusinessLoad) throws -> Void = { _ in }) throws {
    var facts = IdentityFacts()
    for r in records { facts.add(r) }
    let load = try BusinessLoad(path: path, wabaID: waba, inputs: ["a.ndjson"], time: 7, identity: facts,
                                messageArrivals: records.compactMap(\.arrival).sorted())
    for r in LoadOrder.sorted(records) { try load.add(r) }
    try inspect(load)
}

private func files(_ dir: TempDir) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
}

private let night = (0..<50).map { message("wamid.\($0)", ts: 1000 + Int64($0), arrival: $0) }

@Suite struct LoadAtomicityTests {
    /// A new database exists only once it is complete: while it is built its file has a hidden
    /// name no listing of databases takes, and a load that stops before `finish` leaves nothing.
    @Test func newDatabaseAppearsOnlyWhenComplete() throws {
        let dir = try TempDir("coex-build")
        let path = dir.file("\(waba).sqlite")
        try abandonedLoad(night, path: path) { _ in
            let names = try files(dir)
            #expect(names == [".\(waba).sqlite.building"])
            // Not a database to coex-load's writable check, coex-report or anything listing *.sqlite.
            for name in names {
                #expect(!BusinessFile.suffixes.contains { name.hasSuffix($0) })
                #expect(!name.hasSuffix(".sqlite"))
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        #expect(try files(dir) == [])

        // The same records, finished: the database is there, complete, in WAL mode, alone.
        _ = try BusinessLoad.load(night, path: path, wabaID: waba, inputs: ["a.ndjson"], time: 7)
        #expect(try files(dir) == ["\(waba).sqlite"])
        #expect(try scalar(path, "SELECT count(*) FROM messages") == "50")
        #expect(try scalar(path, "PRAGMA journal_mode") == "wal")
        #expect(try scalar(path, "PRAGMA integrity_check") == "ok")
        // Its indexes were built after the rows, and are all there.
        let indexes = try rows(path, "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .compactMap { $0["name"] }
        #expect(indexes == ["contacts_contact_key", "messages_chat", "messages_contact_user_id", "messages_contact_wa_id",
                            "pending_changes_chat", "pending_changes_original", "statuses_chat"])
        #expect(try scalar(path, "SELECT count(*) FROM message_search") == "50")
    }

    /// A killed build leaves its hidden file (and maybe a journal beside it): the next run
    /// starts it afresh and never reads what it held.
    @Test func staleBuildingFileIsReplaced() throws {
        let dir = try TempDir("coex-stale")
        let path = dir.file("\(waba).sqlite")
        let stale = dir.file(".\(waba).sqlite.building")
        try Data(repeating: 0x5A, count: 10_000).write(to: URL(fileURLWithPath: stale))
        try Data(repeating: 0x33, count: 600).write(to: URL(fileURLWithPath: stale + "-journal"))
        _ = try BusinessLoad.load(night, path: path, wabaID: waba, inputs: ["a.ndjson"], time: 7)
        #expect(try files(dir) == ["\(waba).sqlite"])
        #expect(try scalar(path, "SELECT count(*) FROM messages") == "50")
        #expect(try scalar(path, "PRAGMA integrity_check") == "ok")
    }

    /// A new database and one loaded into an existing empty file hold the same tables.
    @Test func builtDatabaseEqualsOneLoadedInPlace() throws {
        let dir = try TempDir("coex-same")
        let records = night + [status("wamid.3", "read", ts: 2000), status("wamid.3", "delivered", ts: 1990)]
        let built = dir.file("built.sqlite")
        let inPlace = dir.file("inplace.sqlite")
        #expect(FileManager.default.createFile(atPath: inPlace, contents: nil))
        _ = try BusinessLoad.load(records, path: built, wabaID: waba, inputs: ["a.ndjson"], time: 7)
        _ = try BusinessLoad.load(records, path: inPlace, wabaID: waba, inputs: ["a.ndjson"], time: 7)
        #expect(try dump(built) == dump(inPlace))
        #expect(try scalar(built, "SELECT status FROM messages WHERE wamid = 'wamid.3'") == "read")
    }

    /// An existing database is updated in one transaction: nothing of the run is visible (or
    /// left) before the commit, and a load that stops half way leaves every table as it was.
    @Test func existingDatabaseIsUpdatedInOneTransaction() throws {
        let dir = try TempDir("coex-update")
        let path = dir.file("\(waba).sqlite")
        _ = try BusinessLoad.load(Array(night.prefix(20)), path: path, wabaID: waba, inputs: ["a.ndjson"], time: 7)
        let before = try dump(path)
        let importsBefore = try scalar(path, "SELECT count(*) FROM imports")

        let second = night + [status("wamid.1", "read", ts: 3000)]
        try abandonedLoad(second, path: path) { load in
            // Half way: a reader sees the database as it was, and a writer is kept out.
            #expect(try dump(path) == before)
            let writer = try Database(path: path, mode: .readWrite, busyTimeoutMilliseconds: 10)
            do throws(SQLiteError) {
                try writer.execute("DELETE FROM messages")
                Issue.record("the load's transaction should hold the write lock")
            } catch {
                #expect(error.isBusy)
            }
        }
        #expect(try dump(path) == before)
        #expect(try scalar(path, "SELECT count(*) FROM imports") == importsBefore)
        #expect(try files(dir).filter { $0.hasPrefix(".") } == [])

        // Finished, all of it is there at once.
        _ = try BusinessLoad.load(second, path: path, wabaID: waba, inputs: ["a.ndjson"], time: 8)
        #expect(try scalar(path, "SELECT count(*) FROM messages") == "50")
        #expect(try scalar(path, "SELECT status FROM messages WHERE wamid = 'wamid.1'") == "read")
    }

    /// After `finish` (or a failure) the load's database is closed: more records are an error,
    /// not writes outside any transaction.
    @Test func loadEndsWithFinish() throws {
        let dir = try TempDir("coex-ended")
        let path = dir.file("\(waba).sqlite")
        let load = try BusinessLoad(path: path, wabaID: waba, inputs: [], time: 1, identity: IdentityFacts())
        _ = try load.finish()
        #expect(throws: StoreError.loadEnded(path: path)) { try load.add(night[0]) }
        #expect(throws: StoreError.loadEnded(path: path)) { _ = try load.finish() }
        #expect(try scalar(path, "SELECT count(*) FROM messages") == "0")
    }
}

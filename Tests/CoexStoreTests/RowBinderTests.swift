import CoexKit
import CoexSQLite
import Foundation
import Testing

@testable import CoexStore

/// The rows bound straight from a record are the rows `Rows` makes of it, value for value.
@Suite struct RowBinderTests {
    private func table(_ name: String, _ columns: [String]) throws -> (Database, Statement) {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE \(name) (\(columns.joined(separator: ", ")))")
        return (db, try db.prepare(Rows.insert(name, columns)))
    }

    private func rows(_ db: Database, _ name: String) throws -> [[SQLiteValue]] {
        try db.prepare("SELECT * FROM \(name) ORDER BY rowid").mapRows { Rows.row($0) }
    }

    private var full: Record {
        var r = Record(kind: .message, wabaID: "1", provenance: Provenance(source: "night:1.ndjson", line: 4711))
        r.wamid = "wamid.ü"; r.phoneNumberID = "555"; r.contactWaID = "49"; r.contactUserID = "US.1"
        r.username = "@u"; r.countryCode = "DE"; r.groupID = nil; r.direction = .outbound; r.origin = .history
        r.type = "image"; r.body = "caption 日本"; r.content = RawJSON(Array(#"{"id":"x","caption":"日本"}"#.utf8))
        r.extra = RawJSON(Array(#"{"k":[1,2]}"#.utf8)); r.replyTo = "wamid.0"; r.errors = RawJSON(Array("[]".utf8))
        r.timestamp = -5; r.status = "read"; r.editCount = 2; r.revoked = true; r.revokedAt = 99; r.phase = 2
        r.chunkOrder = 3; r.threadIndex = 4; r.messageIndex = 5; r.historyAsset = true
        r.recipientID = "49"; r.recipientUserID = "US.1"
        return r
    }

    @Test(arguments: [true, false])
    func messagesAndStatusesBindAsRowsMakesThem(filled: Bool) throws {
        let r = filled ? full : Record(kind: .message, wabaID: "1", provenance: Provenance(source: "-", line: 0))
        var binder = RowBinder()
        let (db, insert) = try table("m", Rows.messageColumns)
        try insert.execute(Rows.messageValues(r, arrival: 7, seq: filled ? 3 : nil, status: filled ? "sent" : nil))
        try binder.bindMessage(r, arrival: 7, seq: filled ? 3 : nil, status: filled ? "sent" : nil, to: insert)
        try insert.execute()
        let m = try rows(db, "m")
        #expect(m.count == 2)
        #expect(m[0] == m[1])

        let (sdb, sinsert) = try table("s", Rows.statusColumns)
        try sinsert.execute(Rows.statusValues(r))
        try binder.bindStatus(r, to: sinsert)
        try sinsert.execute()
        let s = try rows(sdb, "s")
        #expect(s[0] == s[1])
        // Typed like Rows' values too (text stays text, NULL stays NULL).
        #expect(try sdb.prepare("SELECT count(DISTINCT typeof(source) || typeof(errors)) FROM s").mapRows { $0.int(at: 0) } == [1])
    }
}

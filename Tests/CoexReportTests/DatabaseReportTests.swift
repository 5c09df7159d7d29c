import CoexKit
import CoexSQLite
import CoexStore
import CoexTestSupport
import Foundation
import Testing

@testable import CoexReport

/// One database built from hand-made records through CoexStore's BusinessLoad, reported.
struct HandMadeBusiness {
    let dir: TempDir
    let path: String
    let report: BusinessReport

    static let other = "555001"

    init() throws {
        dir = try TempDir()
        var records: [Record] = []
        // History of 555000: phase 0 misses chunk 2, phase 1 chunk 0 came twice with
        // different progress, phase 2 reached 100.
        records += [chunk(phase: 0, order: 0, progress: 20, messages: 2), chunk(phase: 0, order: 1, progress: 40),
                    chunk(phase: 0, order: 3, progress: 60), chunk(phase: 1, order: 0, progress: 80),
                    chunk(phase: 1, order: 0, progress: 85), chunk(phase: 2, order: 1, progress: 100, time: 1_700)]
        // 555001 declined its history (and reported another sync error).
        records.append(record(.syncError, phone: Self.other) { $0.code = 2_593_109; $0.timestamp = 1_500; $0.title = "declined" })
        records.append(record(.syncError, phone: Self.other) { $0.code = 123; $0.timestamp = 1_501 })
        // Account: removed, reconnected, then an event the report does not know.
        records += [accountEvent("PARTNER_REMOVED", time: 100, reason: "USER_INITIATED"),
                    accountEvent("ACCOUNT_RECONNECTED", time: 200), accountEvent("SOMETHING_NEW", time: 300)]
        // Messages: user 100 by phone; 200 + US.2 in history; US.3 by BSUID only (its BSUID
        // changes to US.33); US.4 in a message, paired with 400 by a status.
        records += [
            message("m1", ts: 1_000, wa: "100", arrival: 0),
            message("m2", ts: 1_100, wa: "100", origin: .echo, direction: .outbound, arrival: 1),
            message("m3", ts: 900, wa: "200", user: "US.2", type: "image", body: nil, origin: .history, arrival: 2),
            message("m4", ts: 1_200, wa: nil, user: "US.3", arrival: 3),
            message("m5", ts: 1_150, wa: nil, user: "US.4", type: "sticker", body: nil, arrival: 4),
        ]
        records.append(record(.userIDChange) { $0.previousUserID = "US.3"; $0.contactUserID = "US.33"; $0.timestamp = 1_300 })
        // Edits and revokes: m1 edited twice, m2 revoked; pending: an edit of a missing
        // message and two revokes of another.
        records += [change(.edit, "e1", of: "m1", ts: 1_010, body: "hi!"), change(.edit, "e2", of: "m1", ts: 1_020, body: "hi!!"),
                    change(.revoke, "r1", of: "m2", ts: 1_150),
                    change(.edit, "e9", of: "mX", ts: 1_400, body: "late"), change(.revoke, "r9", of: "mY", ts: 1_410),
                    change(.revoke, "r8", of: "mY", ts: 1_420)]
        // Statuses: three of m2, two of a message sent through the API (no message row),
        // and one that pairs 400 with US.4.
        func status(_ wamid: String, _ status: String, ts: Int64, wa: String?, user: String? = nil) -> Record {
            record(.status) {
                $0.wamid = wamid; $0.status = status; $0.timestamp = ts; $0.contactWaID = wa; $0.contactUserID = user
                $0.direction = .outbound; $0.origin = .live
            }
        }
        records += [status("m2", "sent", ts: 1_101, wa: "100"), status("m2", "delivered", ts: 1_102, wa: "100"),
                    status("m2", "read", ts: 1_103, wa: "100"), status("api1", "sent", ts: 1_104, wa: "600"),
                    status("api1", "failed", ts: 1_105, wa: "600"), status("m5", "read", ts: 1_160, wa: "400", user: "US.4")]
        // Errors: one of m3 (131060), one of a whole webhook (131000).
        records.append(record(.error) { $0.wamid = "m3"; $0.code = 131_060; $0.timestamp = 900 })
        records.append(record(.error) { $0.code = 131_000; $0.timestamp = 950 })
        // Contacts: 100 in the list; 200 added then removed; 500 only by their profile.
        records += [
            record(.contact) { $0.action = "add"; $0.contactWaID = "100"; $0.fullName = "One"; $0.timestamp = 10 },
            record(.contact) { $0.action = "add"; $0.contactWaID = "200"; $0.fullName = "Two"; $0.timestamp = 10 },
            record(.contact) { $0.action = "remove"; $0.contactWaID = "200"; $0.timestamp = 20 },
            record(.contact) { $0.action = "profile"; $0.contactWaID = "500"; $0.profileName = "Five"; $0.timestamp = 30 },
        ]
        path = try load(records, into: dir, time: 1_768_000_000)
        // A second import with nothing new: two imports, the last at a later time.
        _ = try BusinessLoad.load([], path: path, wabaID: testWaba, inputs: ["a.ndjson", "b.ndjson"], time: 1_768_086_400)
        report = try ReportReader.read(path: path)
    }
}

@Suite struct DatabaseReportTests {
    let b: HandMadeBusiness
    var r: BusinessReport { b.report }
    init() throws { b = try HandMadeBusiness() }

    @Test func identityAndPhones() {
        #expect(r.wabaID == testWaba)
        #expect(r.path == b.path)
        #expect(r.schemaVersion == 2)
        #expect(r.phoneNumbers == [PhoneNumber(id: testPhone, display: nil), PhoneNumber(id: HandMadeBusiness.other, display: nil)])
    }

    @Test func historyGapsRepeatsAndDecline() throws {
        #expect(r.history.map(\.phoneNumberID) == [testPhone, HandMadeBusiness.other])
        let h = r.history[0]
        #expect(h.state == .incomplete)
        #expect(h.phases == [2, 1, 0])
        #expect(h.chunks == 6)
        #expect(h.chunksByPhase == [2: 1, 1: 2, 0: 3])
        #expect(h.gaps == [0: [2...2]])
        #expect(h.missingChunks == 1)
        #expect(h.repeated == [[1, 0]])
        #expect(h.progress == 100)
        #expect(h.messages == 7 && h.threads == 6)
        #expect(h.lastChunkTime == 1_700)
        #expect(!h.declined && h.declinedAt == nil)
        let d = r.history[1]
        #expect(d.state == .declined)
        #expect(d.declined && d.declinedAt == 1_500 && d.otherSyncErrors == 1)
        #expect(d.chunks == 0 && d.progress == nil && d.phases.isEmpty)
    }

    @Test func accountStateByTime() {
        #expect(r.account.state == .reconnected)
        #expect(r.account.since == 200)
        #expect(r.account.events.map(\.event) == ["PARTNER_REMOVED", "ACCOUNT_RECONNECTED", "SOMETHING_NEW"])
        #expect(r.account.events.map(\.stateAfter) == [.partnerRemoved, .reconnected, .reconnected])
        #expect(r.account.events.map(\.changesState) == [true, true, false])
        #expect(r.account.events[0].reason == "USER_INITIATED")
    }

    @Test func messageCounts() {
        #expect(r.messages.total == 5)
        #expect(r.messages.byOrigin == ["live": ["inbound": 3], "echo": ["outbound": 1], "history": ["inbound": 1]])
        #expect(r.messages.origins == ["history", "live", "echo"])
        #expect(r.messages.directions == ["inbound", "outbound"])
        #expect(r.messages.total(direction: "inbound") == 4)
        #expect(r.messages.byType == ["text": 3, "image": 1, "sticker": 1])
        #expect(r.messages.group == 0)
        #expect(r.timeRange == TimeRange(first: 900, last: 1_200))
    }

    @Test func editsRevokesPending() {
        #expect(r.edits.editedMessages == 1 && r.edits.edits == 2 && r.edits.versions == 3)
        #expect(r.revokedMessages == 1)
        #expect(r.pendingChanges == ["edit": 1, "revoke": 2])
        #expect(r.pendingTotal == 3)
    }

    @Test func statusesErrorsContacts() {
        #expect(r.statuses.total == 6)
        #expect(r.statuses.byStatus == ["sent": 2, "delivered": 1, "read": 2, "failed": 1])
        #expect(r.statuses.messagesWithoutRow == 1)
        #expect(r.errors.total == 2 && r.errors.messageErrors == 1 && r.errors.webhookErrors == 1)
        #expect(r.errors.byCode == ["131060": 1, "131000": 1])
        #expect(r.contacts.total == 3 && r.contacts.listed == 1 && r.contacts.removed == 1 && r.contacts.neverListed == 1)
    }

    /// US.3 (now US.33) never had a phone: BSUID only. US.4 was paired with 400 by a status
    /// and 200 with US.2 by its message: known both ways, not BSUID only.
    @Test func usersKnownByBSUIDOnly() {
        #expect(r.users.bsuidOnly == 1)
        #expect(r.users.phoneAndBSUID == 2)
        #expect(r.users.phoneOnly == 3)  // 100, 500 (profile), 600 (status of an API message)
        #expect(r.users.total == 6)
        #expect(r.users.userIDChanges == 1)
        #expect(r.users.pairs == 2)
    }

    @Test func imports() {
        #expect(r.imports.count == 2)
        #expect(r.imports.firstTime == 1_768_000_000)
        #expect(r.imports.lastTime == 1_768_086_400)
        #expect(r.imports.lastInputs == ["a.ndjson", "b.ndjson"])
    }

    /// Every documented key, in the documented order, with the values above.
    @Test func jsonHasTheDocumentedKeys() throws {
        let text = String(decoding: ReportJSON.render(r), as: UTF8.self)
        #expect(!text.contains("\n"))
        #expect(ReportJSON.line(r).last == 0x0A)
        let json = try parsedJSON(r)
        let topKeys = ["waba_id", "database", "schema_version", "phone_numbers", "account", "history", "messages", "edits",
                       "revoked_messages", "pending_changes", "statuses", "errors", "contacts", "users", "time_range", "imports",
                       "at", "at_iso", "at_given", "onboarding", "sync_deadlines", "pricing"]
        #expect(Set(json.keys) == Set(topKeys))
        var last = text.startIndex
        for key in topKeys {
            let found = text.range(of: "\"\(key)\":", range: last..<text.endIndex)
            #expect(found != nil, "\(key) missing or out of order")
            if let found { last = found.upperBound }
        }
        #expect(json["waba_id"] as? String == testWaba)
        #expect(json["schema_version"] as? Int == 2)
        let account = try #require(json["account"] as? [String: Any])
        #expect(account["state"] as? String == "reconnected")
        #expect(account["since"] as? Int == 200)
        #expect(account["since_iso"] as? String == "1970-01-01T00:03:20Z")
        let events = try #require(account["events"] as? [[String: Any]])
        #expect(events.map { $0["state_after"] as? String } == ["partner_removed", "reconnected", "reconnected"])
        #expect(Set(events[0].keys) == ["time", "time_iso", "event", "phone_number", "reason", "initiated_by",
                                         "owner_business_id", "entry_id", "changes_state", "state_after"])
        #expect(events[0]["phone_number"] is NSNull)
        let history = try #require(json["history"] as? [[String: Any]])
        #expect(Set(history[0].keys) == ["phone_number_id", "display_phone_number", "state", "phases", "chunks",
                                          "chunks_by_phase", "gaps", "missing_chunks", "repeated", "progress", "threads",
                                          "messages", "last_chunk_time", "last_chunk_time_iso", "declined", "declined_at",
                                          "declined_at_iso", "other_sync_errors"])
        #expect(history[0]["gaps"] as? [String: [[Int]]] == ["0": [[2, 2]]])
        #expect(history[0]["repeated"] as? [[Int]] == [[1, 0]])
        #expect(history[0]["phases"] as? [Int] == [2, 1, 0])
        #expect(history[0]["chunks_by_phase"] as? [String: Int] == ["2": 1, "1": 2, "0": 3])
        #expect(history[1]["state"] as? String == "declined")
        #expect(history[1]["declined_at"] as? Int == 1_500)
        #expect(history[1]["progress"] is NSNull)
        let messages = try #require(json["messages"] as? [String: Any])
        #expect(messages["by_origin"] as? [String: [String: Int]] == [
            "history": ["inbound": 1, "outbound": 0], "live": ["inbound": 3, "outbound": 0],
            "echo": ["inbound": 0, "outbound": 1],
        ])
        #expect(json["edits"] as? [String: Int] == ["edited_messages": 1, "edits": 2, "versions": 3])
        #expect(json["revoked_messages"] as? Int == 1)
        #expect((json["pending_changes"] as? [String: Any])?["by_kind"] as? [String: Int] == ["edit": 1, "revoke": 2])
        #expect((json["statuses"] as? [String: Any])?["messages_without_row"] as? Int == 1)
        #expect((json["errors"] as? [String: Any])?["by_code"] as? [String: Int] == ["131000": 1, "131060": 1])
        #expect(json["contacts"] as? [String: Int] == ["total": 3, "listed": 1, "removed": 1, "never_listed": 1])
        #expect(json["users"] as? [String: Int] == ["total": 6, "phone_only": 3, "phone_and_bsuid": 2, "bsuid_only": 1,
                                                    "user_id_changes": 1, "pairs": 2])
        let range = try #require(json["time_range"] as? [String: Any])
        #expect(range["first"] as? Int == 900 && range["last_iso"] as? String == "1970-01-01T00:20:00Z")
        let imports = try #require(json["imports"] as? [String: Any])
        #expect(imports["count"] as? Int == 2)
        #expect(imports["last_time_iso"] as? String == "2026-01-10T23:06:40Z")
        #expect(imports["last_inputs"] as? [String] == ["a.ndjson", "b.ndjson"])
    }

    /// The whole text section, aligned.
    @Test func textReport() {
        let expected = """
            business 111000111
              database          \(b.path) (schema 2)
              phone numbers     555000, 555001
              time range        1970-01-01T00:15:00Z to 1970-01-01T00:20:00Z (900 to 1200)
              imports           2, last 2026-01-10T23:06:40Z (1768086400), inputs: a.ndjson b.ndjson
              as of             1970-01-01T00:28:20Z (the latest time in the database)

              account state     reconnected since 1970-01-01T00:03:20Z
                time                  event                phone number  reason          initiated by  state after
                1970-01-01T00:01:40Z  PARTNER_REMOVED      -             USER_INITIATED  -             partner removed
                1970-01-01T00:03:20Z  ACCOUNT_RECONNECTED  -             -               -             reconnected
                1970-01-01T00:05:00Z  SOMETHING_NEW        -             -               -             (reconnected)

              history sync      555000 incomplete, 555001 declined
                phone number  state       phases  chunks  missing  gaps        repeated  progress  messages  declined
                555000        incomplete  2,1,0        6        1  phase 0: 2         1       100         7  no
                555001        declined    -            0        0  -                  0         -         0  yes, 1970-01-01T00:25:00Z
              onboarded         1970-01-01T00:00:10Z (first non-history webhook; no PARTNER_ADDED with a time)
              sync deadline     555000 on time (flagged), 555001 on time
                phone number  onboarded             deadline              finished              history     state    flagged
                555000        1970-01-01T00:00:10Z  1970-01-02T00:00:10Z  1970-01-01T00:28:20Z  incomplete  on time  yes
                555001        1970-01-01T00:00:10Z  1970-01-02T00:00:10Z  1970-01-01T00:25:00Z  declined    on time  no

              messages          5
                origin   inbound  outbound  total
                history        1         0      1
                live           3         0      3
                echo           0         1      1
                total          4         1      5
              message types     text 3, image 1, sticker 1
              group messages    0
              edits             1 message edited, 2 edits, 3 versions
              revokes           1 message revoked
              pending changes   3 (revoke 2, edit 1)
              statuses          6 (read 2, sent 2, delivered 1, failed 1); 1 message without a message row
              errors            2 (131000 1, 131060 1); 1 of a message, 1 of a webhook
              contacts          3: 1 in the list, 1 removed, 1 never listed
              users             6: 3 by phone only, 2 by phone and BSUID, 1 by BSUID only
              BSUID changes     1

              pricing           1 message sent from the app (free), 1 through the API (billed)
                month    app sent  api sent  billable  not billable  no pricing  inbound  api by status  api by category
                1970-01         1         1         0             0           1        3  failed 1       unknown 1

            """
        #expect(ReportText.render(r) == expected)
    }
}

@Suite struct ReportErrorTests {
    @Test func missingFile() throws {
        let dir = try TempDir()
        let path = dir.file("nothing.sqlite")
        #expect(throws: ReportError.missing(path: path)) { try ReportReader.read(path: path) }
        #expect("\(ReportError.missing(path: path))" == "\(path): no such file")
    }

    @Test func notSQLite() throws {
        let dir = try TempDir()
        let path = dir.file("notes.sqlite")
        try Data("these are notes, not a database\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: ReportError.self) { try ReportReader.read(path: path) }
        #expect(error == .notCoexDatabase(path: path, reason: "not an SQLite database"))
        #expect(error?.description == "\(path): not a coex database (not an SQLite database)")
    }

    @Test func foreignAndEmptySQLite() throws {
        let dir = try TempDir()
        let foreign = dir.file("foreign.sqlite")
        try Database(path: foreign, mode: .create, writeAheadLog: false).execute("CREATE TABLE people (name TEXT)")
        #expect(throws: ReportError.notCoexDatabase(
            path: foreign, reason: "an SQLite database with tables but no coex schema version")) {
            try ReportReader.read(path: foreign)
        }
        let empty = dir.file("empty.sqlite")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let error = #expect(throws: ReportError.self) { try ReportReader.read(path: empty) }
        guard case .notCoexDatabase(let p, _) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(p == empty)
    }

    @Test func newerSchemaIsRefusedUntouched() throws {
        let dir = try TempDir()
        let path = dir.file("new.sqlite")
        try Database(path: path, mode: .create, writeAheadLog: false).execute("CREATE TABLE future (x); PRAGMA user_version = 7;")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: ReportError.newerSchema(path: path, found: 7, supported: StoreSchema.version)) {
            try ReportReader.read(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func directoryListing() throws {
        let dir = try TempDir()
        #expect(throws: ReportError.noDatabases(directory: dir.path)) { try ReportReader.databases(in: dir.path) }
        #expect(throws: ReportError.notADirectory(path: dir.file("none"), reason: "no such directory")) {
            try ReportReader.databases(in: dir.file("none"))
        }
        for name in ["9.sqlite", "10.sqlite", "2.sqlite", "notes.txt", ".hidden.sqlite", "x.sqlite-wal"] {
            _ = FileManager.default.createFile(atPath: dir.file(name), contents: Data())
        }
        try FileManager.default.createDirectory(atPath: dir.file("sub.sqlite"), withIntermediateDirectories: true)
        // Sorted by WABA id as text.
        #expect(try ReportReader.databases(in: dir.path) == ["10", "2", "9"].map { dir.path + "/\($0).sqlite" })
        #expect(try ReportReader.databases(in: dir.path + "/").first == dir.path + "/10.sqlite")
        #expect(ReportReader.wabaID(ofDatabase: "out/db/102290129340398.sqlite") == "102290129340398")
        #expect(ReportReader.wabaID(ofDatabase: "copy.db") == "copy.db")
    }

    @Test func immutableURIEscapesThePath() {
        #expect(ReportReader.immutableURI("/tmp/a b/x?#%.sqlite") == "file:/tmp/a%20b/x%3F%23%25.sqlite?immutable=1")
    }

    /// A database in a directory the reader cannot write to (no -shm can be made) is
    /// still reported, and nothing is written next to it.
    @Test func readOnlyDirectory() throws {
        guard getuid() != 0 else { return }  // root may write anywhere
        let dir = try TempDir()
        let sub = dir.file("ro")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let path = try load([message("m1", ts: 5, arrival: 0)], into: dir)
        try FileManager.default.moveItem(atPath: path, toPath: sub + "/\(testWaba).sqlite")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: sub)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sub) }
        let r = try ReportReader.read(path: sub + "/\(testWaba).sqlite")
        #expect(r.messages.total == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sub) == ["\(testWaba).sqlite"])
    }
}

import CoexKit
import CoexSQLite
import CoexTestSupport
import Foundation
import Testing

@testable import CoexStore

private let waba = "111000111"
private let phone = "555000"

private func record(_ kind: RecordKind, line: Int = 1, _ fill: (inout Record) -> Void) -> Record {
    var r = Record(kind: kind, wabaID: waba, provenance: Provenance(source: "t.ndjson", line: line))
    r.phoneNumberID = phone
    fill(&r)
    return r
}

private func message(_ wamid: String, ts: Int64, wa: String? = "100", user: String? = nil, type: String = "text",
                     body: String? = nil, arrival: Int, line: Int = 1) -> Record {
    record(.message, line: line) {
        $0.wamid = wamid
        $0.timestamp = ts
        $0.contactWaID = wa
        $0.contactUserID = user
        $0.direction = .inbound
        $0.origin = .live
        $0.type = type
        $0.body = body
        if let body { $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8)) }
        $0.arrival = arrival
    }
}

private func load(_ records: [Record], into path: String, time: Int64 = 1) throws -> LoadCounts {
    try BusinessLoad.load(records, path: path, wabaID: waba, inputs: ["test"], time: time)
}

@Suite struct SchemaTests {
    @Test func freshDatabaseHasVersionAndTables() throws {
        let dir = try TempDir()
        let path = dir.file("a.sqlite")
        _ = try load([], into: path)
        let db = try Database(path: path, mode: .readOnly)
        #expect(try db.userVersion == StoreSchema.version)
        #expect(StoreSchema.version == 2)
        #expect(StoreSchema.migrations.map(\.version) == Array(1...StoreSchema.version))
        let required: [String: [String]] = [
            "messages": ["wamid", "phone_number_id", "contact_wa_id", "contact_user_id", "username", "direction", "origin",
                         "type", "body", "content", "extra", "reply_to", "errors", "timestamp", "seq", "status",
                         "edit_count", "revoked", "revoked_at", "phase", "chunk_order", "thread_index", "message_index",
                         "source"],
            "message_versions": ["wamid", "version", "edit_wamid", "edited_at", "type", "body", "content"],
            "statuses": ["wamid", "status", "timestamp", "recipient_id", "recipient_user_id", "contact_wa_id",
                         "contact_user_id", "errors"],
            "contacts": ["phone_number_id", "wa_id", "user_id", "username", "full_name", "first_name", "profile_name",
                         "removed", "updated_at"],
            "account_events": ["event", "time", "phone_number", "reason", "initiated_by", "owner_business_id", "entry_id",
                               "extra"],
            "history_chunks": ["phone_number_id", "phase", "chunk_order", "progress", "threads", "messages"],
            "sync_errors": ["phone_number_id", "code", "title", "details", "timestamp"],
            "errors": ["wamid", "code", "title", "message", "details", "timestamp"],
            "pending_changes": ["kind", "wamid", "original_message_id"],
            "user_ids": ["wa_id", "user_id"],
            "user_id_changes": ["previous_user_id", "user_id"],
            "imports": ["time", "inputs", "counts"],
        ]
        for (table, columns) in required {
            let have = try db.prepare("SELECT name FROM pragma_table_info('\(table)')").mapRows { $0.text(at: 0) }
            for column in columns { #expect(have.contains(column), "\(table).\(column)") }
        }
        #expect(try db.journalMode == "wal")
        #expect(try scalar(path, "SELECT count(*) FROM imports") == "1")
    }

    @Test func newerSchemaIsRefusedUntouched() throws {
        let dir = try TempDir()
        let path = dir.file("new.sqlite")
        do {
            let db = try Database(path: path, mode: .create, writeAheadLog: false)
            try db.execute("CREATE TABLE future (x); PRAGMA user_version = 7;")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.newerSchema(path: path, found: 7, supported: StoreSchema.version)) {
            _ = try load([message("w1", ts: 1, arrival: 0)], into: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect("\(StoreError.newerSchema(path: path, found: 7, supported: 1))".contains("newer than this coex-load knows"))
    }

    @Test func foreignDatabaseIsRefused() throws {
        let dir = try TempDir()
        let path = dir.file("other.sqlite")
        do {
            let db = try Database(path: path, mode: .create, writeAheadLog: false)
            try db.execute("CREATE TABLE people (name TEXT)")
        }
        #expect(throws: StoreError.foreignDatabase(path: path)) { _ = try load([], into: path) }
    }

    /// The one check coex-load, coex-report and coex-export share: each state as the file shows it.
    @Test func schemaStateOfEveryKindOfFile() throws {
        let dir = try TempDir()
        func state(_ setup: String) throws -> StoreSchema.State {
            let path = dir.file(UUID().uuidString + ".sqlite")
            let db = try Database(path: path, mode: .create, writeAheadLog: false)
            try db.execute(setup)
            return try StoreSchema.state(of: Database(path: path, mode: .readOnly))
        }
        #expect(try state("") == .empty)
        #expect(try state("CREATE TABLE people (name TEXT)") == .foreign)
        #expect(try state("CREATE TABLE people (name TEXT); PRAGMA user_version = -1") == .foreign)
        #expect(try state("PRAGMA user_version = 1") == .known(1))
        #expect(try state("PRAGMA user_version = \(StoreSchema.version + 1)") == .newer(StoreSchema.version + 1))
        let loaded = dir.file("loaded.sqlite")
        _ = try load([message("w1", ts: 1, arrival: 0)], into: loaded)
        #expect(try StoreSchema.state(of: Database(path: loaded, mode: .readOnly)) == .known(StoreSchema.version))
        // Not SQLite at all: SQLite's own error, SQLITE_NOTADB.
        let text = dir.file("notes.sqlite")
        try String(repeating: "not a database ", count: 20).write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: SQLiteError.self) { try StoreSchema.state(of: Database(path: text, mode: .readOnly)) }
        do {
            _ = try StoreSchema.state(of: Database(path: text, mode: .readOnly))
        } catch {
            #expect(error.code == 26)
        }
    }

    @Test func unsafeBusinessIDs() throws {
        for id in ["", ".", "..", "a/b", "x\0y"] {
            #expect(!BusinessFile.isSafe(id))
            #expect(throws: StoreError.unsafeBusinessID(id)) { _ = try BusinessFile.path(for: id, in: "/tmp") }
        }
        #expect(try BusinessFile.path(for: "102290129340398", in: "/out/") == "/out/102290129340398.sqlite")
        #expect(LoadCheck.problem(with: record(.message) { $0.wabaID = ".."; $0.wamid = "w" }) != nil)
    }
}

@Suite struct IdentityTests {
    @Test func pairJoinsPhoneAndBSUID() {
        let g = IdentityGraph()
        #expect(g.resolve(waID: "100", userID: nil) == ChatIdentity(waID: "100", userID: nil))
        g.add(UserIDPair(waID: "100", userID: "US.1"), SeenSpan(5))
        #expect(g.resolve(waID: nil, userID: "US.1") == ChatIdentity(waID: "100", userID: "US.1"))
        #expect(g.resolve(waID: "100", userID: nil).key == "100")
        #expect(g.resolve(waID: "", userID: "") == ChatIdentity(waID: nil, userID: nil))
        #expect(g.resolve(waID: "", userID: "") .key == nil)
    }

    @Test func changeShowsTheCurrentBSUID() {
        let g = IdentityGraph()
        g.add(UserIDChange(previous: "US.old", current: "US.new"), UserIDChangeSeen(changedAt: 10, waID: nil, wamid: nil))
        #expect(g.resolve(waID: nil, userID: "US.old") == ChatIdentity(waID: nil, userID: "US.new"))
        g.add(UserIDPair(waID: "200", userID: "US.old"), SeenSpan(3))
        #expect(g.resolve(waID: nil, userID: "US.new") == ChatIdentity(waID: "200", userID: "US.new"))
        #expect(g.members(of: ChatIdentity(waID: "200", userID: "US.new")).userIDs == ["US.new", "US.old"])
    }

    @Test func resolutionDoesNotDependOnOrder() {
        let facts: [(UserIDPair, SeenSpan)] = [
            (UserIDPair(waID: "1", userID: "U"), SeenSpan(10)),
            (UserIDPair(waID: "2", userID: "U"), SeenSpan(20)),
            (UserIDPair(waID: "3", userID: "V"), SeenSpan(5)),
        ]
        var results: Set<[ChatIdentity]> = []
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]] {
            let g = IdentityGraph()
            for i in order { g.add(facts[i].0, facts[i].1) }
            results.insert(["1", "2", "3"].map { g.resolve(waID: $0, userID: nil) })
        }
        #expect(results.count == 1)
        // The phone of the most recently seen pair shows.
        #expect(results.first?[0] == ChatIdentity(waID: "2", userID: "U"))
    }

    @Test func groupRecordsNameNoUser() {
        var facts = IdentityFacts()
        facts.add(record(.status) { $0.groupID = "g"; $0.contactWaID = "1"; $0.contactUserID = "U" })
        #expect(facts.isEmpty)
        facts.add(record(.status) { $0.contactWaID = "1"; $0.contactUserID = "U"; $0.timestamp = 4 })
        #expect(facts.pairs == [UserIDPair(waID: "1", userID: "U"): SeenSpan(4)])
    }
}

@Suite struct ContactStateTests {
    private func contact(_ action: String, ts: Int64, full: String? = nil, profile: String? = nil) -> Record {
        record(.contact) {
            $0.action = action
            $0.timestamp = ts
            $0.contactWaID = "100"
            $0.fullName = full
            $0.profileName = profile
        }
    }

    @Test func foldIsOrderIndependent() {
        let records = [
            contact("add", ts: 10, full: "Ann"),
            contact("remove", ts: 20),
            contact("add", ts: 20, full: "Ann B"),
            contact("profile", ts: 30, profile: "Annie"),
            contact("profile", ts: 5, profile: "A"),
        ]
        var states: Set<[String?]> = []
        for perm in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3], [1, 2, 0, 3, 4]] {
            var s = ContactState(phoneNumberID: phone, identity: ChatIdentity(waID: "100", userID: nil))
            for i in perm { s.add(records[i]) }
            states.insert([s.listAction, s.fullName, s.profileName, String(s.updatedAt ?? 0)])
        }
        // Remove wins at equal times and keeps the last names; the later profile name shows.
        #expect(states == [["remove", "Ann B", "Annie", "30"]])
    }

    @Test func profileNeverTouchesTheList() {
        var s = ContactState(phoneNumberID: phone, identity: ChatIdentity(waID: "100", userID: nil))
        s.add(contact("profile", ts: 50, profile: "P"))
        #expect(s.listAction == nil && !s.removed && s.profileName == "P")
    }
}

@Suite struct LibraryLoadTests {
    /// Ties: sent < delivered < read < played < failed; otherwise the latest time wins.
    @Test func statusRule() throws {
        let dir = try TempDir()
        let path = dir.file("s.sqlite")
        func status(_ wamid: String, _ s: String, _ ts: Int64) -> Record {
            record(.status) { $0.wamid = wamid; $0.status = s; $0.timestamp = ts; $0.contactWaID = "100" }
        }
        let records = [
            message("m1", ts: 1, arrival: 0), message("m2", ts: 2, arrival: 1), message("m3", ts: 3, arrival: 2),
            status("m1", "read", 10), status("m1", "delivered", 12),
            status("m2", "played", 10), status("m2", "read", 10), status("m2", "failed", 10),
            status("m3", "sent", 5), status("m3", "delivered", 5),
        ]
        _ = try load(records, into: path)
        #expect(try rows(path, "SELECT wamid, status FROM messages ORDER BY wamid")
            == [["wamid": "m1", "status": "delivered"], ["wamid": "m2", "status": "failed"],
                ["wamid": "m3", "status": "delivered"]])
        // A later import with an earlier copy of a status keeps the earliest time; the
        // message's status follows.
        _ = try load([status("m1", "delivered", 9)], into: path)
        #expect(try scalar(path, "SELECT timestamp FROM statuses WHERE wamid = 'm1' AND status = 'delivered'") == "9")
        #expect(try scalar(path, "SELECT status FROM messages WHERE wamid = 'm1'") == "read")
    }

    /// Real content beats a placeholder whatever the order, across imports.
    @Test func unsupportedAndRealAcrossImportsInBothOrders() throws {
        let dir = try TempDir()
        var unsupported = message("w", ts: 100, type: "unsupported", arrival: 0, line: 7)
        unsupported.errors = RawJSON(Array(#"[{"code":131060}]"#.utf8))
        let real = message("w", ts: 100, body: "hello", arrival: 0, line: 8)
        var dumps: [[String: [String]]] = []
        for (i, order) in [[unsupported, real], [real, unsupported]].enumerated() {
            let path = dir.file("o\(i).sqlite")
            _ = try load([order[0]], into: path)
            _ = try load([order[1]], into: path)
            #expect(try rows(path, "SELECT type, body, errors FROM messages")
                == [["type": "text", "body": "hello", "errors": #"[{"code":131060}]"#]])
            var d = try dump(path)
            d["messages"] = d["messages"]?.map { $0.replacingOccurrences(of: "t.ndjson:8", with: "t.ndjson:7") }
            dumps.append(d)
        }
        // Apart from the first sighting (the source), both orders give the same row.
        #expect(dumps[0] == dumps[1])
    }

    /// An edit stored pending on one import applies when the message arrives on a later one,
    /// and an edit arriving after the message applies to the stored row; a second revoke
    /// keeps the earliest time.
    @Test func pendingChangesAndLaterEdits() throws {
        let dir = try TempDir()
        let path = dir.file("e.sqlite")
        func change(_ kind: RecordKind, _ wamid: String, ts: Int64, body: String? = nil) -> Record {
            record(kind) {
                $0.wamid = wamid
                $0.originalMessageID = "m"
                $0.timestamp = ts
                $0.contactWaID = "100"
                $0.direction = .inbound
                $0.origin = .live
                if let body {
                    $0.type = "text"
                    $0.body = body
                    $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8))
                }
            }
        }
        _ = try load([change(.edit, "e2", ts: 30, body: "third")], into: path)
        #expect(try scalar(path, "SELECT count(*) FROM pending_changes") == "1")
        let c1 = try load([message("m", ts: 10, body: "first", arrival: 0)], into: path)
        #expect(c1.pendingApplied == 1)
        #expect(try scalar(path, "SELECT count(*) FROM pending_changes") == "0")
        _ = try load([change(.edit, "e1", ts: 20, body: "second"), change(.revoke, "r2", ts: 50)], into: path)
        _ = try load([change(.revoke, "r1", ts: 40)], into: path)
        #expect(try rows(path, "SELECT body, edit_count, revoked, revoked_at FROM messages")
            == [["body": "third", "edit_count": "2", "revoked": "1", "revoked_at": "40"]])
        #expect(try rows(path, "SELECT version, edit_wamid, body FROM message_versions ORDER BY version")
            == [["version": "0", "body": "first"], ["version": "1", "edit_wamid": "e1", "body": "second"],
                ["version": "2", "edit_wamid": "e2", "body": "third"]])
        // All at once gives the same tables.
        let once = dir.file("once.sqlite")
        _ = try load([change(.edit, "e2", ts: 30, body: "third"), message("m", ts: 10, body: "first", arrival: 0),
                      change(.edit, "e1", ts: 20, body: "second"), change(.revoke, "r2", ts: 50),
                      change(.revoke, "r1", ts: 40)], into: once)
        #expect(try dump(once) == dump(path))
    }

    /// A chat stored under the BSUID only gets its phone when a later import pairs them,
    /// and its two contacts rows become one.
    @Test func reconcilesRowsStoredBeforeThePair() throws {
        let dir = try TempDir()
        let path = dir.file("r.sqlite")
        func profile(wa: String?, user: String?, name: String, ts: Int64) -> Record {
            record(.contact) { $0.action = "profile"; $0.contactWaID = wa; $0.contactUserID = user; $0.profileName = name; $0.timestamp = ts }
        }
        _ = try load([message("a", ts: 1, wa: "100", arrival: 0), profile(wa: "100", user: nil, name: "Old", ts: 1)], into: path)
        _ = try load([message("b", ts: 2, wa: nil, user: "US.9", arrival: 0), profile(wa: nil, user: "US.9", name: "New", ts: 2)], into: path)
        #expect(try scalar(path, "SELECT count(*) FROM contacts") == "2")
        let c = try load([record(.status) { $0.wamid = "b"; $0.status = "read"; $0.timestamp = 3; $0.contactWaID = "100"; $0.contactUserID = "US.9" }],
                         into: path)
        #expect(c.usersReconciled >= 1)
        #expect(try rows(path, "SELECT DISTINCT contact_wa_id, contact_user_id FROM messages")
            == [["contact_wa_id": "100", "contact_user_id": "US.9"]])
        #expect(try rows(path, "SELECT contact_key, wa_id, user_id, profile_name FROM contacts")
            == [["contact_key": "100", "wa_id": "100", "user_id": "US.9", "profile_name": "New"]])
    }

    @Test func loadOrderPutsStatusesThenMessagesInWamidOrderWithTheirVersions() {
        var v = record(.messageVersion) { $0.wamid = "a"; $0.version = 0 }
        v.arrival = 9
        let sorted = LoadOrder.sorted([
            record(.status) { $0.wamid = "a"; $0.status = "read"; $0.timestamp = 2 },
            message("b", ts: 1, arrival: 1), v, message("a", ts: 5, arrival: 2),
            record(.contact) { $0.action = "add"; $0.contactWaID = "1" },
        ])
        #expect(sorted.map { "\($0.kind.rawValue):\($0.wamid ?? "")" }
            == ["contact:", "status:a", "message:a", "message_version:a", "message:b"])
    }
}

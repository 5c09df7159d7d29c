import CoexSQLite
import CoexTestSupport
import Foundation
import Testing

@testable import CoexStore

/// samples/night1.ndjson and night2.ndjson through the whole pipe into databases, loaded
/// night by night (two imports) and all at once (one import): the tables must be equal,
/// and hold exactly what the domain rules say for each case of the samples (samples/README.md).
struct SampleFixture: Sendable {
    let scratch: TempDir
    let nightly: String
    let allAtOnce: String
    /// The databases after night 1 only.
    let afterNight1: String
    let rerunLog: String

    static let A = "102290129340398"  // Lucky Shrubs: history, edits, revokes, contacts
    static let B = "862475293675413"  // bakery: PARTNER_ADDED via waba_info, history declined
    static let C = "403958172640285"  // Café Lindenhof: BSUID cases

    static let shared: Result<SampleFixture, any Error> = Result { try SampleFixture() }

    static func get() throws -> SampleFixture { try shared.get() }

    init() throws {
        scratch = try TempDir("coex-samples")
        nightly = scratch.file("nightly")
        allAtOnce = scratch.file("all")
        afterNight1 = scratch.file("night1")
        let n1 = Tools.sample("night1.ndjson")
        let n2 = Tools.sample("night2.ndjson")
        try Tools.importNight([n1], into: afterNight1, scratch: scratch)
        try Tools.importNight([n1], into: nightly, scratch: scratch)
        try Tools.importNight([n2], into: nightly, scratch: scratch)
        try Tools.importNight([n1, n2], into: allAtOnce, scratch: scratch)
        // Night 2 again: must change nothing but imports (checked below).
        rerunLog = try Tools.importNight([n2], into: nightly, scratch: scratch)
    }

    func db(_ waba: String, _ dir: String? = nil) -> String { (dir ?? nightly) + "/\(waba).sqlite" }
}

@Suite struct SampleLoadTests {
    let f: SampleFixture
    init() throws { f = try SampleFixture.get() }

    @Test func nightByNightEqualsAllAtOnce() throws {
        #expect(try databases(in: f.nightly) == ["\(SampleFixture.A).sqlite", "\(SampleFixture.C).sqlite", "\(SampleFixture.B).sqlite"].sorted())
        for name in try databases(in: f.allAtOnce) {
            let all = try dump(f.allAtOnce + "/" + name)
            let nightly = try dump(f.nightly + "/" + name)
            for table in all.keys.sorted() {
                #expect(all[table] == nightly[table], "\(name) table \(table)")
            }
        }
    }

    @Test func reloadChangesOnlyImports() throws {
        // The fixture loaded night 2 twice into `nightly`; a third way to see the same state:
        // all-at-once equals it (above), and each database has one more import row.
        for waba in [SampleFixture.A, SampleFixture.B, SampleFixture.C] {
            #expect(try scalar(f.db(waba), "SELECT count(*) FROM imports") == "3")
            #expect(try scalar(f.db(waba, f.allAtOnce), "SELECT count(*) FROM imports") == "1")
        }
        #expect(f.rerunLog.contains("messages 0 new, 0 updated"))
        // Loading an identical state file again into the all-at-once databases changes nothing.
        let before = try databases(in: f.allAtOnce).map { try dump(f.allAtOnce + "/" + $0) }
        let state = f.scratch.file("again.ndjson")
        try Tools.pipe([Tools.sample("night1.ndjson"), Tools.sample("night2.ndjson")], to: state)
        let copy = f.scratch.file("all-again")
        try FileManager.default.copyItem(atPath: f.allAtOnce, toPath: copy)
        try Tools.bash("coex-load --out-dir \(Tools.quote(copy)) \(Tools.quote(state))")
        let after = try databases(in: copy).map { try dump(copy + "/" + $0) }
        #expect(before == after)
        #expect(try scalar(copy + "/\(SampleFixture.A).sqlite", "SELECT count(*) FROM imports") == "2")
    }

    @Test func schemaVersionAndTables() throws {
        let path = f.db(SampleFixture.A)
        #expect(try scalar(path, "PRAGMA user_version") == "2")
        #expect(try scalar(path, "PRAGMA journal_mode") == "wal")
        #expect(try scalar(path, "PRAGMA integrity_check") == "ok")
    }

    /// The reference media_placeholder (phase 0 chunk 1) is resolved by its media asset:
    /// type and caption from the asset, time, direction and place from the placeholder.
    @Test func placeholderResolvedSameNight() throws {
        let r = try rows(f.db(SampleFixture.A), """
            SELECT type, body, direction, origin, timestamp, phase, chunk_order, thread_index, message_index, status
            FROM messages WHERE wamid = 'wamid.QyNUEHBgLMTY0NjcwNDM1OTUVAgARGBI1Rj3NEYxMzAzMzQ5MkEA'
            """)
        #expect(r == [[
            "type": "image", "body": "Black Prince echeveria", "direction": "outbound", "origin": "history",
            "timestamp": "1739230970", "phase": "0", "chunk_order": "1", "thread_index": "0", "message_index": "1",
            "status": "played",
        ]])
    }

    /// Night 1's phase 1 placeholder is resolved only by night 2's media asset: the stored
    /// row takes the content and keeps its history place and first sighting.
    @Test func placeholderResolvedNextNight() throws {
        let wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTIwRDU1QzQ2NDAyQTI0MDQ5NgA="
        let before = try rows(f.db(SampleFixture.A, f.afterNight1), "SELECT type FROM messages WHERE wamid = '\(wamid)'")
        #expect(before == [["type": "media_placeholder"]])
        let after = try rows(f.db(SampleFixture.A), """
            SELECT type, body, origin, phase, chunk_order, thread_index, message_index, source
            FROM messages WHERE wamid = '\(wamid)'
            """)
        #expect(after == [[
            "type": "image", "body": "See? So leggy", "origin": "history", "phase": "1", "chunk_order": "2",
            "thread_index": "0", "message_index": "1", "source": "samples/night1.ndjson:30",
        ]])
    }

    /// Mia's edit arrives on night 1, her original on night 2: pending after night 1,
    /// applied (and no longer pending) after night 2, both versions kept.
    @Test func editBeforeOriginalAcrossNights() throws {
        let original = "wamid.HBgLMTY0NjU1NTAxMjMVAgASGBQzQTUwODFFODcwRjAxMDlFNDlFRAA="
        let pendingBefore = try rows(f.db(SampleFixture.A, f.afterNight1),
                                     "SELECT kind, body, source FROM pending_changes WHERE original_message_id = '\(original)'")
        #expect(pendingBefore == [["kind": "edit", "body": "Can I get delivery on Friday instead?",
                                   "source": "samples/night1.ndjson:46"]])
        let message = try rows(f.db(SampleFixture.A),
                               "SELECT body, edit_count, revoked, source FROM messages WHERE wamid = '\(original)'")
        #expect(message == [["body": "Can I get delivery on Friday instead?", "edit_count": "1", "revoked": "0",
                             "source": "samples/night2.ndjson:2"]])
        let versions = try rows(f.db(SampleFixture.A),
                                "SELECT version, body, edited_at FROM message_versions WHERE wamid = '\(original)' ORDER BY version")
        #expect(versions == [
            ["version": "0", "body": "Can I get delivery on Thursday instead?", "edited_at": "1768425000"],
            ["version": "1", "body": "Can I get delivery on Friday instead?", "edited_at": "1768425075"],
        ])
        #expect(try scalar(f.db(SampleFixture.A),
                           "SELECT count(*) FROM pending_changes WHERE original_message_id = '\(original)'") == "0")
        // The reference edit and revoke never find their message: both stay pending.
        #expect(try rows(f.db(SampleFixture.A), "SELECT kind FROM pending_changes ORDER BY kind")
            == [["kind": "edit"], ["kind": "revoke"]])
    }

    /// Ana's two edits arrive in reverse order on one night: the later edit wins.
    @Test func editsInEditTimeOrder() throws {
        let wamid = "wamid.HBgLMTMxMDU1NTAxODcVAgASGBQzQTcyREIwNTM0MzczNDVCQTE4QwA="
        #expect(try rows(f.db(SampleFixture.A), "SELECT body, edit_count FROM messages WHERE wamid = '\(wamid)'")
            == [["body": "I'd like 5 succulents for a wedding table", "edit_count": "2"]])
    }

    /// Night 2's echo revoke of night 1's echo: revoked at the revoke's time, content kept.
    @Test func revokeOfStoredMessage() throws {
        let wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBQzQTI3NTIzNzM4N0FDMjQzNDYxOQA="
        #expect(try rows(f.db(SampleFixture.A, f.afterNight1), "SELECT revoked FROM messages WHERE wamid = '\(wamid)'")
            == [["revoked": "0"]])
        #expect(try rows(f.db(SampleFixture.A), "SELECT body, revoked, revoked_at, status FROM messages WHERE wamid = '\(wamid)'")
            == [["body": "Pots are 20% off, plants 30%.", "revoked": "1", "revoked_at": "1768472100", "status": "read"]])
    }

    /// 131060 unsupported and the real message of the same wamid: the real content wins,
    /// the error stays recorded, on the message and in `errors`.
    @Test func unsupportedThenReal() throws {
        let wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTUyRTg4RjYwOEVCNUZCQkZFNQA="
        let r = try rows(f.db(SampleFixture.A), "SELECT type, body, errors IS NOT NULL AS has_errors FROM messages WHERE wamid = '\(wamid)'")
        #expect(r == [["type": "text", "body": "Hi, I saw your winter sale ad. Is it 30% off pots too?", "has_errors": "1"]])
        #expect(try scalar(f.db(SampleFixture.A), "SELECT code FROM errors WHERE wamid = '\(wamid)'") == "131060")
        // Café: the real message first, then unsupported (night 2 lines 28-29).
        let c = try rows(f.db(SampleFixture.C), """
            SELECT type FROM messages WHERE wamid = 'wamid.HBgNNDkxNTc5ODc2NTQzMhUCABIYFDNBQ0FGRkM4NUU4MjVGNDkyRTFEAA=='
            """)
        #expect(c == [["type": "text"]])
    }

    /// Night 1's unsupported 131060 (line 50) and its real message (line 51) split into two
    /// captures loaded on two nights, in both orders and at once: the real content wins,
    /// the error stays, and only the first sighting (source) tells the orders apart.
    @Test func unsupportedThenRealAcrossNights() throws {
        let scratch = try TempDir("coex-split")
        let lines = try String(contentsOfFile: Tools.repository.appendingPathComponent("samples/night1.ndjson").path,
                               encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let a = scratch.file("a.ndjson")
        let b = scratch.file("b.ndjson")
        try (lines[49] + "\n").write(toFile: a, atomically: true, encoding: .utf8)
        try (lines[50] + "\n").write(toFile: b, atomically: true, encoding: .utf8)
        let ab = scratch.file("ab")
        let ba = scratch.file("ba")
        let once = scratch.file("once")
        try Tools.importNight([a], into: ab, scratch: scratch)
        try Tools.importNight([b], into: ab, scratch: scratch)
        try Tools.importNight([b], into: ba, scratch: scratch)
        try Tools.importNight([a], into: ba, scratch: scratch)
        try Tools.importNight([a, b], into: once, scratch: scratch)
        let query = """
            SELECT type, body, json_extract(errors, '$[0].code') AS code, json_extract(extra, '$.referral.source_type') AS referral,
                   source FROM messages
            """
        let expected: [String: String] = [
            "type": "text", "body": "Hi, I saw your winter sale ad. Is it 30% off pots too?", "code": "131060",
            "referral": "ad",
        ]
        let db = "/\(SampleFixture.A).sqlite"
        var abRow = expected
        abRow["source"] = a + ":1"
        var baRow = expected
        baRow["source"] = b + ":1"
        #expect(try rows(ab + db, query) == [abRow])
        #expect(try rows(ba + db, query) == [baRow])
        #expect(try dump(ab + db) == dump(once + db))
    }

    /// Latest timestamp wins, never the last to arrive; at equal times read beats delivered.
    /// Statuses of API-sent messages (no message row) are kept.
    @Test func statusLatestRule() throws {
        let a = f.db(SampleFixture.A)
        #expect(try scalar(a, "SELECT status FROM messages WHERE wamid = 'wamid.HBgLMTQxNTU1NTAxOTkVAgARGBQzQUYyNDNBNzg2NEYxNTAwRjUzOQA='") == "read")
        #expect(try rows(a, "SELECT status, timestamp FROM statuses WHERE wamid = 'wamid.HBgLMTY0NjU1NTAxMjMVAgARGBQzQTQyODA3MDU2OUVCMjc1QzVEOAA=' ORDER BY timestamp")
            == [["status": "sent", "timestamp": "1768431000"], ["status": "delivered", "timestamp": "1768431003"]])
        #expect(try scalar(a, "SELECT count(*) FROM messages WHERE wamid = 'wamid.HBgLMTY0NjU1NTAxMjMVAgARGBQzQTQyODA3MDU2OUVCMjc1QzVEOAA='") == "0")
        // A group status: stored without a contact.
        let group = try rows(f.db(SampleFixture.C), "SELECT contact_wa_id, contact_user_id, status FROM statuses WHERE recipient_id LIKE 'Y2Fwa%'")
        #expect(group == [["status": "read"]])
    }

    /// state_sync: latest wins, remove wins at equal times and keeps the names; a profile
    /// name never adds a contact to the list.
    @Test func contactRules() throws {
        let r = try rows(f.db(SampleFixture.A), """
            SELECT contact_key, full_name, profile_name, removed, list_action FROM contacts
            WHERE contact_key IN ('12125557890', '12125550111', '16465550123') ORDER BY contact_key
            """)
        #expect(r == [
            ["contact_key": "12125550111", "profile_name": "Pablo Morales", "removed": "0"],
            ["contact_key": "12125557890", "full_name": "Pablo Morales", "profile_name": "Pablo Morales", "removed": "1",
             "list_action": "remove"],
            ["contact_key": "16465550123", "full_name": "Mia Chen (Brooklyn)", "profile_name": "Mia Chen", "removed": "0",
             "list_action": "add"],
        ])
    }

    /// Jonas writes by phone on night 1 and by BSUID only on night 2; a status and a
    /// state_sync contact pair them: one chat, one contacts row, the pair in user_ids.
    @Test func bsuidOnlyUserJoinsPhoneChat() throws {
        let c = f.db(SampleFixture.C)
        let before = try rows(f.db(SampleFixture.C, f.afterNight1), """
            SELECT DISTINCT contact_wa_id, contact_user_id FROM messages WHERE contact_wa_id = '4917612345678'
            """)
        #expect(before == [["contact_wa_id": "4917612345678"]])
        let chats = try rows(c, """
            SELECT DISTINCT contact_wa_id, contact_user_id FROM messages
            WHERE contact_wa_id = '4917612345678' OR contact_user_id = 'DE.5029384756102938'
            """)
        #expect(chats == [["contact_wa_id": "4917612345678", "contact_user_id": "DE.5029384756102938"]])
        #expect(try scalar(c, "SELECT count(*) FROM messages WHERE contact_wa_id = '4917612345678'") == "9")
        let contact = try rows(c, """
            SELECT contact_key, wa_id, user_id, username, full_name, profile_name, list_action FROM contacts
            WHERE wa_id = '4917612345678' OR user_id = 'DE.5029384756102938'
            """)
        #expect(contact == [[
            "contact_key": "4917612345678", "wa_id": "4917612345678", "user_id": "DE.5029384756102938",
            "username": "jonas.b", "full_name": "Jonas Becker", "profile_name": "Jonas", "list_action": "add",
        ]])
        #expect(try rows(c, "SELECT wa_id, user_id FROM user_ids") == [["wa_id": "4917612345678", "user_id": "DE.5029384756102938"]])
        #expect(try scalar(c, "SELECT count(*) FROM statuses WHERE contact_wa_id = '4917612345678' AND contact_user_id IS NULL") == "0")
    }

    /// kaffeefan's BSUID changes on night 2: every row shows the new id, the old one stays
    /// known in user_id_changes, and the user is one chat and one contact.
    @Test func bsuidChange() throws {
        let c = f.db(SampleFixture.C)
        #expect(try rows(c, "SELECT DISTINCT contact_user_id FROM messages WHERE contact_wa_id IS NULL AND group_id IS NULL")
            == [["contact_user_id": "DE.8820174653920175"]])
        #expect(try rows(c, "SELECT previous_user_id, user_id FROM user_id_changes")
            == [["previous_user_id": "DE.7718293046571829", "user_id": "DE.8820174653920175"]])
        #expect(try rows(c, "SELECT contact_key, username FROM contacts WHERE wa_id IS NULL")
            == [["contact_key": "DE.8820174653920175", "username": "kaffeefan"]])
    }

    /// account_update with waba_info lands in waba_info.waba_id's database, with entry.id kept.
    @Test func accountUpdateWithWabaInfo() throws {
        #expect(!FileManager.default.fileExists(atPath: f.nightly + "/1187346502918374.sqlite"))
        #expect(try rows(f.db(SampleFixture.B), "SELECT event, entry_id, owner_business_id FROM account_events WHERE event = 'PARTNER_ADDED'")
            == [["event": "PARTNER_ADDED", "entry_id": "1187346502918374", "owner_business_id": "3310458827166490"]])
        #expect(try rows(f.db(SampleFixture.A), "SELECT reason, initiated_by, entry_id FROM account_events WHERE reason IS NOT NULL")
            == [["reason": "USER_INITIATED", "initiated_by": "USER", "entry_id": "1187346502918374"]])
        #expect(try rows(f.db(SampleFixture.B), "SELECT event, time FROM account_events WHERE event LIKE 'ACCOUNT_%' ORDER BY time")
            == [["event": "ACCOUNT_RECONNECTED", "time": "1768477203"], ["event": "ACCOUNT_OFFBOARDED", "time": "1768477204"]])
    }

    @Test func historyChunksAndSyncErrors() throws {
        let chunks = try rows(f.db(SampleFixture.A), "SELECT phase, chunk_order, progress FROM history_chunks ORDER BY phase DESC, chunk_order")
        #expect(chunks.map { "\($0["phase"]!)/\($0["chunk_order"]!)/\($0["progress"]!)" }
            == ["2/0/95", "2/1/100", "1/0/80", "1/2/90", "0/0/30", "0/1/55", "0/2/70"])
        #expect(try rows(f.db(SampleFixture.B), "SELECT phone_number_id, code FROM sync_errors")
            == [["phone_number_id": "618273645509182", "code": "2593109"]])
        #expect(try scalar(f.db(SampleFixture.C), "SELECT code FROM errors WHERE wamid IS NULL") == "131000")
    }

    /// seq numbers the whole business: ORDER BY timestamp, seq is the chat order, 1...n.
    @Test func seqIsChatOrderForTheWholeBusiness() throws {
        for waba in [SampleFixture.A, SampleFixture.B, SampleFixture.C] {
            let db = f.db(waba)
            let n = try scalar(db, "SELECT count(*) FROM messages")
            #expect(try scalar(db, "SELECT count(DISTINCT seq) FROM messages") == n)
            #expect(try scalar(db, "SELECT max(seq) FROM messages") == n)
            #expect(try scalar(db, """
                SELECT count(*) FROM messages a JOIN messages b ON a.seq < b.seq WHERE a.timestamp > b.timestamp
                """) == "0")
        }
        // History before live at equal times; older phases first.
        let order = try rows(f.db(SampleFixture.A), "SELECT origin, phase FROM messages ORDER BY timestamp, seq LIMIT 3")
        #expect(order.first?["origin"] == "history")
    }
}

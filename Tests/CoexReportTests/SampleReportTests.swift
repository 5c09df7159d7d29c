import CoexTestSupport
import Foundation
import Testing

@testable import CoexReport

/// samples/night1.ndjson and night2.ndjson through the whole pipe, loaded night by night
/// (two imports), reported: each business's story in samples/README.md.
struct SampleDatabases: Sendable {
    let scratch: TempDir
    let dir: String

    static let A = "102290129340398"  // Lucky Shrubs: history with a gap, partner removed
    static let B = "862475293675413"  // bakery: history declined, offboarded after reconnected
    static let C = "403958172640285"  // Café Lindenhof: BSUID cases

    static let shared: Result<SampleDatabases, any Error> = Result { try SampleDatabases() }
    static func get() throws -> SampleDatabases { try shared.get() }

    init() throws {
        scratch = try TempDir("coex-report-samples")
        dir = scratch.file("db")
        try Tools.importNight(["samples/night1.ndjson"], into: dir)
        try Tools.importNight(["samples/night2.ndjson"], into: dir)
    }

    func report(_ waba: String) throws -> BusinessReport { try ReportReader.read(path: dir + "/\(waba).sqlite") }
}

@Suite struct SampleReportTests {
    let s: SampleDatabases
    init() throws { s = try SampleDatabases.get() }

    @Test func directoryOrder() throws {
        #expect(try ReportReader.databases(in: s.dir).map(ReportReader.wabaID(ofDatabase:))
            == [SampleDatabases.A, SampleDatabases.C, SampleDatabases.B])
    }

    /// A: phases 2, 1, 0 with phase 1 chunk 1 never arriving; progress 100 (phase 2 chunk 1).
    @Test func businessA() throws {
        let r = try s.report(SampleDatabases.A)
        #expect(r.phoneNumbers == [PhoneNumber(id: "106540352242922", display: "15550783881")])
        let h = try #require(r.history.first)
        #expect(r.history.count == 1)
        #expect(h.phoneNumberID == "106540352242922")
        #expect(h.state == .incomplete)
        #expect(h.phases == [2, 1, 0])
        #expect(h.chunks == 7)
        #expect(h.chunksByPhase == [2: 2, 1: 2, 0: 3])
        #expect(h.gaps == [1: [1...1]])
        #expect(h.repeated.isEmpty)
        #expect(h.progress == 100)
        #expect(!h.declined)
        #expect(r.account.state == .partnerRemoved)
        #expect(r.account.since == 1_768_521_000)
        #expect(r.account.events.map(\.time) == [1_739_212_624, 1_768_521_000])
        #expect(r.account.events[1].reason == "USER_INITIATED" && r.account.events[1].initiatedBy == "USER")
        #expect(r.messages.total == 48)
        #expect(r.messages.byOrigin == ["history": ["inbound": 13, "outbound": 15], "live": ["inbound": 16],
                                        "echo": ["outbound": 4]])
        #expect(r.edits.editedMessages == 3 && r.edits.edits == 4 && r.edits.versions == 7)
        #expect(r.revokedMessages == 1)
        #expect(r.pendingChanges == ["edit": 1, "revoke": 1])
        #expect(r.statuses.byStatus == ["delivered": 3, "read": 2, "sent": 2])
        #expect(r.statuses.messagesWithoutRow == 1)
        #expect(r.errors.byCode == ["131060": 1])
        #expect(r.contacts.total == 6 && r.contacts.listed == 4 && r.contacts.removed == 1 && r.contacts.neverListed == 1)
        // green.thumb is known by BSUID only; Pablo's two numbers are two users by phone.
        #expect(r.users.bsuidOnly == 1 && r.users.phoneOnly == 6 && r.users.phoneAndBSUID == 0)
        #expect(r.timeRange == TimeRange(first: 1_739_230_955, last: 1_768_485_720))
        #expect(r.imports.count == 2)
        #expect(r.imports.lastInputs == ["-"])
    }

    /// B: PARTNER_ADDED, history declined, then ACCOUNT_OFFBOARDED (11:40:04) arriving before
    /// ACCOUNT_RECONNECTED (11:40:03): by time, the business is offboarded.
    @Test func businessB() throws {
        let r = try s.report(SampleDatabases.B)
        #expect(r.history.map(\.state) == [.declined])
        #expect(r.history[0].phoneNumberID == "618273645509182")
        #expect(r.history[0].chunks == 0)
        #expect(r.account.state == .offboarded)
        #expect(r.account.since == 1_768_477_204)
        #expect(r.account.events.map(\.event) == ["PARTNER_ADDED", "ACCOUNT_RECONNECTED", "ACCOUNT_OFFBOARDED"])
        #expect(r.account.events.map(\.stateAfter) == [.connected, .reconnected, .offboarded])
        #expect(r.account.events[0].entryID == "1187346502918374")
        #expect(r.messages.total == 7)
        #expect(r.users.total == 2 && r.users.bsuidOnly == 0)
    }

    /// C: no history, no account event; Jonas by phone and BSUID (paired on night 2),
    /// kaffeefan by BSUID only (whose BSUID changed), Lea by phone.
    @Test func businessC() throws {
        let r = try s.report(SampleDatabases.C)
        #expect(r.history.map(\.state) == [HistorySync.State.none])
        #expect(r.account.state == .connected && r.account.events.isEmpty && r.account.since == nil)
        #expect(r.users.phoneOnly == 1 && r.users.phoneAndBSUID == 1 && r.users.bsuidOnly == 1)
        #expect(r.users.userIDChanges == 1 && r.users.pairs == 1)
        #expect(r.errors.total == 2 && r.errors.webhookErrors == 1)
        #expect(r.statuses.total == 11 && r.statuses.messagesWithoutRow == 5)
        #expect(r.edits.editedMessages == 2 && r.revokedMessages == 1)
    }

    /// The executable: text by default, NDJSON with --json, --db repeatable in the given order.
    @Test func command() throws {
        let dir = Tools.quote(s.dir)
        let text = try Tools.run("coex-report --out-dir \(dir)")
        #expect(text.stderr == "")
        let sections = text.stdout.components(separatedBy: "\n\nbusiness ")
        #expect(sections.count == 3)
        #expect(text.stdout.hasPrefix("business \(SampleDatabases.A)\n"))
        #expect(text.stdout.contains("""
                phone number     state       phases  chunks  missing  gaps        repeated  progress  messages  declined
                106540352242922  incomplete  2,1,0        7        1  phase 1: 1         0       100        28  no
            """))
        #expect(text.stdout.contains("  users             3: 1 by phone only, 1 by phone and BSUID, 1 by BSUID only\n"))
        #expect(text.stdout.contains("  account state     offboarded since 2026-01-15T11:40:04Z\n"))

        let json = try Tools.run("coex-report --json --db \(dir)/\(SampleDatabases.B).sqlite --db \(dir)/\(SampleDatabases.A).sqlite")
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.map { $0?["waba_id"] as? String } == [SampleDatabases.B, SampleDatabases.A])
        #expect((objects[0]?["account"] as? [String: Any])?["state"] as? String == "offboarded")
        // The library's rendering, byte for byte.
        #expect(String(lines[1]) == String(decoding: ReportJSON.render(try s.report(SampleDatabases.A)), as: UTF8.self)
            .replacingOccurrences(of: s.dir, with: s.dir))
    }

    /// One bad database fails the run (exit 1, one line naming it) after the others are reported.
    @Test func badDatabaseFailsAfterTheOthers() throws {
        let copy = s.scratch.file("with-bad")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for waba in [SampleDatabases.A, SampleDatabases.C] {
            try FileManager.default.copyItem(atPath: s.dir + "/\(waba).sqlite", toPath: copy + "/\(waba).sqlite")
        }
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: copy + "/200000000000000.sqlite"))
        let out = try Tools.run("coex-report --json --out-dir \(Tools.quote(copy))", expectStatus: 1)
        #expect(out.stderr == "coex-report: \(copy)/200000000000000.sqlite: not a coex database (not an SQLite database)\n")
        #expect(out.stdout.split(separator: "\n").count == 2)
        let missing = try Tools.run("coex-report --db \(Tools.quote(copy))/none.sqlite", expectStatus: 1)
        #expect(missing.stdout == "")
        #expect(missing.stderr == "coex-report: \(copy)/none.sqlite: no such file\n")
    }

    @Test func usageErrorsAndClosedPipe() throws {
        let none = try Tools.run("coex-report", expectStatus: 64)
        #expect(none.stderr.hasPrefix("Error: give --out-dir DIR or --db FILE\n"))
        let both = try Tools.run("coex-report --out-dir x --db y", expectStatus: 64)
        #expect(both.stderr.hasPrefix("Error: give either --out-dir or --db, not both\n"))
        try Tools.bash("coex-report --out-dir x --bogus", expectStatus: 64)
        // A reader that goes away: exit 0, nothing on stderr.
        let head = try Tools.run("coex-report --out-dir \(Tools.quote(s.dir)) | head -1; exit ${PIPESTATUS[0]}")
        #expect(head.stdout == "business \(SampleDatabases.A)\n")
        #expect(head.stderr == "")
    }
}

/// Generated captures (coex-gen: many businesses, history declined or complete, BSUID
/// switches, account events) loaded night by night: the report agrees with the
/// generator's ground truth, and with a load of all nights at once.
@Suite(.serialized) struct GeneratedReportTests {
    @Test(arguments: [4, 9])
    func reportMatchesGroundTruth(seed: Int) throws {
        let dir = try TempDir("coex-report-gen-\(seed)")
        let prefix = dir.file("cap")
        try Tools.bash("coex-gen --seed \(seed) --messages 300 --nights 2 --bsuid-share 0.3 --out-prefix \(Tools.quote(prefix)) --truth \(Tools.quote(dir.file("truth.json")))")
        let nights = (1...2).map { "\(prefix).night\($0).ndjson" }
        let nightly = dir.file("nightly"), all = dir.file("all")
        for night in nights { try Tools.importNight([night], into: nightly) }
        try Tools.importNight(nights, into: all)

        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("truth.json")))
        let businesses = (truth as? [String: Any])?["businesses"] as? [[String: Any]] ?? []
        #expect(businesses.count == 8)
        var states: Set<String> = []
        for b in businesses {
            let waba = try #require(b["waba_id"] as? String)
            func t(_ key: String) -> Int { b[key] as? Int ?? -1 }
            let r = try ReportReader.read(path: nightly + "/\(waba).sqlite")
            let m = r.messages
            #expect(m.total == t("messages"), "\(waba) messages")
            #expect(m.total(origin: "history") == t("history_messages"), "\(waba) history")
            #expect(m.total(origin: "live") == t("live_messages"), "\(waba) live")
            #expect(m.total(origin: "echo") == t("echo_messages"), "\(waba) echo")
            #expect(r.edits.edits + (r.pendingChanges["edit"] ?? 0) == t("edits"), "\(waba) edits")
            #expect(r.edits.editedMessages == t("edited_messages"), "\(waba) edited")
            #expect(r.revokedMessages == t("revoked_messages"), "\(waba) revoked")
            #expect(r.statuses.total == t("statuses"), "\(waba) statuses")
            #expect(r.statuses.byStatus["failed", default: 0] == t("failed_statuses"), "\(waba) failed")
            #expect(r.statuses.messagesWithoutRow == t("api_sent_wamids"), "\(waba) API-sent")
            #expect(r.users.total == t("known_users"), "\(waba) users")
            #expect(r.users.bsuidOnly == t("bsuid_only_users"), "\(waba) BSUID only")
            #expect(r.history.reduce(0) { $0 + $1.chunks } == t("history_chunks"), "\(waba) chunks")
            #expect(r.history.contains(where: \.declined) == (b["history_declined"] as? Bool), "\(waba) declined")
            #expect(r.history.allSatisfy { $0.state == ((b["history_declined"] as? Bool) == true ? .declined : .complete) },
                    "\(waba) history states")
            #expect(r.account.events.count == t("account_events"), "\(waba) account events")
            #expect(r.account.state.rawValue == b["connection"] as? String, "\(waba) connection")
            states.insert(r.account.state.rawValue)
            if r.phoneNumbers.count == 1 {
                // The generator keeps one contact list per business; the store one per phone number.
                #expect(r.contacts.listed == t("contacts_in_list"), "\(waba) contacts in the list")
            }

            // Night by night equals all at once, apart from the imports.
            var once = try ReportReader.read(path: all + "/\(waba).sqlite")
            // A business first seen on night 2 has one import in both.
            #expect(once.imports.count == 1 && (1...2).contains(r.imports.count))
            once.imports = r.imports
            once.path = r.path
            #expect(once == r, "\(waba): night by night differs from all at once")
        }
        #expect(states.count >= 2, "the seeds should cover more than one connection state: \(states)")
    }
}

import CoexSQLite
import CoexTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import CoexStore

/// Generated captures (coex-gen: many businesses, out-of-order history, redeliveries,
/// edits before originals, users switching from phone to BSUID between nights) through
/// the whole pipe: night by night must give the same tables as all at once.
@Suite(.serialized) struct GeneratedLoadTests {
    @Test(arguments: [1, 4, 9])
    func nightByNightEqualsAllAtOnce(seed: Int) throws {
        let dir = try TempDir("coex-gen-\(seed)")
        let prefix = dir.file("cap")
        try Tools.bash("coex-gen --seed \(seed) --messages 300 --nights 3 --bsuid-share 0.3 --out-prefix \(Tools.quote(prefix)) --truth \(Tools.quote(dir.file("truth.json")))")
        let nights = (1...3).map { "\(prefix).night\($0).ndjson" }
        let all = dir.file("all")
        let nightly = dir.file("nightly")
        try Tools.importNight(nights, into: all, scratch: dir)
        for night in nights { try Tools.importNight([night], into: nightly, scratch: dir) }
        // Sorting past a tiny --memory (spilled runs) and one thread change nothing either.
        let small = dir.file("small")
        let log = try Tools.importNight(nights, into: small, scratch: dir, options: "--memory 1MB --threads 1")
        #expect(log.contains("spilled past --memory 1MB"))

        let names = try databases(in: all)
        #expect(names.count == 8)
        #expect(try databases(in: nightly) == names)
        for name in names {
            let a = try dump(all + "/" + name)
            let n = try dump(nightly + "/" + name)
            for table in a.keys.sorted() {
                #expect(a[table] == n[table], "seed \(seed): \(name) table \(table) differs")
            }
            #expect(try dump(small + "/" + name) == a, "seed \(seed): \(name) with --memory 1MB")
        }

        // The generator's ground truth: one chat per user (phone-to-BSUID switches included),
        // every message and (wamid, status) once.
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.url.appendingPathComponent("truth.json")))
        let businesses = (truth as? [String: Any])?["businesses"] as? [[String: Any]] ?? []
        #expect(businesses.count == 8)
        var switched = 0
        for b in businesses {
            guard let waba = b["waba_id"] as? String else { continue }
            let db = nightly + "/\(waba).sqlite"
            func count(_ q: String) throws -> Int { Int(try scalar(db, q) ?? "") ?? -1 }
            #expect(try count("SELECT count(*) FROM messages") == b["messages"] as? Int, "\(waba) messages")
            #expect(try count("SELECT count(*) FROM statuses") == b["statuses"] as? Int, "\(waba) statuses")
            #expect(try count("""
                SELECT count(DISTINCT coalesce(contact_wa_id, contact_user_id)) FROM messages WHERE group_id IS NULL
                """) == b["chat_users"] as? Int, "\(waba) chats")
            // The generator keeps one list per business (and sometimes syncs a user through
            // another phone number than the one they chat with); contacts keeps one per phone
            // number: compare the latest list action of each user over all phone numbers.
            #expect(try count("""
                SELECT count(*) FROM (
                    SELECT list_action, row_number() OVER (
                        PARTITION BY contact_key ORDER BY list_updated_at DESC, list_action = 'remove' DESC) AS n
                    FROM contacts WHERE list_action IS NOT NULL)
                WHERE n = 1 AND list_action = 'add'
                """) == b["contacts_in_list"] as? Int, "\(waba) contact list")
            #expect(try count("SELECT count(*) FROM messages WHERE revoked = 1") == b["revoked_messages"] as? Int,
                    "\(waba) revoked")
            #expect(try count("SELECT count(*) FROM messages WHERE edit_count > 0") == b["edited_messages"] as? Int,
                    "\(waba) edited")
            switched += b["switched_users"] as? Int ?? 0
        }
        // The captures do exercise the identity join.
        #expect(switched > 0)
    }

    /// kill -9 of coex-load at several moments of a run: every database opens, passes
    /// integrity_check and holds either what it held before the run or the complete
    /// result; a re-run then completes it exactly.
    @Test func killDashNineLeavesBeforeOrAfter() throws {
        let dir = try TempDir("coex-kill")
        let prefix = dir.file("cap")
        try Tools.bash("coex-gen --seed 11 --size 16MB --nights 2 --out-prefix \(Tools.quote(prefix))")
        let s1 = dir.file("s1.ndjson")
        let s2 = dir.file("s2.ndjson")
        try Tools.pipe(["\(prefix).night1.ndjson"], to: s1)
        try Tools.pipe(["\(prefix).night2.ndjson"], to: s2)

        // The reference: night 1, then night 2 in full.
        let reference = dir.file("reference")
        try Tools.bash("coex-load --out-dir \(Tools.quote(reference)) \(Tools.quote(s1))")
        let afterNight1 = dir.file("after1")
        try FileManager.default.copyItem(atPath: reference, toPath: afterNight1)
        var before: [String: [String: [String]]] = [:]
        for name in try databases(in: reference) { before[name] = try dump(reference + "/" + name) }
        let start = Date()
        try Tools.bash("coex-load --out-dir \(Tools.quote(reference)) \(Tools.quote(s2))")
        let duration = Date().timeIntervalSince(start)
        var full: [String: [String: [String]]] = [:]
        for name in try databases(in: reference) { full[name] = try dump(reference + "/" + name) }
        #expect(full.count == 8)

        var killedRunning = 0
        var sawMixed = false
        // Early fractions: a later run of the same input can be faster than the measured one (warm
        // caches), and a kill after it ends tests nothing.
        for (i, fraction) in [0.1, 0.25, 0.4, 0.6].enumerated() {
            let target = dir.file("kill\(i)")
            try FileManager.default.copyItem(atPath: afterNight1, toPath: target)
            let process = Process()
            process.executableURL = try Tools.binDirectory().appendingPathComponent("coex-load")
            process.arguments = ["--out-dir", target, s2]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: duration * fraction)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedRunning += 1 }

            var states: Set<String> = []
            for name in full.keys.sorted() {
                let path = target + "/" + name
                guard FileManager.default.fileExists(atPath: path) else {
                    #expect(before[name] == nil, "kill \(i): \(name) vanished")
                    states.insert("before")
                    continue
                }
                // Opening read-write recovers from the WAL as any later reader would.
                do {
                    let db = try Database(path: path, mode: .readWrite)
                    let check = try db.prepare("PRAGMA integrity_check").mapRows { $0.text(at: 0) }
                    #expect(check == ["ok"], "kill \(i): \(name)")
                }
                let now = try dump(path)
                let isBefore = now == (before[name] ?? [:]) || (before[name] == nil && now.isEmpty)
                let isFull = now == full[name]
                #expect(isBefore || isFull, "kill \(i) at \(fraction): \(name) is neither the state before nor after")
                states.insert(isFull ? "full" : "before")
            }
            if states.count == 2 { sawMixed = true }

            // A re-run completes it exactly.
            try Tools.bash("coex-load --out-dir \(Tools.quote(target)) \(Tools.quote(s2))")
            for name in full.keys.sorted() {
                #expect(try dump(target + "/" + name) == full[name], "kill \(i): \(name) after the re-run")
            }
        }
        // Most kills must land while coex-load runs, some between two databases' commits.
        #expect(killedRunning >= 2)
        _ = sawMixed
    }

    /// kill -9 of coex-load while it creates databases: each is absent or complete (a hidden
    /// building file may be left, which nothing takes for a database), and a re-run builds the
    /// missing ones exactly and leaves no building file.
    @Test func killDashNineWhileCreatingLeavesNoneOrWhole() throws {
        let dir = try TempDir("coex-kill-new")
        let capture = dir.file("cap.ndjson")
        try Tools.bash("coex-gen --seed 12 --size 16MB > \(Tools.quote(capture))")
        let state = dir.file("state.ndjson")
        try Tools.pipe([capture], to: state)
        let reference = dir.file("reference")
        let start = Date()
        try Tools.bash("coex-load --out-dir \(Tools.quote(reference)) \(Tools.quote(state))")
        let duration = Date().timeIntervalSince(start)
        var full: [String: [String: [String]]] = [:]
        for name in try databases(in: reference) { full[name] = try dump(reference + "/" + name) }
        #expect(full.count == 8)

        var killedRunning = 0
        var leftBuilding = 0
        for (i, fraction) in [0.2, 0.45, 0.7].enumerated() {
            let target = dir.file("kill\(i)")
            let process = Process()
            process.executableURL = try Tools.binDirectory().appendingPathComponent("coex-load")
            process.arguments = ["--out-dir", target, state]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: duration * fraction)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killedRunning += 1 }

            let left = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
            leftBuilding += left.filter { $0.hasSuffix(".building") }.count
            for name in left {
                let isDatabase = name.hasSuffix(".sqlite")
                #expect(isDatabase || (name.hasPrefix(".") && name.hasSuffix(".building")),
                        "kill \(i): \(name) is neither a database nor a building file")
                #expect(!BusinessFile.suffixes.contains { name.hasSuffix($0) } || isDatabase, "kill \(i): \(name)")
                guard isDatabase else { continue }
                #expect(try scalar(target + "/" + name, "PRAGMA integrity_check") == "ok", "kill \(i): \(name)")
                #expect(try dump(target + "/" + name) == full[name], "kill \(i) at \(fraction): \(name) is not complete")
            }

            try Tools.bash("coex-load --out-dir \(Tools.quote(target)) \(Tools.quote(state))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == full.keys.sorted(),
                    "kill \(i): the re-run left other files")
            for name in full.keys.sorted() {
                #expect(try dump(target + "/" + name) == full[name], "kill \(i): \(name) after the re-run")
            }
        }
        #expect(killedRunning >= 2)
        _ = leftBuilding
    }

    /// Records coex-load cannot store are rejects (with their line), never a crash; the
    /// rest of the input loads.
    @Test func unsafeBusinessIDsAreRejected() throws {
        let dir = try TempDir("coex-rejects")
        let input = dir.file("records.ndjson")
        let good = #"{"kind":"message","waba_id":"1234","wamid":"w1","contact_wa_id":"49","direction":"inbound","origin":"live","timestamp":5,"type":"text","body":"hi","source":"x","line":1}"#
        let lines = [
            good,
            #"{"kind":"message","waba_id":"..","wamid":"w2","timestamp":5,"source":"x","line":2}"#,
            #"{"kind":"message","waba_id":"a/b","wamid":"w3","timestamp":5,"source":"x","line":3}"#,
            #"{"kind":"status","waba_id":"1234","status":"read","source":"x","line":4}"#,
            "not json",
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let out = dir.file("out")
        let rejects = dir.file("rejects.ndjson")
        // 4 rejects of 5 lines is past the default --max-rejects (10%): exit 2, the good record loaded.
        let log = try Tools.bash("coex-load --out-dir \(Tools.quote(out)) --rejects \(Tools.quote(rejects)) \(Tools.quote(input))",
                                 expectStatus: 2)
        #expect(try databases(in: out) == ["1234.sqlite"])
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejected.count == 4)
        #expect(rejected.contains { $0.contains("cannot name a database file") && $0.contains("\"line\":2") })
        #expect(rejected.contains { $0.contains("status record has no wamid") })
        #expect(log.contains("5 lines read: 4 records in"))
        #expect(log.contains("1 loaded, 3 rejected, 0 skipped"))
        // Without --rejects, rejects are errors and the run exits 1.
        try Tools.bash("coex-load --out-dir \(Tools.quote(out)) \(Tools.quote(input))", expectStatus: 1)
        // A usage error exits 64.
        try Tools.bash("coex-load \(Tools.quote(input))", expectStatus: 64)
    }

    /// A database with a newer schema is refused with a clear error, the others still load.
    @Test func newerDatabaseIsRefusedByTheCommand() throws {
        let dir = try TempDir("coex-newer")
        let out = dir.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        do {
            let db = try Database(path: out + "/862475293675413.sqlite", mode: .create, writeAheadLog: false)
            try db.execute("CREATE TABLE x (y); PRAGMA user_version = 3;")
        }
        let state = dir.file("state.ndjson")
        try Tools.pipe([Tools.sample("night1.ndjson")], to: state)
        let log = try Tools.bash("coex-load --out-dir \(Tools.quote(out)) \(Tools.quote(state))", expectStatus: 1)
        #expect(log.contains("has schema version 3, newer than this coex-load knows (2)"))
        #expect(try databases(in: out).count == 3)
        #expect(try scalar(out + "/102290129340398.sqlite", "SELECT count(*) FROM messages") != "0")
    }
}

import CoexArchive
import CoexSQLite
import CoexStore
import CoexTestSupport
import Foundation
import Testing

@testable import CoexExport

@Suite struct ArchiveContentTests {
    @Test(arguments: ArchiveFormat.allCases)
    func manifestListsEveryOtherMemberWithSizeAndSum(format: ArchiveFormat) throws {
        let samples = try SampleDatabases.get()
        let dir = try TempDir()
        let (summary, archive, path) = try export(samples.db(SampleDatabases.A), to: dir, name: "a" + format.fileExtension)
        #expect(archive.paths.first == "manifest.json")
        let manifest = try archive.manifest
        let files = try #require(manifest["files"] as? [[String: Any]])
        // Every member but the manifest, in archive order, each once.
        #expect(files.map { $0["path"] as? String ?? "" } == Array(archive.paths.dropFirst()))
        for file in files {
            let name = try #require(file["path"] as? String)
            let bytes = try #require(archive.data[name])
            #expect(file["bytes"] as? Int == bytes.count, "\(name)")
            #expect(file["sha256"] as? String == sha256Hex(bytes), "\(name)")
        }
        let fixed = ["messages.ndjson", "message_versions.ndjson", "statuses.ndjson", "contacts.csv"]
        #expect(Array(archive.paths[1...4]) == fixed)
        #expect(archive.paths.last == "database.sqlite")
        #expect(archive.paths.dropFirst(5).dropLast().allSatisfy { $0.hasPrefix("threads/106540352242922/") })
        #expect(summary.files == archive.paths.count)
        #expect(summary.archiveBytes == Int64(try fileBytes(path).count))
        #expect(manifest["waba_id"] as? String == SampleDatabases.A)
        #expect(manifest["schema_version"] as? Int == Int(StoreSchema.version))

        // Counts agree with the database.
        let source = try Database(path: samples.db(SampleDatabases.A), mode: .readOnly)
        let counts = try #require(manifest["counts"] as? [String: Int])
        // messages.ndjson: the message rows and the messages sent through the API (statuses only).
        let apiSent = Int(try strings(source, """
            SELECT count(DISTINCT wamid) FROM statuses WHERE wamid NOT IN (SELECT wamid FROM messages)
            """)[0])!
        #expect(apiSent > 0)
        #expect(counts["messages"] == Int(try strings(source, "SELECT count(*) FROM messages")[0])! + apiSent)
        #expect(counts["api_messages"] == apiSent)
        #expect(counts["message_versions"] == Int(try strings(source, "SELECT count(*) FROM message_versions")[0]))
        #expect(counts["statuses"] == Int(try strings(source, "SELECT count(*) FROM statuses")[0]))
        #expect(counts["contacts"] == Int(try strings(source, "SELECT count(*) FROM contacts")[0]))
        let imports = try #require(manifest["imports"] as? [[String: Any]])
        #expect(imports.map { $0["import_id"] as? Int } == [1])
        #expect(manifest["time_range"] is [String: Any])
        // No time of the export itself.
        #expect(!archive.text("manifest.json").contains("export_time"))
    }

    @Test(arguments: ArchiveFormat.allCases)
    func sameDatabaseGivesByteIdenticalArchives(format: ArchiveFormat) throws {
        let samples = try SampleDatabases.get()
        let dir = try TempDir()
        for filter in [ExportFilter(), ExportFilter(since: 1_768_435_200, contacts: ["4915798765432"], redactRevoked: true)] {
            let first = dir.file("first-\(UUID().uuidString)" + format.fileExtension)
            let second = dir.file("second-\(UUID().uuidString)" + format.fileExtension)
            _ = try ArchiveExport.run(databasePath: samples.db(SampleDatabases.C), archivePath: first,
                                      options: ExportOptions(filter: filter))
            _ = try ArchiveExport.run(databasePath: samples.db(SampleDatabases.C), archivePath: second,
                                      options: ExportOptions(filter: filter))
            #expect(try fileBytes(first) == fileBytes(second))
        }
        // Nothing is left next to the archives but the archives.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func sampleMessagesAreInChatOrderWithEditsAndRevokesApplied() throws {
        let samples = try SampleDatabases.get()
        let dir = try TempDir()
        let (_, archive, _) = try export(samples.db(SampleDatabases.C), to: dir)
        let messages = try archive.records("messages.ndjson")
        let source = try Database(path: samples.db(SampleDatabases.C), mode: .readOnly)
        // Messages sent through the API (statuses without a message row) in their chats, by
        // their first status time.
        let expected = try strings(source, """
            SELECT wamid FROM (
                SELECT wamid, phone_number_id AS p, coalesce(contact_wa_id, contact_user_id) AS c, group_id AS g,
                    timestamp AS t, seq AS s FROM messages
                UNION ALL
                SELECT wamid, max(phone_number_id), max(coalesce(contact_wa_id, contact_user_id)), max(group_id),
                    min(timestamp), NULL FROM statuses WHERE wamid NOT IN (SELECT wamid FROM messages) GROUP BY wamid)
            ORDER BY p, c, g, t, s, wamid
            """)
        #expect(messages.filter { $0["origin"] as? String == "api" }.count == 5)
        #expect(messages.map { $0["wamid"] as? String ?? "" } == expected)
        // Every column is there; JSON columns are embedded as JSON.
        let columns = try strings(source, "SELECT name FROM pragma_table_info('messages')")
        for m in messages { #expect(Set(m.keys) == Set(columns)) }
        #expect(messages.contains { $0["content"] is [String: Any] })
        #expect(!messages.contains { $0["content"] is String })
        // Jonas's edited message shows the edit; Lea's "zu dritt" is revoked but kept.
        let edited = try #require(messages.first { ($0["body"] as? String)?.contains("Laugenbrezeln") == true })
        #expect(edited["edit_count"] as? Int == 1)
        let revoked = try #require(messages.first { $0["revoked"] as? Int == 1 })
        #expect(revoked["body"] as? String == "zu dritt")
        let transcript = archive.text("threads/509187364528190/4917612345678.txt")
        #expect(transcript.contains("Laugenbrezeln? (edited once"))
        #expect(transcript.contains("original 2026-01-15T09:12:00Z  Hallo, ich bin's wieder. Habt ihr morgen Brezeln?"))
        // A user known only by BSUID has a transcript named by the BSUID.
        #expect(archive.paths.contains("threads/509187364528190/DE.8820174653920175.txt"))
        #expect(archive.text("threads/509187364528190/4915798765432.txt")
            .contains("zu dritt [deleted by sender at 2026-01-14T12:00:40Z]"))
    }
}

@Suite struct HandDatabaseTests {
    let dir: TempDir
    let db: String

    init() throws {
        dir = try TempDir()
        db = dir.file("900.sqlite")
        try HandDatabase.create(at: db)
    }

    @Test func chatOrderAndTranscriptFiles() throws {
        let (summary, archive, _) = try export(db, to: dir)
        #expect(try archive.records("messages.ndjson").map { $0["wamid"] as? String ?? "" } == [
            "w.none.1", "w.group.1", "w.alice.1", "w.alice.2", "w.alice.3", "api.1", "w.bob.1", "w.bob.2", "w.us42.1",
        ])
        #expect(summary.messages == 9 && summary.apiMessages == 1)
        #expect(try archive.records("message_versions.ndjson").map { "\($0["wamid"]!)/\($0["version"]!)" } == [
            "w.alice.2/0", "w.alice.2/1", "w.alice.2/2", "w.alice.3/0", "w.alice.3/1",
        ])
        #expect(archive.paths.filter { $0.hasPrefix("threads/") } == [
            "threads/111/_unknown.txt", "threads/111/_groups/grp%2F1+x.txt", "threads/111/15550001.txt",
            "threads/111/15550002.txt", "threads/111/US.42.txt",
        ])
        #expect(summary.threads == 5)
        #expect(try (archive.manifest["waba_id"] as? String) == "900")
    }

    @Test func transcriptsMarkEditsRevokesAndMedia() throws {
        let (_, archive, _) = try export(db, to: dir)
        let alice = archive.text("threads/111/15550001.txt")
        #expect(alice.contains("Customer: phone 15550001, contact name \"Smith, Alice \"Al\"\", profile name \"Alice\""))
        #expect(alice.contains("1970-01-01T00:16:40Z  customer → business  Hello, \"world\"\n"))
        #expect(alice.contains("1970-01-01T00:18:20Z  business → customer  v2 final (edited 2 times, last at 1970-01-01T00:20:00Z)\n"
            + "    earlier versions:\n"
            + "    original 1970-01-01T00:18:20Z  v0 first\n"
            + "    edit 1 1970-01-01T00:19:10Z  v1 second\n"))
        #expect(alice.contains("secret plans (edited once, last at 1970-01-01T00:21:00Z) [deleted by sender at 1970-01-01T00:21:40Z]"))
        #expect(archive.text("threads/111/US.42.txt").contains("line one\n    line two\n"))
        #expect(archive.text("threads/111/US.42.txt").contains("Customer: phone (unknown), user id US.42, profile name \"Plain\""))
        #expect(archive.text("threads/111/_groups/grp%2F1+x.txt").contains("Group: grp/1+x\n"))
        #expect(archive.text("threads/111/_groups/grp%2F1+x.txt").contains("member → business  group hello"))
        #expect(archive.text("threads/111/_unknown.txt").contains("business → customer  [image]\n"))
        // Bob's chat shows what the business sent him through the API, before his message.
        #expect(archive.text("threads/111/15550002.txt").contains(
            "1970-01-01T00:41:40Z  business → customer  [sent through the API] sent (sent 1970-01-01T00:41:40Z)\n"
            + "1970-01-01T00:49:59Z  customer → business  bob before until"))
        let api = try #require(try archive.records("messages.ndjson").first { $0["wamid"] as? String == "api.1" })
        #expect(api["origin"] as? String == "api" && api["direction"] as? String == "outbound")
        #expect(api["status"] as? String == "sent" && api["timestamp"] as? Int == 2500 && api["body"] is NSNull)
        let trail = try #require((api["extra"] as? [String: Any])?["statuses"] as? [[String: Any]])
        #expect(trail.map { $0["status"] as? String } == ["sent"])
    }

    @Test func contactsCSVQuotesCommasQuotesAndLineBreaks() throws {
        let (_, archive, _) = try export(db, to: dir)
        let expected = [
            "phone_number_id,contact_key,wa_id,user_id,username,full_name,first_name,profile_name,removed,list_action,"
                + "list_updated_at,names_updated_at,profile_updated_at,username_updated_at,updated_at",
            #"111,15550001,15550001,,,"Smith, Alice ""Al""",Alice,Alice,0,,,,,,10"#,
            "111,15550002,15550002,,,\"Bob\nBuilder\",Bob,,0,,,,,,11",
            "111,US.42,,US.42,,,,Plain,0,,,,,,12",
        ]
        #expect(archive.text("contacts.csv") == expected.map { $0 + "\r\n" }.joined())
    }

    @Test func timeWindowIsInclusiveSinceExclusiveUntil() throws {
        let (summary, archive, _) = try export(db, to: dir, filter: ExportFilter(since: 2999, until: 3000))
        #expect(try archive.records("messages.ndjson").map { $0["wamid"] as? String } == ["w.bob.1"])
        // The status of the message at 3000 goes with it; the API status at 2500 is outside.
        #expect(try archive.records("statuses.ndjson").isEmpty)
        #expect(summary.messages == 1 && summary.threads == 1)

        let (_, later, _) = try export(db, to: dir, name: "later.tar.zst", filter: ExportFilter(since: 2000))
        #expect(try later.records("messages.ndjson").map { $0["wamid"] as? String ?? "" } == [
            "w.none.1", "w.group.1", "api.1", "w.bob.1", "w.bob.2", "w.us42.1",
        ])
        #expect(try later.records("statuses.ndjson").map { "\($0["wamid"]!)/\($0["status"]!)" } == ["api.1/sent", "w.bob.2/delivered"])
        #expect(try later.records("message_versions.ndjson").isEmpty)
        // Time does not filter contacts.
        #expect(later.text("contacts.csv").split(separator: "\r\n").count == 4)
        let filters = try #require(try later.manifest["filters"] as? [String: Any])
        #expect(filters["since"] as? Int == 2000 && filters["until"] is NSNull)
        // The snapshot holds the same rows as the files.
        let snapshot = try later.snapshot(in: dir)
        #expect(try strings(snapshot, "SELECT wamid FROM messages ORDER BY seq") == ["w.us42.1", "w.group.1", "w.none.1", "w.bob.1", "w.bob.2"])
        #expect(try strings(snapshot, "SELECT count(*) FROM message_versions") == ["0"])
    }

    @Test func contactFilterFollowsTheUsersOtherIdentifiers() throws {
        // US.77 is Bob's BSUID (user_ids): his rows carry only his phone.
        let (_, archive, _) = try export(db, to: dir, filter: ExportFilter(contacts: [HandDatabase.bobBSUID]))
        #expect(try archive.records("messages.ndjson").map { $0["wamid"] as? String } == ["api.1", "w.bob.1", "w.bob.2"])
        #expect(try archive.records("statuses.ndjson").map { $0["wamid"] as? String } == ["api.1", "w.bob.2"])
        #expect(archive.paths.filter { $0.hasPrefix("threads/") } == ["threads/111/15550002.txt"])
        #expect(archive.text("contacts.csv").split(separator: "\r\n").count == 2)
        let filters = try #require(try archive.manifest["filters"] as? [String: Any])
        #expect(filters["contacts"] as? [String] == ["US.77"])
        #expect(filters["contact_ids"] as? [String] == ["15550002", "US.77"])
        let snapshot = try archive.snapshot(in: dir)
        #expect(try strings(snapshot, "SELECT DISTINCT contact_wa_id FROM messages") == ["15550002"])
        #expect(try strings(snapshot, "SELECT contact_key FROM contacts") == ["15550002"])
        // Nothing of the other users anywhere in the archive, the snapshot included.
        for (path, bytes) in archive.data {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("Hello, ") && !text.contains("Smith") && !text.contains("line one"), "\(path)")
        }

        let (_, alice, _) = try export(db, to: dir, name: "alice.zip", filter: ExportFilter(contacts: [HandDatabase.alice, HandDatabase.alice]))
        #expect(try alice.records("messages.ndjson").count == 3)
        #expect(try alice.records("message_versions.ndjson").count == 5)
        #expect(try alice.records("statuses.ndjson").map { $0["wamid"] as? String } == ["w.alice.1"])
        #expect(try (alice.manifest["filters"] as? [String: Any])?["contacts"] as? [String] == ["15550001"])

        let (_, bsuidOnly, _) = try export(db, to: dir, name: "us42.tgz", filter: ExportFilter(contacts: [HandDatabase.bsuidOnly]))
        #expect(try bsuidOnly.records("messages.ndjson").map { $0["wamid"] as? String } == ["w.us42.1"])
    }

    @Test func redactRevokedRemovesTheTextEverywhere() throws {
        let (_, plain, _) = try export(db, to: dir)
        #expect(plain.data.values.contains { String(decoding: $0, as: UTF8.self).contains("secret plans") })

        let (_, archive, _) = try export(db, to: dir, name: "r.tar.gz", filter: ExportFilter(redactRevoked: true))
        for (path, bytes) in archive.data {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("secret"), "\(path) still holds revoked text")
        }
        let revoked = try #require(try archive.records("messages.ndjson").first { $0["wamid"] as? String == "w.alice.3" })
        #expect(revoked["revoked"] as? Int == 1 && revoked["body"] is NSNull && revoked["content"] is NSNull)
        #expect(try archive.records("message_versions.ndjson").filter { $0["wamid"] as? String == "w.alice.3" }.count == 2)
        // Other messages keep their text.
        #expect(archive.text("messages.ndjson").contains("v2 final"))
        let transcript = archive.text("threads/111/15550001.txt")
        #expect(transcript.contains("customer → business  [deleted] (edited once"))
        #expect(transcript.contains("original 1970-01-01T00:20:50Z  [deleted]"))
        let snapshot = try archive.snapshot(in: dir)
        #expect(try strings(snapshot, "SELECT count(*) FROM messages WHERE revoked = 1 AND body IS NULL AND content IS NULL") == ["1"])
        #expect(try (archive.manifest["filters"] as? [String: Any])?["redact_revoked"] as? Bool == true)
    }

    @Test func theSourceDatabaseIsNotChanged() throws {
        let before = try fileBytes(db)
        _ = try export(db, to: dir, filter: ExportFilter(since: 2000, contacts: [HandDatabase.bob], redactRevoked: true))
        #expect(try fileBytes(db) == before)
        // The WAL companions a reader creates are gone again.
        #expect(!FileManager.default.fileExists(atPath: db + "-wal") && !FileManager.default.fileExists(atPath: db + "-shm"))
    }
}

@Suite struct ExportErrorTests {
    func run(_ db: String, _ out: String) -> ExportError? {
        do {
            _ = try ArchiveExport.run(databasePath: db, archivePath: out)
            return nil
        } catch {
            return error
        }
    }

    @Test func missingAndForeignDatabasesAreRefused() throws {
        let dir = try TempDir()
        let out = dir.file("out.tar.zst")
        #expect(run(dir.file("nope.sqlite"), out) == .missingDatabase(path: dir.file("nope.sqlite")))
        #expect(run(dir.path, out) == .notADatabase(path: dir.path, reason: "not a regular file"))

        let text = dir.file("notes.sqlite")
        try Data("hello, this is not a database at all, just some text that is long enough\n".utf8)
            .write(to: URL(fileURLWithPath: text))
        #expect(run(text, out) == .notADatabase(path: text, reason: "file is not a database"))
        #expect(run(text, out)!.description == "\(text) is not an SQLite database (file is not a database)")

        let foreign = dir.file("foreign.sqlite")
        try Database(path: foreign).execute("CREATE TABLE t (x)")
        #expect(run(foreign, out) == .notACoexDatabase(path: foreign))
        let empty = dir.file("empty.sqlite")
        try Database(path: empty).execute("PRAGMA user_version = 0")
        #expect(run(empty, out) == .notACoexDatabase(path: empty))

        let newer = dir.file("newer.sqlite")
        try HandDatabase.create(at: newer)
        try Database(path: newer).setUserVersion(StoreSchema.version + 1)
        #expect(run(newer, out) == .newerSchema(path: newer, found: StoreSchema.version + 1, supported: StoreSchema.version))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func badOutputsAreRefusedAndLeaveNothing() throws {
        let dir = try TempDir()
        let db = dir.file("900.sqlite")
        try HandDatabase.create(at: db)
        #expect(run(db, dir.file("out.rar")) == .unknownFormat(path: dir.file("out.rar")))
        #expect(run(db, dir.file("out.rar"))!.isUsageError)
        let missingDir = dir.file("no/such/dir/out.zip")
        #expect(run(db, missingDir) == .cannotWrite(path: missingDir, reason: "No such file or directory"))
        // An existing directory in the way of the rename: the export fails and cleans up.
        try FileManager.default.createDirectory(atPath: dir.file("taken.tar.zst"), withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: dir.file("taken.tar.zst/x"), withIntermediateDirectories: false)
        guard case .cannotWrite? = run(db, dir.file("taken.tar.zst")) else {
            Issue.record("expected cannotWrite")
            return
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["900.sqlite", "taken.tar.zst"])
    }
}

@Suite struct ExportUnitTests {
    @Test func parsesTimes() {
        #expect(ExportTime.parse("1768435200") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15T00:00:00Z") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15T02:00:00+02:00") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-14T19:00-0500") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15 00:00:00") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15T00:00:00.000Z") == 1_768_435_200)
        #expect(ExportTime.parse("2026-01-15T00:00:00.5Z") == 1_768_435_201)
        #expect(ExportTime.parse("2024-02-29") == 1_709_164_800)
        for bad in ["", "yesterday", "2026-02-30", "2026-13-01", "2026-1-5", "2026-01-15T25:00", "2026-01-15Tx", "12e3", "-5"] {
            #expect(ExportTime.parse(bad) == nil, "\(bad)")
        }
        #expect(ExportTime.iso(0) == "1970-01-01T00:00:00Z")
        #expect(ExportTime.iso(1_768_485_720) == "2026-01-15T14:02:00Z")
        #expect(ExportTime.iso(-1) == "1969-12-31T23:59:59Z")
    }

    @Test func escapesFileNames() {
        #expect(FileName.escape("16505551234") == "16505551234")
        #expect(FileName.escape("US.27730594418265039921") == "US.27730594418265039921")
        #expect(FileName.escape("a/b") == "a%2Fb")
        #expect(FileName.escape("_groups") == "%5Fgroups")
        #expect(FileName.escape("..") == "%2E.")
        #expect(FileName.escape("50%") == "50%25")
        #expect(FileName.escape("名") == "%E5%90%8D")
        #expect(FileName.escape("") == "%")
    }

    @Test func quotesCSVFields() {
        #expect(CSV.line(["a", "b,c", "say \"hi\"", "x\ny", "", "\r"]) == "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\",,\"\r\"\r\n")
    }
}

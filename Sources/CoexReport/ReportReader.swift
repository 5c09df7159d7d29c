import CoexJSON
import CoexSQLite
import CoexStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gathers `BusinessReport`s from business databases written by coex-load. Reads only:
/// databases are opened read-only and read inside one transaction (a consistent
/// snapshot even while a load is writing).
public enum ReportReader {
    /// Every `*.sqlite` file of `directory`, sorted by WABA id (the file name without
    /// `.sqlite`, compared as text). Hidden files and subdirectories are skipped.
    public static func databases(in directory: String) throws(ReportError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .notADirectory(path: directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .notADirectory(path: directory, reason: "not a directory") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .notADirectory(path: directory, reason: "permission denied or unreadable")
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let found = names.filter { name in
            guard name.hasSuffix(".sqlite"), !name.hasPrefix("."), name.count > ".sqlite".count else { return false }
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: prefix + name, isDirectory: &isDir) && !isDir.boolValue
        }
        guard !found.isEmpty else { throw .noDatabases(directory: directory) }
        return found.sorted { wabaID(ofDatabase: $0).utf8.lexicographicallyPrecedes(wabaID(ofDatabase: $1).utf8) }
            .map { prefix + $0 }
    }

    /// The business a database belongs to: its file name without `.sqlite`.
    public static func wabaID(ofDatabase path: String) -> String { BusinessFile.wabaID(ofDatabase: path) }

    /// Opens `path` read-only, checks that it is a coex database this binary knows, and
    /// gathers its report.
    ///
    /// SQLite reads a WAL database through its `-shm` index, which a read-only connection
    /// creates when missing (and cannot remove: the next coex-load does). Where it cannot be
    /// created (a read-only directory) and no `-wal` holds data, the file is read as
    /// immutable instead: nothing can be writing to it there.
    /// `at`: the time the windows and deadlines are judged at (nil: the latest time in the database).
    public static func read(path: String, at: Int64? = nil) throws(ReportError) -> BusinessReport {
        return try reading(path: path) { db, version in
            try gather(db, wabaID: wabaID(ofDatabase: path), path: path, version: version, at: at)
        }
    }

    /// `body` on the database at `path`, opened read-only and checked as `read(path:)` does,
    /// inside one read transaction (the one way every report mode reads a database).
    public static func reading<T>(path: String, _ body: (Database, Int32) throws -> T) throws(ReportError) -> T {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missing(path: path) }
        if isDirectory.boolValue { throw .cannotOpen(path: path, reason: "is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw .cannotOpen(path: path, reason: "permission denied") }
        do {
            let db = try open(path, shownAs: path)
            return try reading(db, path: path) { try body(db, $0) }
        } catch .sqlite(_, let error) where cannotCreateIndex(error) && !walHoldsData(path) {
            let db = try open(immutableURI(path), shownAs: path)
            return try reading(db, path: path) { try body(db, $0) }
        }
    }

    static func open(_ name: String, shownAs path: String) throws(ReportError) -> Database {
        do {
            return try Database(path: name, mode: .readOnly)
        } catch {
            if case let .openFailed(_, _, _, message) = error { throw .cannotOpen(path: path, reason: message) }
            throw .sqlite(path: path, error)
        }
    }

    /// SQLITE_READONLY_CANTINIT, SQLITE_CANTOPEN: the `-shm` file could not be created.
    static func cannotCreateIndex(_ error: SQLiteError) -> Bool {
        error.extendedCode == 1544 || error.code == 14
    }

    static func walHoldsData(_ path: String) -> Bool {
        var info = stat()
        return stat(path + "-wal", &info) == 0 && info.st_size > 0
    }

    /// `file:PATH?immutable=1`, the path percent-encoded as URIs require.
    static func immutableURI(_ path: String) -> String {
        var uri = "file:"
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                uri.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                uri += "%"
                uri.unicodeScalars.append(hex[Int(byte >> 4)])
                uri.unicodeScalars.append(hex[Int(byte & 15)])
            }
        }
        return uri + "?immutable=1"
    }

    /// The report of an open database (checked as `read(path:)` does).
    public static func read(_ db: Database, wabaID: String, path: String, at: Int64? = nil) throws(ReportError) -> BusinessReport {
        try reading(db, path: path) { version in try gather(db, wabaID: wabaID, path: path, version: version, at: at) }
    }

    /// `body` inside one read transaction of a database checked as `read(path:)` does; errors
    /// become `ReportError`s naming `path`.
    static func reading<T>(_ db: Database, path: String, _ body: (Int32) throws -> T) throws(ReportError) -> T {
        let version = try checkSchema(db, path: path)
        do {
            return try db.transaction(.deferred) { try body(version) }
        } catch let error as ReportError {
            throw error
        } catch let error as SQLiteError {
            throw .sqlite(path: path, error)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// The schema version, or why the file is not a database this binary may report.
    static func checkSchema(_ db: Database, path: String) throws(ReportError) -> Int32 {
        let state: StoreSchema.State
        do {
            state = try StoreSchema.state(of: db)
        } catch {
            // SQLITE_NOTADB (26): the header is not SQLite's.
            if error.code == 26 { throw .notCoexDatabase(path: path, reason: "not an SQLite database") }
            throw .sqlite(path: path, error)
        }
        switch state {
        case .known(let version):
            return version
        case .newer(let version):
            throw .newerSchema(path: path, found: version, supported: StoreSchema.version)
        case .foreign:
            throw .notCoexDatabase(path: path, reason: "an SQLite database with tables but no coex schema version")
        case .empty:
            throw .notCoexDatabase(
                path: path,
                reason: "an SQLite database without tables: no coex schema, or a first load that never completed")
        }
    }

    // MARK: Gathering

    static func gather(_ db: Database, wabaID: String, path: String, version: Int32, at: Int64?) throws -> BusinessReport {
        var r = BusinessReport(wabaID: wabaID, path: path, schemaVersion: Int(version))
        r.atGiven = at != nil
        r.at = try at ?? Onboarding.latestTime(db)
        r.onboarding = try Onboarding.read(db, at: r.at)

        try each(db, "SELECT phone_number_id, display_phone_number FROM phone_numbers ORDER BY phone_number_id") {
            r.phoneNumbers.append(PhoneNumber(id: $0.text(at: 0), display: text($0, 1)))
        }

        var events: [AccountEvent] = []
        try each(db, """
            SELECT event, time, phone_number, reason, initiated_by, owner_business_id, entry_id, fact_id
            FROM account_events
            """) {
            events.append(AccountEvent(
                event: text($0, 0), time: int($0, 1), phoneNumber: text($0, 2), reason: text($0, 3),
                initiatedBy: text($0, 4), ownerBusinessID: text($0, 5), entryID: text($0, 6), factID: $0.text(at: 7)))
        }
        r.account = AccountSummary(events: events)

        r.history = try history(db, phones: r.phoneNumbers)
        r.syncDeadlines = r.history.map { SyncDeadline($0, onboarding: r.onboarding, at: r.at) }
        r.pricing = try PricingMonth.read(db)

        try each(db, "SELECT origin, direction, count(*) FROM messages GROUP BY origin, direction") {
            r.messages.byOrigin[text($0, 0) ?? "unknown", default: [:]][text($0, 1) ?? "unknown", default: 0] += $0.int(at: 2)
        }
        try each(db, "SELECT type, count(*) FROM messages GROUP BY type") {
            r.messages.byType[text($0, 0) ?? "unknown", default: 0] += $0.int(at: 1)
        }
        try each(db, """
            SELECT count(*), total(group_id IS NOT NULL), total(history_asset = 1), total(edit_count > 0),
                total(edit_count), total(revoked = 1), min(timestamp), max(timestamp)
            FROM messages
            """) {
            r.messages.total = $0.int(at: 0)
            r.messages.group = Int($0.double(at: 1))
            r.messages.unmatchedHistoryAssets = Int($0.double(at: 2))
            r.edits.editedMessages = Int($0.double(at: 3))
            r.edits.edits = Int($0.double(at: 4))
            r.revokedMessages = Int($0.double(at: 5))
            if let first = int($0, 6), let last = int($0, 7) { r.timeRange = TimeRange(first: first, last: last) }
        }
        r.edits.versions = try count(db, "SELECT count(*) FROM message_versions")

        try each(db, "SELECT kind, count(*) FROM pending_changes GROUP BY kind") {
            r.pendingChanges[$0.text(at: 0), default: 0] += $0.int(at: 1)
        }

        try each(db, "SELECT status, count(*) FROM statuses GROUP BY status") {
            r.statuses.byStatus[$0.text(at: 0), default: 0] += $0.int(at: 1)
            r.statuses.total += $0.int(at: 1)
        }
        r.statuses.messagesWithoutRow = try count(db, """
            SELECT count(DISTINCT s.wamid) FROM statuses s
            WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = s.wamid)
            """)

        try each(db, "SELECT code, count(*), total(wamid IS NOT NULL) FROM errors GROUP BY code") {
            let n = $0.int(at: 1)
            r.errors.byCode[int($0, 0).map(String.init) ?? "unknown", default: 0] += n
            r.errors.total += n
            r.errors.messageErrors += Int($0.double(at: 2))
        }
        r.errors.webhookErrors = r.errors.total - r.errors.messageErrors

        try each(db, """
            SELECT count(*), total(removed = 1), total(removed = 0 AND list_action IS NOT NULL)
            FROM contacts
            """) {
            r.contacts.total = $0.int(at: 0)
            r.contacts.removed = Int($0.double(at: 1))
            r.contacts.listed = Int($0.double(at: 2))
            r.contacts.neverListed = r.contacts.total - r.contacts.removed - r.contacts.listed
        }

        r.users = try users(db)

        try each(db, "SELECT count(*), min(time), max(time) FROM imports") {
            r.imports.count = $0.int(at: 0)
            r.imports.firstTime = int($0, 1)
            r.imports.lastTime = int($0, 2)
        }
        try each(db, "SELECT inputs FROM imports ORDER BY import_id DESC LIMIT 1") {
            r.imports.lastInputs = inputNames($0.text(at: 0))
        }
        return r
    }

    /// One `HistorySync` per phone number of the business (phone_numbers, and any other
    /// phone number a chunk or sync error names), by phone_number_id.
    static func history(_ db: Database, phones: [PhoneNumber]) throws -> [HistorySync] {
        var chunks: [String: [HistorySync.Chunk]] = [:]
        var errors: [String: [HistorySync.SyncError]] = [:]
        try each(db, "SELECT phone_number_id, phase, chunk_order, progress, threads, messages, time FROM history_chunks") {
            chunks[$0.text(at: 0), default: []].append(HistorySync.Chunk(
                phase: int($0, 1).map(clampedInt), chunkOrder: int($0, 2).map(clampedInt),
                progress: int($0, 3).map(clampedInt), threads: int($0, 4).map(clampedInt),
                messages: int($0, 5).map(clampedInt), time: int($0, 6)))
        }
        try each(db, "SELECT phone_number_id, code, timestamp FROM sync_errors") {
            errors[$0.text(at: 0), default: []].append(HistorySync.SyncError(code: int($0, 1), timestamp: int($0, 2)))
        }
        var display: [String: String?] = [:]
        for p in phones { display[p.id] = p.display }
        let ids = Set(display.keys).union(chunks.keys).union(errors.keys)
        return ids.sorted().map { id in
            HistorySync(phoneNumberID: id, displayPhoneNumber: display[id] ?? nil, chunks: chunks[id] ?? [],
                        errors: errors[id] ?? [])
        }
    }

    /// Users of the business: every identifier pair any row names (1:1 messages, statuses,
    /// pending changes, contacts, user_ids, user_id_changes), joined into users by the
    /// store's identity rules (`IdentityGraph`: a pair seen together or a BSUID change
    /// makes one user), counted by what is known of each.
    static func users(_ db: Database) throws -> UserCounts {
        var counts = UserCounts()
        let graph = IdentityGraph()
        try each(db, "SELECT wa_id, user_id, first_seen_at, last_seen_at FROM user_ids") {
            graph.add(UserIDPair(waID: $0.text(at: 0), userID: $0.text(at: 1)), SeenSpan(first: int($0, 2), last: int($0, 3)))
            counts.pairs += 1
        }
        try each(db, "SELECT previous_user_id, user_id, wa_id, changed_at, wamid FROM user_id_changes") {
            graph.add(UserIDChange(previous: $0.text(at: 0), current: $0.text(at: 1)),
                      UserIDChangeSeen(changedAt: int($0, 3), waID: text($0, 2), wamid: text($0, 4)))
            counts.userIDChanges += 1
        }
        var seen: [(wa: String?, user: String?)] = []
        try each(db, """
            SELECT contact_wa_id, contact_user_id FROM messages WHERE group_id IS NULL
            UNION SELECT contact_wa_id, contact_user_id FROM statuses WHERE group_id IS NULL
            UNION SELECT contact_wa_id, contact_user_id FROM pending_changes
            UNION SELECT wa_id, user_id FROM contacts
            UNION SELECT wa_id, user_id FROM user_ids
            UNION SELECT wa_id, user_id FROM user_id_changes
            """) {
            let wa = text($0, 0), user = text($0, 1)
            guard wa != nil || user != nil else { return }
            seen.append((wa, user))
            // Rows always carry pairs user_ids holds; adding them again keeps the count
            // right for a database where one is missing.
            if let wa, let user { graph.add(UserIDPair(waID: wa, userID: user), SeenSpan(nil)) }
        }
        var users: Set<ChatIdentity> = []
        for s in seen { users.insert(graph.resolve(waID: s.wa, userID: s.user)) }
        for u in users {
            switch (u.waID != nil, u.userID != nil) {
            case (true, false): counts.phoneOnly += 1
            case (true, true): counts.phoneAndBSUID += 1
            case (false, true): counts.bsuidOnly += 1
            case (false, false): break
            }
        }
        return counts
    }

    /// `imports.inputs` is a JSON array of names; anything else is shown as it is.
    static func inputNames(_ json: String) -> [String] {
        // The parser owns the parsed value's memory: it must outlive the reads below.
        let parser = JSONParser()
        guard let value = try? parser.parse(json), value.isArray else { return [json] }
        return value.elements.map { $0.string ?? "?" }
    }

    // MARK: Reading rows

    static func each(_ db: Database, _ sql: String, _ body: (Statement) throws -> Void) throws {
        try db.prepare(sql).forEachRow(body)
    }

    static func count(_ db: Database, _ sql: String) throws -> Int {
        let s = try db.prepare(sql)
        return try s.step() ? s.int(at: 0) : 0
    }
}

/// The column as text, nil when NULL or empty (no name is ever an empty string).
private func text(_ s: Statement, _ i: Int) -> String? {
    if s.isNull(at: i) { return nil }
    let t = s.text(at: i)
    return t.isEmpty ? nil : t
}

private func int(_ s: Statement, _ i: Int) -> Int64? {
    s.isNull(at: i) ? nil : s.int64(at: i)
}

private func clampedInt(_ v: Int64) -> Int { Int(clamping: v) }

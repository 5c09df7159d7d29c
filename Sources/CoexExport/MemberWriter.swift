import CoexJSON
import CoexSQLite
import CoexStore

/// Writes the data members of the archive from the snapshot, one streamed query each.
struct MemberWriter {
    let db: Database
    let work: WorkDirectory
    let filter: ExportFilter
    let sourcePath: String
    private var json = JSONWriter(capacity: 4096)
    private var staged = 0
    /// Earliest and latest message time.
    private(set) var timeRange: (first: Int64, last: Int64)?
    private(set) var edited = 0
    private(set) var revoked = 0

    /// The order of chats and, within a chat, docs/schema.md's chat order (timestamp, seq).
    static func chatOrder(_ a: String) -> String {
        "\(a).phone_number_id, coalesce(\(a).contact_wa_id, \(a).contact_user_id), \(a).group_id, \(a).timestamp, \(a).seq, \(a).wamid"
    }
    private(set) var apiMessages = 0

    init(db: Database, work: WorkDirectory, filter: ExportFilter, sourcePath: String) {
        self.db = db
        self.work = work
        self.filter = filter
        self.sourcePath = sourcePath
    }

    private mutating func stage(_ entryPath: String) throws(ExportError) -> StagedFile {
        staged += 1
        let file = work.file("member-\(staged)")
        return try StagedFile(entryPath: entryPath, filePath: file)
    }

    /// messages.ndjson and, from the same rows, the transcripts (rows come chat by chat).
    mutating func messagesAndThreads(_ summary: inout ExportSummary) throws -> (messages: StagedMember, threads: [StagedMember]) {
        let columns = try TableColumns("messages", alias: "m", json: ["content", "extra", "errors"], in: db)
        let emojiIndex = columns.jsonFlag.compactMap { $0 }.count + columns.names.count
        // Messages sent through the API have no row: they come from their statuses, as lines of
        // the same shape (origin "api"), in chat order by their first status time.
        let order = (1...6).map { "\(emojiIndex + 1 + $0)" }.joined(separator: ", ")
        let rows = try db.prepare("""
            SELECT \(columns.selectList),
                CASE WHEN m.type = 'reaction' AND json_valid(m.content) THEN json_extract(m.content, '$.emoji') END,
                \(Self.chatOrder("m"))
            FROM messages m
            UNION ALL
            SELECT \(APIExportColumns.selectList(columns)), NULL,
                a.phone_number_id, coalesce(a.contact_wa_id, a.contact_user_id), a.group_id, a.timestamp, NULL, a.wamid
            FROM (\(APIMessagesSQL.select)) a
            ORDER BY \(order)
            """)
        let versions = try db.prepare(
            "SELECT version, edited_at, type, body FROM message_versions WHERE wamid = ? ORDER BY version")
        let people = try db.prepare("""
            SELECT c.wa_id, c.user_id, c.full_name, c.profile_name, c.username,
                (SELECT display_phone_number FROM phone_numbers p WHERE p.phone_number_id = ?1)
            FROM (SELECT 1) LEFT JOIN contacts c ON c.phone_number_id = ?1 AND c.contact_key = ?2
            """)
        let col = (
            wamid: columns.index("wamid"), phone: columns.index("phone_number_id"),
            waID: columns.index("contact_wa_id"), userID: columns.index("contact_user_id"),
            group: columns.index("group_id"), direction: columns.index("direction"), origin: columns.index("origin"),
            type: columns.index("type"), body: columns.index("body"), timestamp: columns.index("timestamp"),
            editCount: columns.index("edit_count"), revoked: columns.index("revoked"), revokedAt: columns.index("revoked_at"),
            extra: columns.index("extra"), status: columns.index("status"))

        let out = try stage("messages.ndjson")
        var threads: [StagedMember] = []
        var chat: ChatKey?
        var transcript: StagedFile?
        func optional(_ s: Statement, _ i: Int) -> String? { s.isNull(at: i) ? nil : s.text(at: i) }
        func optionalInt(_ s: Statement, _ i: Int) -> Int64? { s.isNull(at: i) ? nil : s.int64(at: i) }

        try rows.forEachRow { row in
            columns.writeJSONLine(row, into: &json)
            try out.write(json.bytes)
            summary.messages += 1

            let key = ChatKey(
                phoneNumberID: optional(row, col.phone),
                contactKey: optional(row, col.waID) ?? optional(row, col.userID),
                groupID: optional(row, col.group))
            if key != chat {
                if let transcript { threads.append(try transcript.finish()) }
                chat = key
                let file = try stage(key.entryPath)
                transcript = file
                try file.write(TranscriptText.header(key, try readPeople(people, key)))
            }
            if let t = optionalInt(row, col.timestamp) {
                timeRange = timeRange.map { (min($0.first, t), max($0.last, t)) } ?? (t, t)
            }
            let line = TranscriptLine(
                timestamp: optionalInt(row, col.timestamp), direction: optional(row, col.direction),
                type: optional(row, col.type), body: optional(row, col.body),
                reactionEmoji: optional(row, emojiIndex),
                editCount: row.int(at: col.editCount), revoked: row.int(at: col.revoked) == 1,
                revokedAt: optionalInt(row, col.revokedAt), origin: optional(row, col.origin),
                status: optional(row, col.status))
            if line.origin == "api" {
                apiMessages += 1
                try transcript!.write(TranscriptText.apiLine(
                    line, statuses: optional(row, col.extra), group: key.contactKey == nil && key.groupID != nil))
                return
            }
            var earlier: [TranscriptVersion] = []
            if line.editCount > 0 {
                try versions.bind(row.text(at: col.wamid), at: 1)
                try versions.forEachRow { v in
                    earlier.append(TranscriptVersion(
                        version: v.int(at: 0), editedAt: optionalInt(v, 1), type: optional(v, 2), body: optional(v, 3)))
                }
                edited += 1
            }
            if line.revoked { revoked += 1 }
            try transcript!.write(TranscriptText.line(
                line, versions: earlier, group: key.contactKey == nil && key.groupID != nil,
                redacted: filter.redactRevoked))
        }
        if let transcript { threads.append(try transcript.finish()) }
        summary.threads = threads.count
        summary.apiMessages = apiMessages
        return (try out.finish(), threads)
    }

    private func readPeople(_ s: Statement, _ key: ChatKey) throws -> ChatPeople {
        if let phone = key.phoneNumberID { try s.bind(phone, at: 1) } else { try s.bindNull(at: 1) }
        if let contact = key.contactKey { try s.bind(contact, at: 2) } else { try s.bindNull(at: 2) }
        var people = ChatPeople()
        try s.forEachRow { r in
            func text(_ i: Int) -> String? { r.isNull(at: i) ? nil : r.text(at: i) }
            people = ChatPeople(waID: text(0), userID: text(1), fullName: text(2), profileName: text(3),
                                username: text(4), displayPhoneNumber: text(5))
        }
        if people.waID == nil && people.userID == nil, let contact = key.contactKey {
            // A chat without a contacts row: the key is the phone when it looks like one.
            if contact.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { people.waID = contact } else { people.userID = contact }
        }
        return people
    }

    /// message_versions.ndjson, in the chat order of their messages, then by version.
    mutating func versions(_ summary: inout ExportSummary) throws -> StagedMember {
        let columns = try TableColumns("message_versions", alias: "v", json: ["content"], in: db)
        return try ndjson("message_versions.ndjson", columns, count: &summary.messageVersions, sql: """
            SELECT \(columns.selectList) FROM message_versions v LEFT JOIN messages m ON m.wamid = v.wamid
            ORDER BY \(Self.chatOrder("m")), v.wamid, v.version
            """)
    }

    /// statuses.ndjson, chat by chat, by time within a chat.
    mutating func statuses(_ summary: inout ExportSummary) throws -> StagedMember {
        let columns = try TableColumns("statuses", alias: "s", json: ["errors", "extra"], in: db)
        return try ndjson("statuses.ndjson", columns, count: &summary.statuses, sql: """
            SELECT \(columns.selectList) FROM statuses s
            ORDER BY s.phone_number_id, coalesce(s.contact_wa_id, s.contact_user_id), s.group_id, s.timestamp, s.wamid, s.status
            """)
    }

    /// A member with one JSON line per row of `sql` (which selects `columns`).
    private mutating func ndjson(
        _ entryPath: String, _ columns: TableColumns, count: inout Int, sql: String
    ) throws -> StagedMember {
        let rows = try db.prepare(sql)
        let out = try stage(entryPath)
        try rows.forEachRow { row in
            columns.writeJSONLine(row, into: &json)
            try out.write(json.bytes)
            count += 1
        }
        return try out.finish()
    }

    /// contacts.csv: a header row of the column names, then one row per contact.
    mutating func contacts(_ summary: inout ExportSummary) throws -> StagedMember {
        let columns = try TableColumns("contacts", alias: "c", json: [], in: db)
        let rows = try db.prepare("SELECT \(columns.selectList) FROM contacts c ORDER BY c.phone_number_id, c.contact_key")
        let out = try stage("contacts.csv")
        try out.write(CSV.line(columns.names))
        try rows.forEachRow { row in
            try out.write(CSV.line((0..<columns.names.count).map { CSV.text(row.value(at: $0)) }))
            summary.contacts += 1
        }
        return try out.finish()
    }
}

import CoexJSON
import CoexSQLite
import CoexStore

/// `coex-report --search QUERY`: the messages whose text, now or in an earlier version, matches
/// an FTS5 query (docs/report.md, "Search"), through the `message_search` index of schema 2.
public struct MessageSearch: Sendable, Equatable {
    public struct Hit: Sendable, Equatable {
        public var wamid: String
        public var phoneNumberID: String?
        public var chat: String?
        public var groupID: String?
        /// The name in the business's contact list, else the user's own profile name.
        public var contactName: String?
        public var timestamp: Int64?
        public var direction: String?
        public var origin: String?
        public var type: String?
        /// The text as it is now (after edits).
        public var body: String?
        public var editCount: Int
        public var revoked: Bool
        /// The text now matches.
        public var matchedCurrent: Bool
        /// Versions (0 = the original) whose text matches.
        public var matchedVersions: [Int]
    }

    public var wabaID: String
    public var query: String
    public var hits: [Hit] = []

    /// Why a query cannot run, found before any database is read: FTS5's own message.
    public static func check(_ query: String) -> String? {
        do {
            let db = try Database(path: ":memory:")
            try db.execute("CREATE VIRTUAL TABLE q USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2')")
            let s = try db.prepare("SELECT count(*) FROM q WHERE q MATCH ?1")
            try s.bind(query, at: 1)
            _ = try s.step()
            return nil
        } catch {
            return error.message ?? error.description
        }
    }

    /// The messages of the database at `path` that match `query`, in chat order.
    public static func read(path: String, query: String) throws(ReportError) -> MessageSearch {
        try ReportReader.reading(path: path) { db, version in
            guard version >= 2 else { throw ReportError.noSearchIndex(path: path, version: version) }
            var result = MessageSearch(wabaID: ReportReader.wabaID(ofDatabase: path), query: query)
            let s = try db.prepare("""
                WITH matched AS (
                    SELECT wamid, max(version IS NULL) AS current,
                        group_concat(version, ',') FILTER (WHERE version IS NOT NULL) AS versions
                    FROM (SELECT wamid, version FROM message_search WHERE message_search MATCH ?1 ORDER BY rowid)
                    GROUP BY wamid)
                SELECT m.wamid, m.phone_number_id, coalesce(m.contact_wa_id, m.contact_user_id), m.group_id,
                    coalesce(c.full_name, c.profile_name), m.timestamp, m.direction, m.origin, m.type, m.body, m.edit_count, m.revoked,
                    x.current, x.versions
                FROM matched x JOIN messages m ON m.wamid = x.wamid
                LEFT JOIN contacts c
                    ON c.phone_number_id = m.phone_number_id AND c.contact_key = coalesce(m.contact_wa_id, m.contact_user_id)
                ORDER BY m.phone_number_id, coalesce(m.contact_wa_id, m.contact_user_id), m.group_id,
                    m.timestamp, m.seq, m.wamid
                """)
            try s.bind(query, at: 1)
            try s.forEachRow { r in
                func text(_ i: Int) -> String? { r.isNull(at: i) ? nil : r.text(at: i) }
                result.hits.append(Hit(
                    wamid: r.text(at: 0), phoneNumberID: text(1), chat: text(2), groupID: text(3), contactName: text(4),
                    timestamp: r.isNull(at: 5) ? nil : r.int64(at: 5), direction: text(6), origin: text(7),
                    type: text(8), body: text(9), editCount: r.int(at: 10), revoked: r.int(at: 11) == 1,
                    matchedCurrent: r.int(at: 12) == 1,
                    matchedVersions: (text(13) ?? "").split(separator: ",").compactMap { Int($0) }.sorted()))
            }
            return result
        }
    }

    // MARK: Rendering

    public func text() -> String {
        var out = Lines()
        out.line("business \(wabaID): \(ReportText.plural(hits.count, "message")) \(hits.count == 1 ? "matches" : "match") \(quoted(query))")
        for h in hits {
            var line = "  \(h.timestamp.map(isoTime) ?? "(no time)")  \(h.phoneNumberID ?? "-")  "
            line += (h.chat ?? h.groupID.map { "group \($0)" } ?? "-")
            if let name = h.contactName { line += " (\(oneLine(name)))" }
            line += "  \(h.direction ?? "-") \(h.origin ?? "-")  \(h.type ?? "-")  \(oneLine(h.body ?? ""))"
            var marks: [String] = []
            if h.editCount > 0 { marks.append("edited") }
            if h.revoked { marks.append("deleted by sender") }
            if !h.matchedCurrent { marks.append("matched an earlier version: " + versionNames(h.matchedVersions)) }
            if !marks.isEmpty { line += "  [" + marks.joined(separator: "; ") + "]" }
            out.line(line)
        }
        return out.text
    }

    public func ndjson(into w: inout JSONWriter) -> [UInt8] {
        var bytes: [UInt8] = []
        for h in hits {
            w.reset()
            w.beginObject()
            w.key("waba_id"); w.string(wabaID)
            w.key("wamid"); w.string(h.wamid)
            w.key("phone_number_id"); ReportJSON.optional(h.phoneNumberID, &w)
            w.key("chat"); ReportJSON.optional(h.chat, &w)
            w.key("group_id"); ReportJSON.optional(h.groupID, &w)
            w.key("contact_name"); ReportJSON.optional(h.contactName, &w)
            ReportJSON.time("timestamp", h.timestamp, &w)
            w.key("direction"); ReportJSON.optional(h.direction, &w)
            w.key("origin"); ReportJSON.optional(h.origin, &w)
            w.key("type"); ReportJSON.optional(h.type, &w)
            w.key("body"); ReportJSON.optional(h.body, &w)
            w.key("edit_count"); w.int(h.editCount)
            w.key("revoked"); w.bool(h.revoked)
            w.key("matched_current"); w.bool(h.matchedCurrent)
            w.key("matched_versions"); w.beginArray()
            for v in h.matchedVersions { w.comma(); w.int(v) }
            w.endArray()
            w.endObject()
            w.newline()
            bytes += w.bytes
        }
        return bytes
    }

    func versionNames(_ versions: [Int]) -> String {
        versions.map { $0 == 0 ? "original" : "edit \($0)" }.joined(separator: ", ")
    }

    func quoted(_ s: String) -> String { "\"" + oneLine(s) + "\"" }

    func oneLine(_ s: String) -> String {
        String(s.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}

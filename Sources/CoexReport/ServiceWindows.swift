import CoexJSON
import CoexSQLite
import CoexStore

/// The customer service window of every 1:1 chat of a business as of a time (`coex-report
/// --windows`): docs/report.md, "Service windows". The rule is the SQL the `chats` view uses
/// (`ChatWindowsSQL`), so the report and the view cannot disagree.
public struct ServiceWindows: Sendable, Equatable {
    public struct Chat: Sendable, Equatable {
        public var phoneNumberID: String?
        /// The chat key: wa_id, else user_id.
        public var chat: String
        public var waID: String?
        public var userID: String?
        public var contactName: String?
        public var profileName: String?
        /// The user's latest message of any kind (history included) at or before the time.
        public var lastUserMessageAt: Int64?
        /// The latest inbound live message at or after onboarding: the one that opened or last
        /// extended the window (nil: none, so only templates can be sent).
        public var windowOpenedAt: Int64?
        public var windowWamid: String?
        public var windowClosesAt: Int64?
        /// `open`, `closed` or `template_only`.
        public var state: String
    }

    public var wabaID: String
    public var path: String
    public var at: Int64?
    public var atGiven: Bool
    public var onboarding: Onboarding
    public var chats: [Chat] = []

    public func count(_ state: String) -> Int { chats.filter { $0.state == state }.count }

    /// The windows of the database at `path` as of `at` (nil: its latest time).
    public static func read(path: String, at given: Int64?) throws(ReportError) -> ServiceWindows {
        try ReportReader.reading(path: path) { db, _ in
            let at = try given ?? Onboarding.latestTime(db)
            var w = ServiceWindows(
                wabaID: ReportReader.wabaID(ofDatabase: path), path: path, at: at, atGiven: given != nil,
                onboarding: try Onboarding.read(db, at: at))
            let s = try db.prepare("""
                SELECT w.phone_number_id, w.chat, coalesce(c.wa_id, w.contact_wa_id), coalesce(c.user_id, w.contact_user_id),
                    c.full_name, c.profile_name,
                    w.last_user_message_at, w.window_opened_at, w.window_wamid, w.window_closes_at, w.window_state
                FROM (\(ChatWindowsSQL.windows(at: "?1"))) w
                LEFT JOIN contacts c ON c.phone_number_id = w.phone_number_id AND c.contact_key = w.chat
                ORDER BY w.phone_number_id, w.chat
                """)
            if let at { try s.bind(at, at: 1) } else { try s.bindNull(at: 1) }
            try s.forEachRow { r in
                func text(_ i: Int) -> String? { r.isNull(at: i) ? nil : r.text(at: i) }
                func int(_ i: Int) -> Int64? { r.isNull(at: i) ? nil : r.int64(at: i) }
                w.chats.append(Chat(
                    phoneNumberID: text(0), chat: r.text(at: 1), waID: text(2), userID: text(3),
                    contactName: text(4), profileName: text(5),
                    lastUserMessageAt: int(6), windowOpenedAt: int(7), windowWamid: text(8), windowClosesAt: int(9),
                    state: r.text(at: 10)))
            }
            return w
        }
    }

    // MARK: Rendering

    public func text() -> String {
        var out = Lines()
        out.line("business \(wabaID)")
        if let at {
            out.field("windows at", "\(isoTime(at)) (\(atGiven ? "--at" : "the latest time in the database"))")
        } else {
            out.field("windows at", "no time in the database")
        }
        out.field("onboarded", ReportText.onboardingText(onboarding))
        out.field("chats", "\(chats.count): \(count("open")) open, \(count("closed")) closed, "
            + "\(count("template_only")) template only")
        guard !chats.isEmpty else { return out.text }
        let rows = chats.map { c in
            [c.phoneNumberID ?? "-", c.chat, c.contactName ?? c.profileName ?? "-",
             c.lastUserMessageAt.map(isoTime) ?? "-", c.windowOpenedAt.map(isoTime) ?? "-",
             c.windowClosesAt.map(isoTime) ?? "-", c.state.replacingOccurrences(of: "_", with: " ")]
        }
        out.table(["phone number", "chat", "name", "last user message", "window from", "closes", "state"], rows)
        return out.text
    }

    /// One NDJSON line per chat.
    public func ndjson(into w: inout JSONWriter) -> [UInt8] {
        var bytes: [UInt8] = []
        for c in chats {
            w.reset()
            w.beginObject()
            w.key("waba_id"); w.string(wabaID)
            w.key("phone_number_id"); ReportJSON.optional(c.phoneNumberID, &w)
            w.key("chat"); w.string(c.chat)
            w.key("contact_wa_id"); ReportJSON.optional(c.waID, &w)
            w.key("contact_user_id"); ReportJSON.optional(c.userID, &w)
            w.key("contact_name"); ReportJSON.optional(c.contactName, &w)
            w.key("profile_name"); ReportJSON.optional(c.profileName, &w)
            w.key("state"); w.string(c.state)
            ReportJSON.time("last_user_message_at", c.lastUserMessageAt, &w)
            ReportJSON.time("window_opened_at", c.windowOpenedAt, &w)
            w.key("window_wamid"); ReportJSON.optional(c.windowWamid, &w)
            ReportJSON.time("window_closes_at", c.windowClosesAt, &w)
            ReportJSON.time("at", at, &w)
            ReportJSON.time("onboarded_at", onboarding.time, &w)
            w.key("onboarding"); w.string(onboarding.source.rawValue)
            w.endObject()
            w.newline()
            bytes += w.bytes
        }
        return bytes
    }
}

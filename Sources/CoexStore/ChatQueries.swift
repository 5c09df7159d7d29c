// The SQL of the source document's rules that the views of schema 2 and coex-report share, so
// that a view and the report can never disagree (docs/report.md, "Service windows").

/// Messages sent through the API: known only by their statuses (no message row), one row per
/// wamid. The view `api_messages`, and the API half of transcripts and exports.
public enum APIMessagesSQL {
    /// Only what places an API send in its chat (wamid, phone_number_id, contact_wa_id,
    /// contact_user_id, group_id, direction, origin, timestamp of the first status): for the
    /// windows and the chats, which need no trail or pricing.
    public static let sends = """
        SELECT s.wamid, max(s.phone_number_id) AS phone_number_id, max(s.contact_wa_id) AS contact_wa_id,
            max(s.contact_user_id) AS contact_user_id, max(s.group_id) AS group_id,
            'outbound' AS direction, 'api' AS origin, min(s.timestamp) AS timestamp
        FROM statuses s
        WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = s.wamid)
        GROUP BY s.wamid
        """

    /// Columns: wamid, phone_number_id, contact_wa_id, contact_user_id, group_id, direction
    /// ('outbound'), origin ('api'), status (the current one, by StatusRule), timestamp and time
    /// (the first status), last_status_at, status_count, trail (JSON array of every status in
    /// time order: status, timestamp, time, errors), pricing (JSON: the earliest status's
    /// `pricing` object), pricing_category, billable (1, 0 or NULL), source (the first status's).
    public static let select = """
        SELECT a.*, json_extract(a.pricing, '$.category') AS pricing_category,
            json_extract(a.pricing, '$.billable') AS billable
        FROM (
            SELECT s.wamid, max(s.phone_number_id) AS phone_number_id,
                max(s.contact_wa_id) AS contact_wa_id, max(s.contact_user_id) AS contact_user_id,
                max(s.group_id) AS group_id, 'outbound' AS direction, 'api' AS origin,
                (SELECT b.status FROM statuses b WHERE b.wamid = s.wamid
                    ORDER BY b.timestamp IS NULL, b.timestamp DESC, \(StatusRule.rankSQL("b")) DESC, b.status DESC LIMIT 1) AS status,
                min(s.timestamp) AS timestamp, \(StoreSchema.iso("min(s.timestamp)")) AS time,
                max(s.timestamp) AS last_status_at, count(*) AS status_count,
                (SELECT json_group_array(json_object('status', t.status, 'timestamp', t.timestamp,
                        'time', \(StoreSchema.iso("t.timestamp")),
                        'errors', CASE WHEN json_valid(t.errors) THEN json(t.errors) END))
                    FROM (SELECT * FROM statuses t WHERE t.wamid = s.wamid
                        ORDER BY t.timestamp IS NOT NULL, t.timestamp, \(StatusRule.rankSQL("t")), t.status) t) AS trail,
                (SELECT json_extract(p.extra, '$.pricing') FROM statuses p
                    WHERE p.wamid = s.wamid AND json_valid(p.extra) AND json_type(p.extra, '$.pricing') = 'object'
                    ORDER BY p.timestamp IS NULL, p.timestamp, \(StatusRule.rankSQL("p")), p.status LIMIT 1) AS pricing,
                (SELECT f.source FROM statuses f WHERE f.wamid = s.wamid
                    ORDER BY f.timestamp IS NULL, f.timestamp, \(StatusRule.rankSQL("f")), f.status LIMIT 1) AS source
            FROM statuses s
            WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = s.wamid)
            GROUP BY s.wamid
        ) a
        """
}

/// Onboarding and the customer service window of every 1:1 chat, as of a time.
public enum ChatWindowsSQL {
    /// A window lasts this long after the user's latest message that opens one.
    public static let windowSeconds: Int64 = 86_400

    /// The latest time the database knows (of any row with a time).
    public static let latestTime = """
        (SELECT max(t) FROM (
            SELECT max(timestamp) AS t FROM messages UNION ALL SELECT max(timestamp) FROM statuses
            UNION ALL SELECT max(time) FROM account_events UNION ALL SELECT max(time) FROM history_chunks
            UNION ALL SELECT max(timestamp) FROM sync_errors UNION ALL SELECT max(timestamp) FROM errors
            UNION ALL SELECT max(updated_at) FROM contacts))
        """

    /// The earliest time of a webhook that is not history: live messages, echoes, statuses,
    /// account events, errors, the contact list sync.
    public static let firstLiveTime = """
        (SELECT min(t) FROM (
            SELECT min(timestamp) AS t FROM messages WHERE origin IS NOT 'history'
            UNION ALL SELECT min(timestamp) FROM statuses UNION ALL SELECT min(time) FROM account_events
            UNION ALL SELECT min(timestamp) FROM errors UNION ALL SELECT min(list_updated_at) FROM contacts))
        """

    /// Whether the business has a PARTNER_ADDED event with a time.
    public static let hasPartnerAdded =
        "EXISTS (SELECT 1 FROM account_events WHERE event = 'PARTNER_ADDED' AND time IS NOT NULL)"

    /// When the business was onboarded as of `at` (an SQL expression): its latest PARTNER_ADDED
    /// at or before `at` (NULL: not yet onboarded then); a business whose captures hold no
    /// PARTNER_ADDED with a time was onboarded by its first non-history webhook.
    public static func onboarding(at: String) -> String {
        """
        (CASE WHEN \(hasPartnerAdded)
            THEN (SELECT max(time) FROM account_events WHERE event = 'PARTNER_ADDED' AND time <= \(at))
            ELSE \(firstLiveTime) END)
        """
    }

    /// One row per 1:1 chat with a message or an API send at or before `at` (reads only the
    /// tables of schema 1, so it also serves a database not yet upgraded): phone_number_id, chat
    /// (wa_id, else user_id), contact_wa_id, contact_user_id, last_user_message_at (any inbound message), window_opened_at
    /// (the latest inbound live message at or after onboarding), window_wamid (that message),
    /// window_closes_at, window_state (`open`, `closed`, `template_only`), onboarded_at, at.
    public static func windows(at: String) -> String {
        """
        SELECT w.phone_number_id, w.chat, w.contact_wa_id, w.contact_user_id, w.last_user_message_at,
            w.opened_at AS window_opened_at,
            (SELECT x.wamid FROM messages x
                WHERE coalesce(x.contact_wa_id, x.contact_user_id) = w.chat AND x.phone_number_id IS w.phone_number_id
                    AND x.group_id IS NULL AND x.direction = 'inbound' AND x.origin = 'live' AND x.timestamp = w.opened_at
                ORDER BY x.seq DESC, x.wamid DESC LIMIT 1) AS window_wamid,
            w.opened_at + \(windowSeconds) AS window_closes_at,
            CASE WHEN w.opened_at IS NULL THEN 'template_only'
                WHEN w.at < w.opened_at + \(windowSeconds) THEN 'open' ELSE 'closed' END AS window_state,
            w.onboarded_at, w.at
        FROM (
            SELECT r.phone_number_id, r.chat, max(r.contact_wa_id) AS contact_wa_id,
                max(r.contact_user_id) AS contact_user_id, o.at, o.onboarded_at,
                max(CASE WHEN r.direction = 'inbound' THEN r.timestamp END) AS last_user_message_at,
                max(CASE WHEN r.direction = 'inbound' AND r.origin = 'live' AND r.timestamp >= o.onboarded_at
                    THEN r.timestamp END) AS opened_at
            FROM (
                SELECT phone_number_id, coalesce(contact_wa_id, contact_user_id) AS chat, contact_wa_id,
                    contact_user_id, direction, origin, timestamp
                FROM messages WHERE group_id IS NULL AND coalesce(contact_wa_id, contact_user_id) IS NOT NULL
                UNION ALL
                SELECT phone_number_id, coalesce(contact_wa_id, contact_user_id), contact_wa_id, contact_user_id,
                    direction, origin, timestamp
                FROM (\(APIMessagesSQL.sends))
                WHERE group_id IS NULL AND coalesce(contact_wa_id, contact_user_id) IS NOT NULL
            ) r, (SELECT \(at) AS at, \(onboarding(at: at)) AS onboarded_at) o
            WHERE r.timestamp <= o.at
            GROUP BY r.phone_number_id, r.chat
        ) w
        """
    }

    /// The `chats` view: one row per chat (1:1 by user, or group), its people and names from the
    /// contact list, first and last message, counts, and the window as of the latest time.
    static let chats = """
        SELECT p.phone_number_id, p.chat, p.group_id,
            coalesce(c.wa_id, p.contact_wa_id) AS contact_wa_id, coalesce(c.user_id, p.contact_user_id) AS contact_user_id,
            c.full_name AS contact_name, c.profile_name, c.username,
            coalesce(c.list_action IS NOT NULL AND c.removed = 0, 0) AS in_contact_list,
            p.first_message_at, \(StoreSchema.iso("p.first_message_at")) AS first_message_time,
            p.last_message_at, \(StoreSchema.iso("p.last_message_at")) AS last_message_time,
            p.messages, p.inbound, p.outbound, p.history, p.app_sent, p.api_sent,
            w.last_user_message_at, w.window_opened_at, w.window_closes_at,
            \(StoreSchema.iso("w.window_closes_at")) AS window_closes_time, w.window_state, w.at AS window_at
        FROM (
            SELECT phone_number_id, chat, group_id, max(contact_wa_id) AS contact_wa_id,
                max(contact_user_id) AS contact_user_id,
                min(timestamp) AS first_message_at, max(timestamp) AS last_message_at,
                sum(origin IS NOT 'api') AS messages, sum(direction = 'inbound') AS inbound,
                sum(direction = 'outbound') AS outbound, sum(origin = 'history') AS history,
                sum(origin = 'echo') AS app_sent, sum(origin = 'api') AS api_sent
            FROM (
                SELECT phone_number_id, CASE WHEN group_id IS NULL THEN coalesce(contact_wa_id, contact_user_id) END AS chat,
                    group_id, contact_wa_id, contact_user_id, direction, origin, timestamp FROM messages
                UNION ALL
                SELECT phone_number_id, CASE WHEN group_id IS NULL THEN coalesce(contact_wa_id, contact_user_id) END,
                    group_id, contact_wa_id, contact_user_id, direction, origin, timestamp FROM (\(APIMessagesSQL.sends))
            )
            GROUP BY phone_number_id, chat, group_id
        ) p
        LEFT JOIN contacts c ON c.phone_number_id = p.phone_number_id AND c.contact_key = p.chat
        LEFT JOIN (\(windows(at: latestTime))) w ON w.phone_number_id IS p.phone_number_id AND w.chat = p.chat
        """
}

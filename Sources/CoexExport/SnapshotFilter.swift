import CoexSQLite

/// Applies an `ExportFilter` to the export's private copy of the database, so that the
/// snapshot in the archive holds exactly the rows (and the redactions) of the other files.
/// The copy is rewritten with `VACUUM INTO` afterwards, which leaves no deleted or
/// overwritten text behind in free pages.
///
/// Rules (docs/export.md, "Filters"):
/// - messages, pending_changes: kept when their `timestamp` is in the window and their user
///   is one of the users asked for;
/// - message_versions: those of kept messages;
/// - statuses: those of kept messages; a status of a message the database does not hold
///   (sent through the API) by its own timestamp and user;
/// - errors of a message (`wamid` set): kept when that message or a status of it is kept;
/// - contacts, user_ids, user_id_changes: only the users asked for (time does not apply);
/// - business tables (phone_numbers, account_events, history_chunks, sync_errors, imports,
///   errors without `wamid`) are kept whole.
enum SnapshotFilter {
    /// Filters and redacts `db` (a writable copy) in one transaction. Returns every identifier
    /// the users asked for are known by (phone numbers and BSUIDs, old ones too), sorted.
    static func apply(_ filter: ExportFilter, to db: Database) throws -> [String] {
        var ids: [String] = []
        try db.transaction {
            if !filter.contacts.isEmpty {
                ids = try expandUsers(filter.normalizedContacts, in: db)
            }
            if filter.selectsRows { try removeRows(filter, db) }
            if filter.redactRevoked { try redact(db) }
            if filter.selectsRows || filter.redactRevoked { try rebuildSearch(db) }
        }
        try db.execute("DROP TABLE IF EXISTS temp.export_ids")
        return ids
    }

    /// Every identifier joined to the given ones by a pair seen together (`user_ids`) or a
    /// BSUID change (`user_id_changes`), as docs/schema.md defines one user.
    private static func expandUsers(_ given: [String], in db: Database) throws -> [String] {
        try db.execute("CREATE TEMP TABLE export_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
        let insert = try db.prepare("INSERT OR IGNORE INTO temp.export_ids VALUES (?)")
        for id in given { try insert.execute([.text(id)]) }
        let grow = try db.prepare("""
            INSERT OR IGNORE INTO temp.export_ids
            SELECT user_id FROM user_ids WHERE wa_id IN temp.export_ids
            UNION SELECT wa_id FROM user_ids WHERE user_id IN temp.export_ids
            UNION SELECT user_id FROM user_id_changes WHERE previous_user_id IN temp.export_ids
            UNION SELECT previous_user_id FROM user_id_changes WHERE user_id IN temp.export_ids
            UNION SELECT wa_id FROM user_id_changes
                WHERE wa_id IS NOT NULL AND (user_id IN temp.export_ids OR previous_user_id IN temp.export_ids)
            """)
        while true {
            try grow.execute()
            if db.changes == 0 { break }
        }
        return try db.prepare("SELECT id FROM temp.export_ids ORDER BY id").mapRows { $0.text(at: 0) }
    }

    /// The condition a row with `timestamp`, `contact_wa_id` and `contact_user_id` columns must
    /// meet. Times are integers spliced in as literals; users come from temp.export_ids.
    private static func keep(_ filter: ExportFilter, prefix: String = "") -> String {
        var parts: [String] = []
        if let since = filter.since { parts.append("\(prefix)timestamp >= \(since)") }
        if let until = filter.until { parts.append("\(prefix)timestamp < \(until)") }
        if !filter.contacts.isEmpty {
            parts.append("(\(prefix)contact_wa_id IN temp.export_ids OR \(prefix)contact_user_id IN temp.export_ids)")
        }
        // A NULL time or user never matches: coalesce turns "unknown" into "drop".
        return parts.isEmpty ? "1" : "coalesce(" + parts.joined(separator: " AND ") + ", 0)"
    }

    private static func removeRows(_ filter: ExportFilter, _ db: Database) throws {
        let rows = keep(filter)
        // Statuses first: whether their message exists and is kept is decided on the full table.
        try db.execute("""
            DELETE FROM statuses WHERE NOT coalesce(
                (SELECT \(keep(filter, prefix: "m.")) FROM messages m WHERE m.wamid = statuses.wamid),
                \(keep(filter, prefix: "statuses.")));
            DELETE FROM messages WHERE NOT \(rows);
            DELETE FROM message_versions WHERE wamid NOT IN (SELECT wamid FROM messages);
            DELETE FROM errors WHERE wamid IS NOT NULL
                AND wamid NOT IN (SELECT wamid FROM messages) AND wamid NOT IN (SELECT wamid FROM statuses);
            DELETE FROM pending_changes WHERE NOT \(rows);
            """)
        if !filter.contacts.isEmpty {
            try db.execute("""
                DELETE FROM contacts WHERE NOT coalesce(wa_id IN temp.export_ids OR user_id IN temp.export_ids
                    OR contact_key IN temp.export_ids, 0);
                DELETE FROM user_ids WHERE NOT (wa_id IN temp.export_ids OR user_id IN temp.export_ids);
                DELETE FROM user_id_changes WHERE NOT coalesce(previous_user_id IN temp.export_ids
                    OR user_id IN temp.export_ids OR wa_id IN temp.export_ids, 0);
                """)
        }
    }

    /// The search index's segments still hold the words of rows deleted or blanked above until
    /// they are merged: rebuilt from what is left, nothing of them remains (schema 2 on).
    private static func rebuildSearch(_ db: Database) throws {
        let present = try db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'message_search'")
        guard try present.step(), present.int(at: 0) == 1 else { return }
        try db.execute("INSERT INTO message_search (message_search) VALUES ('rebuild')")
    }

    /// Revoked messages keep their row (who, when, that it was revoked) but lose what they said.
    private static func redact(_ db: Database) throws {
        try db.execute("""
            UPDATE message_versions SET body = NULL, content = NULL
                WHERE wamid IN (SELECT wamid FROM messages WHERE revoked = 1);
            UPDATE messages SET body = NULL, content = NULL WHERE revoked = 1;
            UPDATE pending_changes SET body = NULL, content = NULL
                WHERE kind = 'edit' AND original_message_id IN
                    (SELECT original_message_id FROM pending_changes WHERE kind = 'revoke');
            """)
    }
}

import CoexSQLite

/// The statements of one load, prepared once and reused for every row.
final class LoadStatements {
    let insertMessage, selectMessage, updateMessage: Statement
    let selectVersions, deleteVersions, insertVersion: Statement
    let selectPending, deletePending, upsertPending: Statement
    let upsertStatus, selectStatuses: Statement
    let selectContact, selectContactsByKey, deleteContact, upsertContact: Statement
    let upsertPair, upsertChange, upsertPhone: Statement
    let insertAccountEvent, insertHistoryChunk, insertSyncError, insertError: Statement
    let reconcile: [Statement]
    let insertImport: Statement

    init(_ db: Database) throws(SQLiteError) {
        let m = Rows.messageColumns
        insertMessage = try db.prepare(Rows.insert("messages", m) + " ON CONFLICT (wamid) DO NOTHING")
        selectMessage = try db.prepare("SELECT \(m.joined(separator: ", ")) FROM messages WHERE wamid = ?")
        updateMessage = try db.prepare(
            "UPDATE messages SET "
                + m.enumerated().dropFirst().map { "\($0.element) = ?\($0.offset + 1)" }.joined(separator: ", ")
                + " WHERE wamid = ?1")
        let v = Rows.versionColumns
        selectVersions = try db.prepare(
            "SELECT \(v.joined(separator: ", ")) FROM message_versions WHERE wamid = ? ORDER BY version")
        deleteVersions = try db.prepare("DELETE FROM message_versions WHERE wamid = ?")
        insertVersion = try db.prepare(Rows.insert("message_versions", v, or: "REPLACE"))
        let p = Rows.pendingColumns
        selectPending = try db.prepare(
            "SELECT \(p.joined(separator: ", ")) FROM pending_changes WHERE original_message_id = ? ORDER BY kind, wamid")
        deletePending = try db.prepare("DELETE FROM pending_changes WHERE kind = ? AND wamid = ?")
        upsertPending = try db.prepare(
            Rows.insert("pending_changes", p) + " ON CONFLICT (kind, wamid) DO UPDATE SET "
                + p.dropFirst(2).filter { $0 != "source" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
                + Self.earlierWins("pending_changes"))
        let st = Rows.statusColumns
        upsertStatus = try db.prepare(
            Rows.insert("statuses", st) + " ON CONFLICT (wamid, status) DO UPDATE SET "
                + st.dropFirst(2).filter { $0 != "source" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
                + Self.earlierWins("statuses"))
        selectStatuses = try db.prepare("SELECT status, timestamp FROM statuses WHERE wamid = ?")
        let c = Rows.contactColumns
        selectContact = try db.prepare(
            "SELECT \(c.joined(separator: ", ")) FROM contacts WHERE phone_number_id = ? AND contact_key = ?")
        selectContactsByKey = try db.prepare(
            "SELECT \(c.joined(separator: ", ")) FROM contacts WHERE contact_key = ? ORDER BY phone_number_id")
        deleteContact = try db.prepare("DELETE FROM contacts WHERE phone_number_id = ? AND contact_key = ?")
        upsertContact = try db.prepare(Rows.insert("contacts", c, or: "REPLACE"))
        upsertPair = try db.prepare(
            "INSERT INTO user_ids (wa_id, user_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT (wa_id, user_id) DO UPDATE SET first_seen_at = excluded.first_seen_at, "
                + "last_seen_at = excluded.last_seen_at")
        upsertChange = try db.prepare(
            "INSERT INTO user_id_changes (previous_user_id, user_id, wa_id, changed_at, wamid) VALUES (?, ?, ?, ?, ?) "
                + "ON CONFLICT (previous_user_id, user_id) DO UPDATE SET wa_id = excluded.wa_id, "
                + "changed_at = excluded.changed_at, wamid = excluded.wamid")
        upsertPhone = try db.prepare(
            "INSERT INTO phone_numbers (phone_number_id, display_phone_number) VALUES (?, ?) "
                + "ON CONFLICT (phone_number_id) DO UPDATE SET display_phone_number = excluded.display_phone_number "
                + "WHERE excluded.display_phone_number IS NOT NULL AND (display_phone_number IS NULL "
                + "OR excluded.display_phone_number > display_phone_number)")
        insertAccountEvent = try db.prepare(Rows.insert("account_events", Rows.accountEventColumns, or: "IGNORE"))
        insertHistoryChunk = try db.prepare(Rows.insert("history_chunks", Rows.historyChunkColumns, or: "IGNORE"))
        insertSyncError = try db.prepare(Rows.insert("sync_errors", Rows.syncErrorColumns, or: "IGNORE"))
        insertError = try db.prepare(Rows.insert("errors", Rows.errorColumns, or: "IGNORE"))
        // ?1, ?2: the identity now; ?3: the chat key the stored rows show (the chat index).
        var reconcile: [Statement] = []
        for table in ["messages", "statuses", "pending_changes"] {
            reconcile.append(try db.prepare(
                "UPDATE \(table) SET contact_wa_id = ?1, contact_user_id = ?2 "
                    + "WHERE coalesce(contact_wa_id, contact_user_id) = ?3 "
                    + "AND (contact_wa_id IS NOT ?1 OR contact_user_id IS NOT ?2)"))
        }
        self.reconcile = reconcile
        insertImport = try db.prepare(
            "INSERT INTO imports (time, inputs, schema_version, records_in, loaded, rejected, skipped, counts) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    }

    /// The stored row keeps its content unless the new one is earlier (no time: latest).
    static func earlierWins(_ table: String) -> String {
        " WHERE coalesce(excluded.timestamp, 9223372036854775807) < coalesce(\(table).timestamp, 9223372036854775807)"
    }
}

// The SQL of what `finish` settles over the whole business.
extension BusinessLoad {
    /// The status order of the domain rules, as SQL: latest time first, then the rank.
    public static let statusRankSQL = StatusRule.rankSQL("s")

    /// Sets the status of the messages listed in temp.load_touched from their statuses.
    static let statusUpdate = """
        UPDATE messages SET status = b.best FROM (
            SELECT t.wamid AS wamid, coalesce((
                SELECT s.status FROM statuses s WHERE s.wamid = t.wamid
                ORDER BY s.timestamp DESC, \(statusRankSQL) DESC, s.status DESC LIMIT 1
            ), m.history_status) AS best
            FROM temp.load_touched t JOIN messages m ON m.wamid = t.wamid
        ) AS b
        WHERE messages.wamid = b.wamid AND messages.status IS NOT b.best
        """

    /// Chat order as coex-order's OrderKey: time, then history before live, older phases
    /// first, chunk_order, thread and message index, then arrival (wamid only to be total);
    /// arrival becomes a dense rank of first sightings.
    static let orderUpdate = """
        UPDATE messages SET arrival = r.a, seq = r.s FROM (
            SELECT rowid AS id,
                row_number() OVER (ORDER BY arrival, wamid) AS a,
                row_number() OVER (ORDER BY
                    max(0, coalesce(timestamp, 0)),
                    CASE WHEN origin = 'history' AND phase IS NOT NULL THEN 0 ELSE 1 END,
                    max(0, coalesce(phase, 0)) DESC,
                    max(0, coalesce(chunk_order, 0)),
                    max(0, coalesce(thread_index, 0)),
                    max(0, coalesce(message_index, 0)),
                    arrival, wamid) AS s
            FROM messages
        ) AS r
        WHERE messages.rowid = r.id AND (messages.arrival IS NOT r.a OR messages.seq IS NOT r.s)
        """
}

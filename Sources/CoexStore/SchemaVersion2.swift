// Schema version 2 (docs/schema.md, "Views" and "Full-text search"): what a compliance officer
// and a data team browse and search, with no change to the tables of version 1, so a version 1
// database upgrades in place inside the next load's transaction.
extension StoreSchema {
    /// The chat lookups and the search index. The index is filled from the rows already there
    /// and then kept by triggers, so a version 1 database (migrated with rows) and a new one
    /// (whose "indexes" run after its rows) end with the same entries. Every statement runs
    /// again safely after `dropIndexes`, which drops the triggers too.
    static let version2Indexes = """
        CREATE INDEX IF NOT EXISTS messages_contact_wa_id ON messages (contact_wa_id);
        CREATE INDEX IF NOT EXISTS messages_contact_user_id ON messages (contact_user_id);
        DELETE FROM message_search;
        INSERT INTO message_search (rowid, body, wamid, version)
            SELECT rowid * \(searchStride), body, wamid, NULL FROM messages WHERE body IS NOT NULL ORDER BY rowid;
        INSERT INTO message_search (rowid, body, wamid, version)
            SELECT m.rowid * \(searchStride) + 1 + v.version, v.body, v.wamid, v.version
            FROM message_versions v JOIN messages m ON m.wamid = v.wamid
            WHERE v.body IS NOT NULL AND v.version BETWEEN 0 AND \(searchStride - 2) ORDER BY 1;
        \(searchTriggers)
        """

    /// A search entry's rowid is its message's rowid times this, plus 0 for the current body or
    /// 1 + version for a version: a trigger finds the entry of a row without a scan, and a
    /// message's entries are one rowid range. (Messages are never deleted by a load, so their
    /// rowids are stable; a message with more than 65,534 versions is not searched past that.)
    static let searchStride = 65_536

    // A trigger fires only when a body really changes: a load that rewrites nothing (a re-run)
    // leaves the search index byte for byte as it was. INSERT OR REPLACE because SQLite's REPLACE
    // of a version row deletes without firing the delete trigger.
    static let searchTriggers = """
        CREATE TRIGGER IF NOT EXISTS message_search_insert AFTER INSERT ON messages
        WHEN new.body IS NOT NULL BEGIN
            INSERT OR REPLACE INTO message_search (rowid, body, wamid, version)
                VALUES (new.rowid * \(searchStride), new.body, new.wamid, NULL);
        END;
        CREATE TRIGGER IF NOT EXISTS message_search_update AFTER UPDATE OF body ON messages
        WHEN old.body IS NOT new.body BEGIN
            DELETE FROM message_search WHERE rowid = old.rowid * \(searchStride);
            INSERT INTO message_search (rowid, body, wamid, version)
                SELECT new.rowid * \(searchStride), new.body, new.wamid, NULL WHERE new.body IS NOT NULL;
        END;
        CREATE TRIGGER IF NOT EXISTS message_search_delete AFTER DELETE ON messages BEGIN
            DELETE FROM message_search
            WHERE rowid >= old.rowid * \(searchStride) AND rowid < (old.rowid + 1) * \(searchStride);
        END;
        CREATE TRIGGER IF NOT EXISTS message_search_version_insert AFTER INSERT ON message_versions
        WHEN new.body IS NOT NULL AND new.version BETWEEN 0 AND \(searchStride - 2) BEGIN
            INSERT OR REPLACE INTO message_search (rowid, body, wamid, version)
                SELECT m.rowid * \(searchStride) + 1 + new.version, new.body, new.wamid, new.version
                FROM messages m WHERE m.wamid = new.wamid;
        END;
        CREATE TRIGGER IF NOT EXISTS message_search_version_update AFTER UPDATE OF body ON message_versions
        WHEN old.body IS NOT new.body BEGIN
            DELETE FROM message_search WHERE rowid =
                (SELECT m.rowid * \(searchStride) + 1 + old.version FROM messages m WHERE m.wamid = old.wamid);
            INSERT INTO message_search (rowid, body, wamid, version)
                SELECT m.rowid * \(searchStride) + 1 + new.version, new.body, new.wamid, new.version
                FROM messages m WHERE m.wamid = new.wamid AND new.body IS NOT NULL
                    AND new.version BETWEEN 0 AND \(searchStride - 2);
        END;
        CREATE TRIGGER IF NOT EXISTS message_search_version_delete AFTER DELETE ON message_versions BEGIN
            DELETE FROM message_search WHERE rowid =
                (SELECT m.rowid * \(searchStride) + 1 + old.version FROM messages m WHERE m.wamid = old.wamid);
        END;
        """

    static let version2 = """
        CREATE VIRTUAL TABLE message_search USING fts5 (
            body, wamid UNINDEXED, version UNINDEXED,
            tokenize = 'unicode61 remove_diacritics 2'
        );

        CREATE VIEW api_messages AS \(APIMessagesSQL.select);

        CREATE VIEW transcript AS
        SELECT m.wamid, m.phone_number_id, coalesce(m.contact_wa_id, m.contact_user_id) AS chat,
            m.contact_wa_id, m.contact_user_id, m.group_id,
            c.full_name AS contact_name, c.profile_name, m.username,
            \(iso("m.timestamp")) AS time, m.timestamp, m.seq,
            m.direction, m.origin, m.type, m.body, m.reply_to, m.status,
            m.edit_count, m.edit_count > 0 AS edited, m.revoked, \(iso("m.revoked_at")) AS revoked_time,
            m.history_status
        FROM messages m
        LEFT JOIN contacts c
            ON c.phone_number_id = m.phone_number_id AND c.contact_key = coalesce(m.contact_wa_id, m.contact_user_id)
        UNION ALL
        SELECT a.wamid, a.phone_number_id, coalesce(a.contact_wa_id, a.contact_user_id),
            a.contact_wa_id, a.contact_user_id, a.group_id,
            c.full_name, c.profile_name, NULL,
            \(iso("a.timestamp")), a.timestamp, NULL,
            a.direction, a.origin, NULL, NULL, NULL, a.status,
            0, 0, 0, NULL, NULL
        FROM api_messages a
        LEFT JOIN contacts c
            ON c.phone_number_id = a.phone_number_id AND c.contact_key = coalesce(a.contact_wa_id, a.contact_user_id);

        CREATE VIEW chats AS \(ChatWindowsSQL.chats);
        """

    /// `2026-01-15T14:02:00Z` for a Unix time (NULL stays NULL).
    public static func iso(_ expression: String) -> String {
        "strftime('%Y-%m-%dT%H:%M:%SZ', \(expression), 'unixepoch')"
    }
}

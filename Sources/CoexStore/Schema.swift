import CoexSQLite

/// The database schema, versioned with `PRAGMA user_version` (docs/schema.md describes
/// every table and column).
///
/// A database is brought to `version` by running, in order, every migration whose
/// version is above the database's own: migration N turns a version N-1 database into
/// a version N one. Migrations run inside the load's transaction, so a crash half way
/// leaves the old version. A database newer than `version` is refused untouched: an old
/// binary cannot know what a newer schema means.
public enum StoreSchema {
    public struct Migration: Sendable {
        public let version: Int32
        /// Tables (and anything a table needs to be written to).
        public let sql: String
        /// Secondary indexes: a new database gets them after its rows, which is cheaper than
        /// inserting every key at a random place of a growing B-tree. So a migration's `sql`
        /// must not rely on an earlier migration's indexes.
        public let indexes: String
    }

    /// In version order, without gaps, starting at 1.
    public static let migrations: [Migration] = [
        Migration(version: 1, sql: version1, indexes: version1Indexes),
        Migration(version: 2, sql: version2, indexes: version2Indexes),
    ]

    public static var version: Int32 { migrations.last!.version }

    /// What a database file holds, as far as this binary can tell.
    public enum State: Equatable, Sendable {
        /// No schema version and no table: a new file (or one a killed load of an older coex
        /// left before its first commit).
        case empty
        /// A schema this binary knows (1...`version`).
        case known(Int32)
        /// Written by a newer coex.
        case newer(Int32)
        /// Tables but no schema version: an SQLite file coex did not write.
        case foreign
    }

    /// The one schema check of every reader and writer of business databases (coex-load,
    /// coex-report, coex-export); each says in its own words what a state means for it. Reads
    /// only the header and the schema table. A file that is not SQLite fails here with
    /// `SQLITE_NOTADB`.
    public static func state(of db: Database) throws(SQLiteError) -> State {
        let found = try db.userVersion
        if found > version { return .newer(found) }
        if found > 0 { return .known(found) }
        // Version 0 (or below) is also what any SQLite file without coex's schema reports.
        let tables = try db.integer("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
        return tables > 0 ? .foreign : .empty
    }

    /// The database's schema version (0: empty), or an error when a load must not touch it
    /// (a newer schema, or an SQLite file coex did not write).
    @discardableResult
    public static func check(_ db: Database) throws(StoreError) -> Int32 {
        let state: State
        do { state = try Self.state(of: db) } catch { throw .sqlite(error) }
        switch state {
        case .empty: return 0
        case .known(let found): return found
        case .newer(let found): throw .newerSchema(path: db.path, found: found, supported: version)
        case .foreign: throw .foreignDatabase(path: db.path)
        }
    }

    /// Brings `db` to the current version. Call inside the load's transaction.
    /// Returns the version the database had before. With `deferringIndexes`, the migrations'
    /// secondary indexes are left for `createIndexes(_:above:)` once the rows are in.
    @discardableResult
    public static func migrate(_ db: Database, deferringIndexes: Bool = false) throws(StoreError) -> Int32 {
        let found = try check(db)
        for migration in migrations where migration.version > found {
            try db.run(migration.sql)
            if !deferringIndexes { try db.run(migration.indexes) }
            do { try db.setUserVersion(migration.version) } catch { throw .sqlite(error) }
        }
        return found
    }

    /// The secondary indexes of every migration above `version`.
    static func createIndexes(_ db: Database, above version: Int32) throws(StoreError) {
        for migration in migrations where migration.version > version {
            try db.run(migration.indexes)
        }
    }

    // Key choices (see docs/schema.md): wamid-keyed tables are written in wamid order
    // by coex-load, so their B-trees grow at one end; small tables keyed by text use
    // WITHOUT ROWID so that the key is the table. No column records when a run happened,
    // except in `imports`, so that re-running an import changes nothing else.
    /// The secondary indexes of version 1. The chat indexes hold every row of a user by chat
    /// key (wa_id, else user_id): identity reconciliation finds a user's stored rows through
    /// them.
    static let version1Indexes = """
        CREATE INDEX contacts_contact_key ON contacts (contact_key);
        CREATE INDEX pending_changes_original ON pending_changes (original_message_id);
        CREATE INDEX messages_chat ON messages (coalesce(contact_wa_id, contact_user_id));
        CREATE INDEX statuses_chat ON statuses (coalesce(contact_wa_id, contact_user_id));
        CREATE INDEX pending_changes_chat ON pending_changes (coalesce(contact_wa_id, contact_user_id));
        """

    /// Drops every secondary index and trigger (of a database at `version` whose tables hold no
    /// rows), for `createIndexes(_:above: 0)` to build them again after the rows.
    static func dropIndexes(_ db: Database) throws(StoreError) {
        var names: [(kind: String, name: String)] = []
        try db.statement(
            "SELECT type, name FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        ).rows { names.append(($0.text(at: 0), $0.text(at: 1))) }
        for (kind, name) in names { try db.run("DROP \(kind == "index" ? "INDEX" : "TRIGGER") \"\(name)\"") }
    }

    static let version1 = """
        CREATE TABLE messages (
            wamid TEXT NOT NULL UNIQUE,
            phone_number_id TEXT,
            contact_wa_id TEXT,
            contact_user_id TEXT,
            username TEXT,
            country_code TEXT,
            group_id TEXT,
            direction TEXT,
            origin TEXT,
            type TEXT,
            body TEXT,
            content TEXT,
            extra TEXT,
            reply_to TEXT,
            errors TEXT,
            timestamp INTEGER,
            seq INTEGER,
            status TEXT,
            history_status TEXT,
            edit_count INTEGER NOT NULL DEFAULT 0,
            revoked INTEGER NOT NULL DEFAULT 0,
            revoked_at INTEGER,
            phase INTEGER,
            chunk_order INTEGER,
            thread_index INTEGER,
            message_index INTEGER,
            history_asset INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            arrival INTEGER NOT NULL
        );

        CREATE TABLE message_versions (
            wamid TEXT NOT NULL,
            version INTEGER NOT NULL,
            edit_wamid TEXT,
            edited_at INTEGER,
            type TEXT,
            body TEXT,
            content TEXT,
            reply_to TEXT,
            direction TEXT,
            origin TEXT,
            source TEXT NOT NULL,
            PRIMARY KEY (wamid, version)
        ) WITHOUT ROWID;

        CREATE TABLE statuses (
            wamid TEXT NOT NULL,
            status TEXT NOT NULL,
            timestamp INTEGER,
            phone_number_id TEXT,
            recipient_id TEXT,
            recipient_user_id TEXT,
            contact_wa_id TEXT,
            contact_user_id TEXT,
            username TEXT,
            group_id TEXT,
            errors TEXT,
            extra TEXT,
            source TEXT NOT NULL,
            PRIMARY KEY (wamid, status)
        ) WITHOUT ROWID;

        CREATE TABLE contacts (
            phone_number_id TEXT NOT NULL,
            contact_key TEXT NOT NULL,
            wa_id TEXT,
            user_id TEXT,
            username TEXT,
            full_name TEXT,
            first_name TEXT,
            profile_name TEXT,
            removed INTEGER NOT NULL DEFAULT 0,
            list_action TEXT,
            list_updated_at INTEGER,
            names_updated_at INTEGER,
            profile_updated_at INTEGER,
            username_updated_at INTEGER,
            updated_at INTEGER,
            PRIMARY KEY (phone_number_id, contact_key)
        ) WITHOUT ROWID;

        CREATE TABLE pending_changes (
            kind TEXT NOT NULL,
            wamid TEXT NOT NULL,
            original_message_id TEXT NOT NULL,
            phone_number_id TEXT,
            contact_wa_id TEXT,
            contact_user_id TEXT,
            direction TEXT,
            origin TEXT,
            timestamp INTEGER,
            type TEXT,
            body TEXT,
            content TEXT,
            reply_to TEXT,
            extra TEXT,
            source TEXT NOT NULL,
            PRIMARY KEY (kind, wamid)
        ) WITHOUT ROWID;

        CREATE TABLE user_ids (
            wa_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            first_seen_at INTEGER,
            last_seen_at INTEGER,
            PRIMARY KEY (wa_id, user_id)
        ) WITHOUT ROWID;

        CREATE TABLE user_id_changes (
            previous_user_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            wa_id TEXT,
            changed_at INTEGER,
            wamid TEXT,
            PRIMARY KEY (previous_user_id, user_id)
        ) WITHOUT ROWID;

        CREATE TABLE phone_numbers (
            phone_number_id TEXT PRIMARY KEY NOT NULL,
            display_phone_number TEXT
        ) WITHOUT ROWID;

        CREATE TABLE account_events (
            fact_id TEXT PRIMARY KEY NOT NULL,
            event TEXT,
            time INTEGER,
            phone_number TEXT,
            reason TEXT,
            initiated_by TEXT,
            owner_business_id TEXT,
            entry_id TEXT,
            extra TEXT,
            source TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE history_chunks (
            fact_id TEXT PRIMARY KEY NOT NULL,
            phone_number_id TEXT,
            phase INTEGER,
            chunk_order INTEGER,
            progress INTEGER,
            threads INTEGER,
            messages INTEGER,
            time INTEGER,
            source TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE sync_errors (
            fact_id TEXT PRIMARY KEY NOT NULL,
            phone_number_id TEXT,
            code INTEGER,
            title TEXT,
            message TEXT,
            details TEXT,
            timestamp INTEGER,
            extra TEXT,
            source TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE errors (
            fact_id TEXT PRIMARY KEY NOT NULL,
            phone_number_id TEXT,
            wamid TEXT,
            code INTEGER,
            title TEXT,
            message TEXT,
            details TEXT,
            timestamp INTEGER,
            extra TEXT,
            source TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE imports (
            import_id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            inputs TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            records_in INTEGER NOT NULL,
            loaded INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            counts TEXT NOT NULL
        );
        """
}

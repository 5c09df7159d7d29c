import CoexJSON
import CoexKit
import CoexSQLite

/// One run's load into one business database. A database that exists is updated in one WAL
/// transaction; one that does not is built beside its path without journal and renamed into
/// place complete (DatabaseBuild). Either way a crash at any moment leaves the database as it
/// was before the run (or no database) or the complete result, and a re-run completes it.
///
/// Use: `init` (opens, migrates, records this run's identity facts), `add` every record of
/// the business in `LoadOrder` (records of one wamid must be adjacent), then `finish`.
/// Dropping the load without `finish` rolls everything back.
///
/// The database after any sequence of loads equals the database after loading all their
/// records at once (except `imports`): every merge is the one a single run of the stages
/// would do (MessageMerge for sightings of a wamid, EditApplier for edits and revokes;
/// LoadMessages.swift), and every other choice depends on the set of facts, not their
/// order. Identity (LoadIdentity.swift) is settled before any row is written; what depends
/// on the whole run is settled by `finish` (LoadFinish.swift).
public final class BusinessLoad {
    public let wabaID: String
    public let path: String
    public var counts: LoadCounts {
        var c = tally
        for kind in RecordKind.allCases {
            if recordsIn[kind.ordinal] > 0 { c.recordsIn[kind.rawValue, default: 0] += recordsIn[kind.ordinal] }
            if loaded[kind.ordinal] > 0 { c.loaded[kind.rawValue, default: 0] += loaded[kind.ordinal] }
        }
        return c
    }
    var tally = LoadCounts()
    /// Records in and loaded by kind (ordinal): counted here, not in string-keyed tables, for
    /// every record.
    var recordsIn = [Int](repeating: 0, count: RecordKind.allCases.count)
    var loaded = [Int](repeating: 0, count: RecordKind.allCases.count)
    /// The last phone number and display number seen: most records repeat them.
    private var lastPhone: (id: String, display: String?)?
    /// The schema version the database had before this load (0: it was created now).
    public private(set) var previousVersion: Int32 = 0

    /// The connection, its prepared statements and the run's transaction, released together
    /// when the load ends (so that the file is closed), whether it finished or failed.
    private var connection: LoadConnection?
    /// Facts and pending changes, written in key order; released with the connection.
    var held: HeldRows?
    struct HeldRows {
        var accountEvents, historyChunks, syncErrors, errors, pending: KeyOrderedRows
    }
    /// A database that did not exist: built beside `path` and renamed into place by `finish`.
    private var build: DatabaseBuild?
    var db: Database { connection!.db }
    var s: LoadStatements { connection!.statements }

    let inputs: [String]
    let time: Int64

    /// Identity before this run (what stored rows were written with) and after it.
    var startGraph = IdentityGraph()
    var graph = IdentityGraph()
    /// Identifiers that took part in a new or changed identity fact of this run.
    var touchedIdentifiers: [ChatIdentity] = []

    /// Stored arrival ordinals are below this; this run's new messages get base - 1 + their
    /// rank among the run's message arrivals.
    var arrivalBase: Int64 = 1
    let messageArrivals: [Int]
    /// True while the chat order written so far is already final: the database had no
    /// messages, and every message came new with coex-order's seq and a dense arrival rank.
    /// Then renumbering the business would change nothing and is skipped.
    var orderFinal = true
    var insertedSeqs: Set<Int64> = []
    var pendingOriginals: Set<String> = []
    var messageGroup: [Record] = []
    var changeGroup: [Record] = []
    struct ContactKey: Hashable, Comparable {
        var phone: String
        var key: String
        static func < (a: Self, b: Self) -> Bool { (a.phone, a.key) < (b.phone, b.key) }
    }
    var contacts: [ContactKey: ContactState] = [:]
    var touchedWamids: Set<String> = []
    /// Wamids this run stored statuses for, and whether any status was stored before.
    var statusWamids: Set<String> = []
    var statusesStoredAtStart = true
    /// Whether any row naming a user was stored before this run (else none can need reconciling).
    var rowsStoredAtStart = true
    /// The secondary indexes are built once the rows are in (`finish`).
    var indexesDeferred = false
    var phones: [String: String] = [:]
    var phonesWithoutDisplay: Set<String> = []
    private var lastStatus: (wamid: String, status: String)?
    var fed = 0
    private var scratch = JSONWriter(capacity: 1024)
    var binder = RowBinder()

    /// Opens (creating if needed) the database at `path` and starts the run's transaction.
    /// - Parameters:
    ///   - inputs: the input names of the run, recorded in `imports`.
    ///   - time: the run's time (Unix seconds), recorded in `imports` and nowhere else.
    ///   - identity: every identity fact of the run's records of this business
    ///     (`IdentityFacts.add` on each), so that rows are written with the final identity.
    ///   - messageArrivals: the `arrival` of every message record of the run for this
    ///     business, sorted and unique: new messages get dense arrival ranks from it.
    public init(
        path: String, wabaID: String, inputs: [String], time: Int64, identity: IdentityFacts,
        messageArrivals: [Int] = []
    ) throws(StoreError) {
        self.path = path
        self.messageArrivals = messageArrivals
        self.wabaID = wabaID
        self.inputs = inputs
        self.time = time
        build = try DatabaseBuild.claim(path)
        let db: Database
        do {
            // Journal mode is switched only once the schema version is known to be ours:
            // a refused database must stay byte for byte as it was.
            db = try Database(path: build?.buildPath ?? path, mode: .create, writeAheadLog: false)
        } catch {
            throw .sqlite(error)
        }
        let transaction: Database.Transaction
        if build != nil {
            do {
                // Nothing to roll back to: a build that fails is removed whole. So no journal, and
                // no fsync until the file is complete.
                try db.setJournalMode(.off)
                try db.execute("PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;" + Self.cachePragmas)
                transaction = try db.begin(.immediate)
            } catch {
                throw .sqlite(error)
            }
            previousVersion = try StoreSchema.migrate(db, deferringIndexes: true)
            indexesDeferred = true
            rowsStoredAtStart = false
            statusesStoredAtStart = false
        } else {
            try StoreSchema.check(db)
            do {
                try db.setJournalMode(.wal)
                try db.execute("PRAGMA synchronous = NORMAL;" + Self.cachePragmas)
                transaction = try db.begin(.immediate)
            } catch {
                throw .sqlite(error)
            }
            // From here on a throw releases the transaction, which rolls back.
            previousVersion = try StoreSchema.migrate(db)
        }
        let statements: LoadStatements
        do { statements = try LoadStatements(db) } catch { throw .sqlite(error) }
        connection = LoadConnection(db: db, statements: statements, transaction: transaction)
        held = HeldRows(
            accountEvents: KeyOrderedRows(statements.insertAccountEvent),
            historyChunks: KeyOrderedRows(statements.insertHistoryChunk),
            syncErrors: KeyOrderedRows(statements.insertSyncError), errors: KeyOrderedRows(statements.insertError),
            pending: KeyOrderedRows(statements.upsertPending))
        try loadIdentity(identity)
        guard build == nil else { return }
        arrivalBase = try db.count("SELECT coalesce(max(arrival), 0) + 1 FROM messages")
        orderFinal = arrivalBase == 1
        statusesStoredAtStart = try db.count("SELECT EXISTS (SELECT 1 FROM statuses)") == 1
        rowsStoredAtStart = try db.count("""
            SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM statuses)
                OR EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM pending_changes)
            """) == 1
        if !rowsStoredAtStart {
            // Nothing to reconcile: the secondary indexes are built once at the end, as for a
            // new database.
            try StoreSchema.dropIndexes(db)
            indexesDeferred = true
        }
        try db.statement("SELECT DISTINCT original_message_id FROM pending_changes").rows {
            pendingOriginals.insert($0.text(at: 0))
        }
    }

    /// A bigger page cache than SQLite's 2 MiB default keeps the B-trees' upper pages and the
    /// run's dirty pages in memory. Temporary tables and index sorts go to files: for a large
    /// business (the chat order renumbering, the indexes of a new database) they are
    /// hundreds of MB, past any --memory.
    static let cachePragmas = " PRAGMA cache_size = -32768; PRAGMA temp_store = FILE;"

    deinit {
        // The connection first: the building file goes once nothing has it open.
        try? end(commit: false)
        build?.discard()
    }

    /// Ends the load: with `commit`, commits the run's transaction (and a new database is
    /// switched to WAL, the journal mode readers and later runs expect); else rolls it back.
    /// The connection is closed either way, when this returns.
    func end(commit: Bool) throws(StoreError) {
        guard let connection else { return }
        self.connection = nil
        held = nil
        guard commit else {
            // A build without journal cannot roll back, but its file is removed anyway.
            connection.transaction.rollback()
            return
        }
        do {
            try connection.transaction.commit()
            if build != nil { try connection.db.setJournalMode(.wal) }
        } catch {
            throw .sqlite(error)
        }
    }

    /// Loads several records in memory: sorts them into `LoadOrder`, collects their
    /// identity facts, and runs a whole load. For tests and small inputs.
    public static func load(
        _ records: [Record], path: String, wabaID: String, inputs: [String], time: Int64
    ) throws(StoreError) -> LoadCounts {
        var facts = IdentityFacts()
        var arrivals: Set<Int> = []
        for r in records where r.wabaID == wabaID {
            facts.add(r)
            if r.kind == .message, let a = r.arrival { arrivals.insert(a) }
        }
        let load = try BusinessLoad(path: path, wabaID: wabaID, inputs: inputs, time: time, identity: facts,
                                    messageArrivals: arrivals.sorted())
        for r in LoadOrder.sorted(records) where r.wabaID == wabaID { try load.add(r) }
        return try load.finish()
    }

    /// Counts records of this business that the caller rejected before loading.
    public func noteRejected(kind: String, count: Int = 1) {
        tally.reject(kind, count: count)
    }

    /// Takes one record (in `LoadOrder`). Returns why it was rejected, or nil when it was
    /// loaded or skipped.
    @discardableResult
    public func add(_ r: Record) throws(StoreError) -> String? {
        guard connection != nil else { throw .loadEnded(path: path) }
        fed += 1
        let kind = r.kind.rawValue
        recordsIn[r.kind.ordinal] += 1
        if let problem = LoadCheck.problem(with: r) ?? (r.wabaID == wabaID ? nil : "record of business \(r.wabaID)") {
            tally.rejected[kind, default: 0] += 1
            return problem
        }
        if let reason = LoadCheck.skipReason(r) {
            tally.skipped[reason, default: 0] += 1
            return nil
        }
        loaded[r.kind.ordinal] += 1
        if let phone = nonEmpty(r.phoneNumberID), lastPhone.map({ $0.id != phone || $0.display != r.displayPhoneNumber }) ?? true {
            lastPhone = (phone, r.displayPhoneNumber)
            if let display = nonEmpty(r.displayPhoneNumber) {
                phones[phone] = maxOptional(phones[phone], display)
            } else {
                phonesWithoutDisplay.insert(phone)
            }
        }
        if r.kind == .message || r.kind == .messageVersion {
            if let first = messageGroup.first, first.wamid != r.wamid { try flushMessages() }
            messageGroup.append(r)
            return nil
        }
        try flushMessages()
        if r.kind == .edit || r.kind == .revoke {
            if let first = changeGroup.first, first.originalMessageID != r.originalMessageID { try flushChanges() }
            changeGroup.append(r)
            return nil
        }
        try flushChanges()
        switch r.kind {
        case .status:
            try loadStatus(r)
        case .contact:
            addContact(r)
        case .userIDChange:
            // Its pair and change went into user_ids / user_id_changes with the run's identity facts.
            break
        case .accountEvent:
            let id = Rows.factID(r, scratch: &scratch)
            try hold(\.accountEvents, key: id, Rows.accountEventValues(r, id: id))
        case .historyChunk:
            let id = Rows.factID(r, scratch: &scratch)
            try hold(\.historyChunks, key: id, Rows.historyChunkValues(r, id: id))
        case .syncError:
            let id = Rows.factID(r, scratch: &scratch)
            try hold(\.syncErrors, key: id, Rows.syncErrorValues(r, id: id))
        case .error:
            let id = Rows.factID(r, scratch: &scratch)
            try hold(\.errors, key: id, Rows.errorValues(r, id: id))
        case .message, .messageVersion, .edit, .revoke:
            break
        }
        return nil
    }

    /// Settles what depends on the whole run (identity, contacts, statuses, chat order),
    /// records the run in `imports` and commits.
    public func finish() throws(StoreError) -> LoadCounts {
        guard connection != nil else { throw .loadEnded(path: path) }
        do {
            try settle()
            try end(commit: true)
            try build?.publish()
        } catch {
            try? end(commit: false)
            build?.discard()
            throw error
        }
        build = nil
        return counts
    }

    // MARK: Rows held for key order

    func hold(_ table: WritableKeyPath<HeldRows, KeyOrderedRows>, key: String, _ values: [SQLiteValue]) throws(StoreError) {
        if held![keyPath: table].add(key: key, values) { try writeHeld(table) }
    }

    func writeHeld(_ table: WritableKeyPath<HeldRows, KeyOrderedRows>) throws(StoreError) {
        // A pending change counts as stored when its row was written or took its content.
        let countsPending = table == \HeldRows.pending
        try held![keyPath: table].write { changed in
            if countsPending && changed > 0 { tally.pendingStored += 1 }
        }
    }

    func writeAllHeld() throws(StoreError) {
        for table in [\HeldRows.accountEvents, \.historyChunks, \.syncErrors, \.errors, \.pending] {
            try writeHeld(table)
        }
    }

    // MARK: Statuses and contacts

    private func loadStatus(_ r: Record) throws(StoreError) {
        let wamid = r.wamid!
        let status = r.status!
        // LoadOrder puts the earliest of a (wamid, status) first: the rest of this run lose to it.
        if let last = lastStatus, last.wamid == wamid, last.status == status { return }
        lastStatus = (wamid, status)
        statusWamids.insert(wamid)
        var r = r
        resolve(&r)
        do throws(SQLiteError) {
            try binder.bindStatus(r, to: s.upsertStatus)
            try s.upsertStatus.execute()
        } catch {
            throw .sqlite(error)
        }
        if db.changes > 0 {
            tally.statusesWritten += 1
            touchedWamids.insert(wamid)
        }
    }

    private func addContact(_ r: Record) {
        let identity = graph.resolve(waID: r.contactWaID, userID: r.contactUserID)
        guard let phone = nonEmpty(r.phoneNumberID), let key = identity.key else { return }
        let k = ContactKey(phone: phone, key: key)
        var state = contacts[k] ?? ContactState(phoneNumberID: phone, identity: identity)
        state.add(r)
        contacts[k] = state
    }
}

/// What a load holds open on its database. Statements retain their database, so releasing
/// this (after the transaction ended) is what closes the file.
final class LoadConnection {
    let db: Database
    let statements: LoadStatements
    let transaction: Database.Transaction

    init(db: Database, statements: LoadStatements, transaction: Database.Transaction) {
        self.db = db
        self.statements = statements
        self.transaction = transaction
    }
}

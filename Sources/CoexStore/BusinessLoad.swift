import CoexJSON
import CoexKit
import CoexSQLite

/// One run's load into one business database: everything happens inside one
/// `BEGIN IMMEDIATE` … `COMMIT`, so a crash at any moment leaves the database as it was
/// before the run or as the complete result (and a re-run completes it).
///
/// Use: `init` (opens, migrates, records this run's identity facts), `add` every record of
/// the business in `LoadOrder` (records of one wamid must be adjacent), then `finish`.
/// Dropping the load without `finish` rolls everything back.
///
/// The database after any sequence of loads equals the database after loading all their
/// records at once (except `imports`): every merge below is the one a single run of the
/// stages would do (MessageMerge for sightings of a wamid, EditApplier for edits and
/// revokes), and every other choice depends on the set of facts, not their order.
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
    private var tally = LoadCounts()
    /// Records in and loaded by kind (ordinal): counted here, not in string-keyed tables, for
    /// every record.
    private var recordsIn = [Int](repeating: 0, count: RecordKind.allCases.count)
    private var loaded = [Int](repeating: 0, count: RecordKind.allCases.count)
    /// The last phone number and display number seen: most records repeat them.
    private var lastPhone: (id: String, display: String?)?
    /// The schema version the database had before this load (0: it was created now).
    public private(set) var previousVersion: Int32 = 0

    private let db: Database
    private let inputs: [String]
    private let time: Int64
    private var open = false

    /// Identity before this run (what stored rows were written with) and after it.
    private var startGraph = IdentityGraph()
    private var graph = IdentityGraph()
    /// Identifiers that took part in a new or changed identity fact of this run.
    private var touchedIdentifiers: [ChatIdentity] = []

    /// Stored arrival ordinals are below this; this run's new messages get base - 1 + their
    /// rank among the run's message arrivals.
    private var arrivalBase: Int64 = 1
    private let messageArrivals: [Int]
    /// True while the chat order written so far is already final: the database had no
    /// messages, and every message came new with coex-order's seq and a dense arrival rank.
    /// Then renumbering the business would change nothing and is skipped.
    private var orderFinal = true
    private var insertedSeqs: Set<Int64> = []
    private var pendingOriginals: Set<String> = []
    private var messageGroup: [Record] = []
    private var changeGroup: [Record] = []
    private struct ContactKey: Hashable, Comparable {
        var phone: String
        var key: String
        static func < (a: Self, b: Self) -> Bool { (a.phone, a.key) < (b.phone, b.key) }
    }
    private var contacts: [ContactKey: ContactState] = [:]
    private var touchedWamids: Set<String> = []
    /// Wamids this run stored statuses for, and whether any status was stored before.
    private var statusWamids: Set<String> = []
    private var statusesStoredAtStart = true
    /// Whether any row naming a user was stored before this run (else none can need reconciling).
    private var rowsStoredAtStart = true
    private var phones: [String: String] = [:]
    private var phonesWithoutDisplay: Set<String> = []
    private var lastStatus: (wamid: String, status: String)?
    private var fed = 0
    private var scratch = JSONWriter(capacity: 1024)

    private var s: Statements!

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
        // Journal mode is switched only once the schema version is known to be ours:
        // a refused database must stay byte for byte as it was.
        db = try sql { try Database(path: path, mode: .create, writeAheadLog: false) }
        try StoreSchema.check(db)
        try sql { try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;") }
        try sql { try db.execute("BEGIN IMMEDIATE") }
        open = true
        do {
            previousVersion = try StoreSchema.migrate(db)
            s = try sql { try Statements(db) }
            try loadIdentity(identity)
            arrivalBase = try sql {
                let st = try db.prepare("SELECT coalesce(max(arrival), 0) + 1 FROM messages")
                return try st.step() ? st.int64(at: 0) : 1
            }
            orderFinal = arrivalBase == 1
            statusesStoredAtStart = try sql {
                let st = try db.prepare("SELECT EXISTS (SELECT 1 FROM statuses)")
                return try st.step() && st.int(at: 0) == 1
            }
            rowsStoredAtStart = try sql {
                let st = try db.prepare("""
                    SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM statuses)
                        OR EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM pending_changes)
                    """)
                return try st.step() && st.int(at: 0) == 1
            }
            if !rowsStoredAtStart && StoreSchema.version == 1 {
                // Nothing to reconcile: the chat indexes are built once at the end, which is
                // cheaper than inserting every row's key into them at random places.
                try sql { try db.execute(StoreSchema.dropChatIndexes) }
            }
            try sql {
                try db.prepare("SELECT DISTINCT original_message_id FROM pending_changes").forEachRow {
                    pendingOriginals.insert($0.text(at: 0))
                }
            }
        } catch {
            rollback()
            throw error
        }
    }

    deinit { rollback() }

    private func rollback() {
        guard open else { return }
        open = false
        try? db.execute("ROLLBACK")
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
            try insertFact(s.insertAccountEvent, Rows.accountEventValues(r, id: Rows.factID(r, scratch: &scratch)))
        case .historyChunk:
            try insertFact(s.insertHistoryChunk, Rows.historyChunkValues(r, id: Rows.factID(r, scratch: &scratch)))
        case .syncError:
            try insertFact(s.insertSyncError, Rows.syncErrorValues(r, id: Rows.factID(r, scratch: &scratch)))
        case .error:
            try insertFact(s.insertError, Rows.errorValues(r, id: Rows.factID(r, scratch: &scratch)))
        case .message, .messageVersion, .edit, .revoke:
            break
        }
        return nil
    }

    /// Settles what depends on the whole run (identity, contacts, statuses, chat order),
    /// records the run in `imports` and commits.
    public func finish() throws(StoreError) -> LoadCounts {
        do {
            try flushMessages()
            try flushChanges()
            try reconcileIdentity()
            try writeContacts()
            try writePhones()
            try updateStatuses()
            try updateChatOrder()
            if !rowsStoredAtStart && StoreSchema.version == 1 { try sql { try db.execute(StoreSchema.chatIndexes) } }
            try recordImport()
            try sql { try db.execute("COMMIT") }
            open = false
        } catch {
            rollback()
            throw error
        }
        return counts
    }

    // MARK: Identity

    private func loadIdentity(_ facts: IdentityFacts) throws(StoreError) {
        try sql {
            try db.prepare("SELECT wa_id, user_id, first_seen_at, last_seen_at FROM user_ids").forEachRow { row in
                startGraph.add(UserIDPair(waID: row.text(at: 0), userID: row.text(at: 1)),
                               SeenSpan(first: row.isNull(at: 2) ? nil : row.int64(at: 2),
                                        last: row.isNull(at: 3) ? nil : row.int64(at: 3)))
            }
            try db.prepare("SELECT previous_user_id, user_id, wa_id, changed_at, wamid FROM user_id_changes").forEachRow { row in
                startGraph.add(UserIDChange(previous: row.text(at: 0), current: row.text(at: 1)),
                               UserIDChangeSeen(changedAt: row.isNull(at: 3) ? nil : row.int64(at: 3),
                                                waID: row.isNull(at: 2) ? nil : row.text(at: 2),
                                                wamid: row.isNull(at: 4) ? nil : row.text(at: 4)))
            }
        }
        graph = startGraph.copy()
        // Sorted, so that user_ids grows in key order and the touched list is deterministic.
        for (pair, span) in facts.pairs.sorted(by: { ($0.key.waID, $0.key.userID) < ($1.key.waID, $1.key.userID) })
        where graph.add(pair, span) {
            let joined = graph.pairs[pair]!
            try sql { try s.upsertPair.execute([.text(pair.waID), .text(pair.userID), Rows.int(joined.first), Rows.int(joined.last)]) }
            touchedIdentifiers.append(ChatIdentity(waID: pair.waID, userID: nil))
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: pair.userID))
        }
        for (change, seen) in facts.changes.sorted(by: { ($0.key.previous, $0.key.current) < ($1.key.previous, $1.key.current) })
        where graph.add(change, seen) {
            let joined = graph.changes[change]!
            try sql {
                try s.upsertChange.execute([.text(change.previous), .text(change.current), Rows.text(joined.waID),
                                            Rows.int(joined.changedAt), Rows.text(joined.wamid)])
            }
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: change.previous))
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: change.current))
        }
    }

    /// The record with the chat's user as every row shows it (group records have none).
    private func resolved(_ r: Record) -> Record {
        var r = r
        resolve(&r)
        return r
    }

    private func resolve(_ r: inout Record) {
        guard r.groupID == nil, r.contactWaID != nil || r.contactUserID != nil else { return }
        let id = graph.resolve(waID: r.contactWaID, userID: r.contactUserID)
        if r.contactWaID != id.waID { r.contactWaID = id.waID }
        if r.contactUserID != id.userID { r.contactUserID = id.userID }
    }

    /// Rows stored before this run were written with the identity known then. Where this
    /// run's facts changed a user's identity (a BSUID-only chat whose phone is now known, a
    /// new BSUID), every stored row of that user takes the new one, and the user's contacts
    /// rows join into one.
    private func reconcileIdentity() throws(StoreError) {
        // Rows written by this run carry the final identity already.
        guard rowsStoredAtStart else { return }
        var seen: Set<ChatIdentity> = []
        for id in touchedIdentifiers {
            let before = startGraph.resolve(waID: id.waID, userID: id.userID)
            guard seen.insert(before).inserted else { continue }
            let after = graph.resolve(waID: before.waID, userID: before.userID)
            guard after != before else { continue }
            // Stored rows of one user all show `before`, so they share its chat key (and no
            // other user has that key).
            guard let oldKey = before.key else { continue }
            var changed = 0
            for statement in s.reconcile {
                try sql { try statement.execute([Rows.text(after.waID), Rows.text(after.userID), .text(oldKey)]) }
                changed += db.changes
            }
            changed += try moveContacts(from: before, to: after)
            if changed > 0 { tally.usersReconciled += 1 }
            tally.rowsReconciled += changed
        }
    }

    /// Takes the stored contacts rows of a user out of the table and joins them into this
    /// run's rows under the user's new identity (written by `writeContacts`).
    private func moveContacts(from before: ChatIdentity, to after: ChatIdentity) throws(StoreError) -> Int {
        guard let oldKey = before.key, let newKey = after.key else { return 0 }
        var rows: [[SQLiteValue]] = []
        try sql { try s.bindAndRows(s.selectContactsByKey, [.text(oldKey)]) { rows.append($0) } }
        for row in rows {
            var state = Rows.contact(row)
            try sql { try s.deleteContact.execute([.text(state.phoneNumberID), .text(oldKey)]) }
            let key = ContactKey(phone: state.phoneNumberID, key: newKey)
            state.identity = after
            if var existing = contacts[key] {
                existing.join(state)
                contacts[key] = existing
            } else {
                contacts[key] = state
            }
        }
        return rows.count
    }

    // MARK: Messages

    private func flushMessages() throws(StoreError) {
        guard !messageGroup.isEmpty else { return }
        let wamid = messageGroup[0].wamid!
        var m: Record
        var versions: [Record] = []
        if messageGroup.count == 1 && messageGroup[0].kind == .message {
            // The common case, without copying the record around.
            m = messageGroup.removeLast()
        } else {
            let group = messageGroup
            messageGroup.removeAll(keepingCapacity: true)
            versions = group.filter { $0.kind == .messageVersion }.sorted { ($0.version ?? 0) < ($1.version ?? 0) }
            var messages = group.filter { $0.kind == .message }
            guard !messages.isEmpty else {
                // Versions whose message is not in the input: they can only be edits of a stored one.
                try mergeMessage(wamid, incoming: nil, versions: versions, changes: [])
                return
            }
            m = messages.removeFirst()
            for other in messages { m = MessageMerge.merge(m, other) }
        }
        resolve(&m)
        if !pendingOriginals.contains(wamid) {
            // The common case: a message never stored, with no change waiting for it. Taken
            // as coex-apply wrote it (edits of the same run already applied).
            let status = try currentStatus(wamid, history: m.status)
            let values = Rows.messageValues(m, arrival: newArrival(m), seq: m.seq.map(Int64.init), status: status)
            try sql { try s.insertMessage.execute(values) }
            if db.changes > 0 {
                for v in versions { try sql { try s.insertVersion.execute(Rows.versionValues(v)) } }
                tally.messagesNew += 1
                touchedWamids.remove(wamid)
                if let seq = m.seq, insertedSeqs.insert(Int64(seq)).inserted {} else { orderFinal = false }
                return
            }
        }
        try mergeMessage(wamid, incoming: m, versions: versions, changes: [])
    }

    private struct Stored {
        var values: [SQLiteValue]
        var record: Record
        var arrival: Int64
        var seq: Int64?
    }

    /// The arrival ordinal of a new message: right after the stored ones, in the order
    /// of the run's first sightings.
    private func newArrival(_ m: Record) -> Int64 {
        if let a = m.arrival, let rank = Self.rank(of: a, in: messageArrivals) {
            return arrivalBase + Int64(rank)
        }
        // Not among the announced arrivals: after them, to be renumbered at the end.
        orderFinal = false
        return arrivalBase + Int64(messageArrivals.count + (m.arrival ?? 0)) + Int64(1 << 40) + Int64(fed)
    }

    /// 0-based index of `value` in the sorted `array`, or nil.
    static func rank(of value: Int, in array: [Int]) -> Int? {
        var (low, high) = (0, array.count)
        while low < high {
            let mid = (low + high) / 2
            if array[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < array.count && array[low] == value ? low : nil
    }

    /// The status a message shows: its latest status, else the one history gave it.
    private func currentStatus(_ wamid: String, history: String?) throws(StoreError) -> String? {
        // Most messages have no status: when none was stored before this run, only the
        // wamids this run gave statuses to need a look.
        if !statusesStoredAtStart && !statusWamids.contains(wamid) { return history }
        var best: (status: String, time: Int64?)?
        try sql {
            try s.selectStatuses.bind([.text(wamid)])
            try s.selectStatuses.forEachRow { row in
                let candidate = (status: row.text(at: 0), time: row.isNull(at: 1) ? nil : row.int64(at: 1))
                if best.map({ StatusRule.isLater(candidate, than: $0) }) ?? true { best = candidate }
            }
        }
        return best?.status ?? history
    }

    private func storedMessage(_ wamid: String) throws(StoreError) -> Stored? {
        var found: [SQLiteValue]?
        try sql { try s.bindAndRows(s.selectMessage, [.text(wamid)]) { found = $0 } }
        guard let values = found else { return nil }
        return Stored(values: values, record: Rows.message(values, wabaID: wabaID),
                      arrival: Rows.int64(values[Rows.messageArrivalIndex]) ?? 0,
                      seq: Rows.int64(values[Rows.messageSeqIndex]))
    }

    /// The message as it was before any edit: version 0 holds the original content.
    private static func original(_ m: Record, versions: [Record]) -> Record {
        var b = m
        if let v0 = versions.first(where: { $0.version == 0 }) {
            b.type = v0.type
            b.body = v0.body
            b.content = v0.content
            // Version 0 is the original as it arrived: no reply_to means it quoted nothing. The
            // message row carries the latest edit's reply_to, which the original never had.
            b.replyTo = v0.replyTo
        }
        b.editCount = nil
        b.revoked = false
        b.revokedAt = nil
        b.seq = nil
        return b
    }

    /// A stored version (1, 2, ...) as the edit it came from.
    private func edit(from v: Record, of wamid: String) -> Record {
        var e = Record(kind: .edit, wabaID: wabaID, provenance: v.provenance)
        e.wamid = v.editWamid
        e.originalMessageID = wamid
        e.timestamp = v.timestamp
        e.type = v.type
        e.body = v.body
        e.content = v.content
        e.replyTo = v.replyTo
        e.direction = v.direction
        e.origin = v.origin
        return e
    }

    private func revoke(at time: Int64?, of wamid: String, provenance: Provenance) -> Record {
        var r = Record(kind: .revoke, wabaID: wabaID, provenance: provenance)
        r.wamid = "revoke"
        r.originalMessageID = wamid
        r.timestamp = time
        return r
    }

    /// Merges a message with what is stored of it, and re-applies every edit and revoke
    /// known for it (stored versions, the input's, pending ones, `changes`), exactly as
    /// one run over all of its sightings and changes would.
    /// Returns whether anything was written.
    @discardableResult
    private func mergeMessage(
        _ wamid: String, incoming: Record?, versions: [Record], changes: [Record]
    ) throws(StoreError) -> Bool {
        let stored = try storedMessage(wamid)
        guard stored != nil || incoming != nil else {
            if changes.isEmpty {
                // Versions of a message neither in the input nor stored: nothing to attach them to.
                tally.loaded[RecordKind.messageVersion.rawValue, default: 0] -= versions.count
                tally.skipped["version of an unknown message", default: 0] += versions.count
            }
            for c in changes { try storePending(c) }
            return false
        }
        var storedVersions: [Record] = []
        var storedVersionValues: [[SQLiteValue]] = []
        if let stored, (stored.record.editCount ?? 0) > 0 {
            try sql {
                try s.bindAndRows(s.selectVersions, [.text(wamid)]) {
                    storedVersionValues.append($0)
                    storedVersions.append(Rows.version($0, wabaID: wabaID))
                }
            }
        }
        var pendingRows: [Record] = []
        if pendingOriginals.contains(wamid) {
            try sql { try s.bindAndRows(s.selectPending, [.text(wamid)]) { pendingRows.append(Rows.pending($0, wabaID: wabaID)) } }
        }

        var edits: [Record] = []
        var revokes: [Record] = []
        var base: Record
        if let stored {
            var old = Self.original(stored.record, versions: storedVersions)
            // Stored by an earlier run, it arrived before anything of this one; stored by
            // this run, its rank points back to its arrival.
            let rank = Int(stored.arrival - arrivalBase)
            old.arrival = rank < 0 ? -1 : (rank < messageArrivals.count ? messageArrivals[rank] : Int.max)
            edits += storedVersions.filter { ($0.version ?? 0) > 0 }.map { edit(from: $0, of: wamid) }
            if stored.record.revoked {
                revokes.append(revoke(at: stored.record.revokedAt, of: wamid, provenance: stored.record.provenance))
            }
            if let incoming {
                var new = Self.original(incoming, versions: versions)
                new.arrival = incoming.arrival ?? (1 << 40) + fed
                base = MessageMerge.merge(old, new)
            } else {
                base = old
            }
        } else {
            base = Self.original(incoming!, versions: versions)
        }
        if let incoming {
            edits += versions.filter { ($0.version ?? 0) > 0 }.map { edit(from: $0, of: wamid) }
            if incoming.revoked { revokes.append(revoke(at: incoming.revokedAt, of: wamid, provenance: incoming.provenance)) }
        } else if stored != nil {
            edits += versions.filter { ($0.version ?? 0) > 0 }.map { edit(from: $0, of: wamid) }
        }
        for c in pendingRows + changes {
            var c = c
            c.originalMessageID = wamid
            if c.kind == .edit { edits.append(c) } else { revokes.append(c) }
        }

        var applier = EditApplier()
        for c in edits + revokes { applier.hold(c) }
        var out: [Record] = []
        applier.apply(to: base, into: &out)
        let result = resolved(out[0])
        let newVersions = Array(out.dropFirst())

        let arrival = stored?.arrival ?? newArrival(incoming!)
        let status = try currentStatus(wamid, history: result.status)
        let values = Rows.messageValues(result, arrival: arrival, seq: stored?.seq ?? incoming?.seq.map(Int64.init),
                                        status: status)
        var changed = false
        if let stored {
            if values != stored.values {
                try sql { try s.updateMessage.execute(values) }
                tally.messagesUpdated += 1
                changed = true
            }
        } else {
            try sql { try s.insertMessage.execute(values) }
            tally.messagesNew += 1
            changed = true
        }
        // A message written here may move in the chat order: renumber at the end.
        if changed { orderFinal = false }
        let newVersionValues = newVersions.map(Rows.versionValues)
        if newVersionValues != storedVersionValues {
            try sql {
                try s.deleteVersions.execute([.text(wamid)])
                for v in newVersionValues { try s.insertVersion.execute(v) }
            }
            changed = true
        }
        for p in pendingRows {
            try sql { try s.deletePending.execute([.text(p.kind.rawValue), Rows.text(p.wamid)]) }
        }
        tally.pendingApplied += pendingRows.count
        pendingOriginals.remove(wamid)
        touchedWamids.remove(wamid)
        return changed || !pendingRows.isEmpty
    }

    // MARK: Edits and revokes

    private func flushChanges() throws(StoreError) {
        guard !changeGroup.isEmpty else { return }
        let group = changeGroup.map(resolved)
        changeGroup.removeAll(keepingCapacity: true)
        let original = group[0].originalMessageID!
        if try storedMessage(original) != nil {
            if try mergeMessage(original, incoming: nil, versions: [], changes: group) {
                tally.changesApplied += group.count
            }
        } else {
            for c in group { try storePending(c) }
        }
    }

    /// Keeps a change whose message has not arrived. One row per (kind, wamid): the
    /// earliest sighting's time and content win, the first sighting's source stays.
    private func storePending(_ c: Record) throws(StoreError) {
        var c = c
        c.pending = true
        try sql { try s.upsertPending.execute(Rows.pendingValues(c)) }
        if db.changes > 0 { tally.pendingStored += 1 }
        pendingOriginals.insert(c.originalMessageID!)
    }

    // MARK: Statuses, contacts, facts

    private func loadStatus(_ r: Record) throws(StoreError) {
        let wamid = r.wamid!
        let status = r.status!
        // LoadOrder puts the earliest of a (wamid, status) first: the rest of this run lose to it.
        if let last = lastStatus, last.wamid == wamid, last.status == status { return }
        lastStatus = (wamid, status)
        statusWamids.insert(wamid)
        var r = r
        resolve(&r)
        try sql { try s.upsertStatus.execute(Rows.statusValues(r)) }
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

    private func writeContacts() throws(StoreError) {
        for key in contacts.keys.sorted() {
            var state = contacts[key]!
            var stored: [SQLiteValue]?
            try sql { try s.bindAndRows(s.selectContact, [.text(key.phone), .text(key.key)]) { stored = $0 } }
            if let stored {
                let identity = state.identity
                var joined = Rows.contact(stored)
                joined.join(state)
                joined.identity = identity
                state = joined
            }
            let values = Rows.contactValues(state)
            if values != stored {
                try sql { try s.upsertContact.execute(values) }
                tally.contactsWritten += 1
            }
        }
    }

    private func writePhones() throws(StoreError) {
        for phone in phonesWithoutDisplay.union(phones.keys).sorted() {
            try sql { try s.upsertPhone.execute([.text(phone), Rows.text(phones[phone])]) }
        }
    }

    private func insertFact(_ statement: Statement, _ values: [SQLiteValue]) throws(StoreError) {
        try sql { try statement.execute(values) }
    }

    // MARK: What depends on everything stored

    /// A message's status is its latest status (ties: sent < delivered < read < played <
    /// failed), else the status history gave it. Messages written by this run got theirs
    /// then; these are stored messages that got new statuses.
    private func updateStatuses() throws(StoreError) {
        guard !touchedWamids.isEmpty else { return }
        try sql {
            try db.execute("CREATE TEMP TABLE IF NOT EXISTS load_touched (wamid TEXT PRIMARY KEY) WITHOUT ROWID")
            try db.execute("DELETE FROM temp.load_touched")
            let insert = try db.prepare("INSERT OR IGNORE INTO temp.load_touched (wamid) VALUES (?)")
            for wamid in touchedWamids.sorted() { try insert.execute([.text(wamid)]) }
            try db.execute(Self.statusUpdate)
            try db.execute("DELETE FROM temp.load_touched")
        }
    }

    /// The status order of the domain rules, as SQL: latest time first, then the rank.
    public static let statusRankSQL = """
        CASE s.status WHEN 'failed' THEN 5 WHEN 'played' THEN 4 WHEN 'read' THEN 3 \
        WHEN 'delivered' THEN 2 WHEN 'sent' THEN 1 ELSE 0 END
        """

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

    /// seq numbers the whole business again (coex-order numbers one run only), and arrival
    /// becomes a dense rank, so that both equal what loading everything at once gives.
    private func updateChatOrder() throws(StoreError) {
        // A first load of coex-order's output is numbered already: seq 1...n over the whole
        // input, and arrival ranks 1...n.
        if orderFinal, insertedSeqs.count == tally.messagesNew, messageArrivals.count == tally.messagesNew,
            insertedSeqs.min() ?? 1 == 1, insertedSeqs.max() ?? 0 == Int64(tally.messagesNew)
        {
            return
        }
        try sql {
            try db.execute(Self.orderUpdate)
            tally.seqUpdated = db.changes
        }
    }

    /// Chat order as coex-order's OrderKey: time, then history before live, older phases
    /// first, chunk_order, thread and message index, then arrival (wamid only to be total).
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

    private func recordImport() throws(StoreError) {
        var w = JSONWriter(capacity: 256)
        w.beginArray()
        for input in inputs { w.comma(); w.string(input) }
        w.endArray()
        try sql {
            try s.insertImport.execute([
                .integer(time), .text(String(decoding: w.bytes, as: UTF8.self)), .integer(Int64(StoreSchema.version)),
                .integer(Int64(counts.totalIn)), .integer(Int64(counts.totalLoaded)),
                .integer(Int64(counts.totalRejected)), .integer(Int64(counts.totalSkipped)), .text(counts.json),
            ])
        }
    }
}

/// The statements of one load, prepared once and reused for every row.
private final class Statements {
    let insertMessage, selectMessage, updateMessage: Statement
    let selectVersions, deleteVersions, insertVersion: Statement
    let selectPending, deletePending, upsertPending: Statement
    let upsertStatus, selectStatuses: Statement
    let selectContact, selectContactsByKey, deleteContact, upsertContact: Statement
    let upsertPair, upsertChange, upsertPhone: Statement
    let insertAccountEvent, insertHistoryChunk, insertSyncError, insertError: Statement
    let reconcile: [Statement]
    let insertImport: Statement

    init(_ db: Database) throws {
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
        reconcile = try ["messages", "statuses", "pending_changes"].map {
            try db.prepare(
                "UPDATE \($0) SET contact_wa_id = ?1, contact_user_id = ?2 "
                    + "WHERE coalesce(contact_wa_id, contact_user_id) = ?3 "
                    + "AND (contact_wa_id IS NOT ?1 OR contact_user_id IS NOT ?2)")
        }
        insertImport = try db.prepare(
            "INSERT INTO imports (time, inputs, schema_version, records_in, loaded, rejected, skipped, counts) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    }

    /// The stored row keeps its content unless the new one is earlier (no time: latest).
    static func earlierWins(_ table: String) -> String {
        " WHERE coalesce(excluded.timestamp, 9223372036854775807) < coalesce(\(table).timestamp, 9223372036854775807)"
    }

    func bindAndRows(_ statement: Statement, _ values: [SQLiteValue], _ body: ([SQLiteValue]) throws -> Void) throws {
        try statement.bind(values)
        try statement.forEachRow { try body(Rows.row($0)) }
    }
}

/// Which status a message shows (domain rules): the one with the latest time (a status
/// without a time is older than any with one); at equal times sent < delivered < read <
/// played < failed, then the name. Never the last to arrive. `BusinessLoad.statusRankSQL`
/// is the same rank in SQL.
public enum StatusRule {
    public static func rank(_ status: String) -> Int {
        switch status {
        case "failed": 5
        case "played": 4
        case "read": 3
        case "delivered": 2
        case "sent": 1
        default: 0
        }
    }

    public static func isLater(_ a: (status: String, time: Int64?), than b: (status: String, time: Int64?)) -> Bool {
        (a.time ?? Int64.min, rank(a.status), a.status) > (b.time ?? Int64.min, rank(b.status), b.status)
    }
}

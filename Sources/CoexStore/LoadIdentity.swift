import CoexKit
import CoexSQLite

// Identity during a load: every row of the run is written with the identity the whole run
// establishes (the run's pairs and BSUID changes are known before the first row), and rows
// stored by earlier runs follow when this run changes a user's identity.
extension BusinessLoad {
    /// Reads the stored identity facts and adds the run's, writing those that are new or
    /// widen a stored one.
    func loadIdentity(_ facts: IdentityFacts) throws(StoreError) {
        try db.statement("SELECT wa_id, user_id, first_seen_at, last_seen_at FROM user_ids").rows { row in
            startGraph.add(UserIDPair(waID: row.text(at: 0), userID: row.text(at: 1)),
                           SeenSpan(first: row.isNull(at: 2) ? nil : row.int64(at: 2),
                                    last: row.isNull(at: 3) ? nil : row.int64(at: 3)))
        }
        try db.statement("SELECT previous_user_id, user_id, wa_id, changed_at, wamid FROM user_id_changes").rows { row in
            startGraph.add(UserIDChange(previous: row.text(at: 0), current: row.text(at: 1)),
                           UserIDChangeSeen(changedAt: row.isNull(at: 3) ? nil : row.int64(at: 3),
                                            waID: row.isNull(at: 2) ? nil : row.text(at: 2),
                                            wamid: row.isNull(at: 4) ? nil : row.text(at: 4)))
        }
        graph = startGraph.copy()
        // Sorted, so that user_ids grows in key order and the touched list is deterministic.
        for (pair, span) in facts.pairs.sorted(by: { ($0.key.waID, $0.key.userID) < ($1.key.waID, $1.key.userID) })
        where graph.add(pair, span) {
            let joined = graph.pairs[pair]!
            try s.upsertPair.run([.text(pair.waID), .text(pair.userID), Rows.int(joined.first), Rows.int(joined.last)])
            touchedIdentifiers.append(ChatIdentity(waID: pair.waID, userID: nil))
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: pair.userID))
        }
        for (change, seen) in facts.changes.sorted(by: { ($0.key.previous, $0.key.current) < ($1.key.previous, $1.key.current) })
        where graph.add(change, seen) {
            let joined = graph.changes[change]!
            try s.upsertChange.run([.text(change.previous), .text(change.current), Rows.text(joined.waID),
                                    Rows.int(joined.changedAt), Rows.text(joined.wamid)])
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: change.previous))
            touchedIdentifiers.append(ChatIdentity(waID: nil, userID: change.current))
        }
    }

    /// The record with the chat's user as every row shows it (group records have none).
    func resolved(_ r: Record) -> Record {
        var r = r
        resolve(&r)
        return r
    }

    func resolve(_ r: inout Record) {
        guard r.groupID == nil, r.contactWaID != nil || r.contactUserID != nil else { return }
        let id = graph.resolve(waID: r.contactWaID, userID: r.contactUserID)
        if r.contactWaID != id.waID { r.contactWaID = id.waID }
        if r.contactUserID != id.userID { r.contactUserID = id.userID }
    }

    /// Rows stored before this run were written with the identity known then. Where this
    /// run's facts changed a user's identity (a BSUID-only chat whose phone is now known, a
    /// new BSUID), every stored row of that user takes the new one, and the user's contacts
    /// rows join into one.
    func reconcileIdentity() throws(StoreError) {
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
                try statement.run([Rows.text(after.waID), Rows.text(after.userID), .text(oldKey)])
                changed += db.changes
            }
            changed += try moveContacts(from: before, to: after)
            if changed > 0 { tally.usersReconciled += 1 }
            tally.rowsReconciled += changed
        }
    }

    /// Takes the stored contacts rows of a user out of the table and joins them into this
    /// run's rows under the user's new identity (written by `writeContacts`).
    func moveContacts(from before: ChatIdentity, to after: ChatIdentity) throws(StoreError) -> Int {
        guard let oldKey = before.key, let newKey = after.key else { return 0 }
        var rows: [[SQLiteValue]] = []
        try s.selectContactsByKey.rows([.text(oldKey)]) { rows.append(Rows.row($0)) }
        for row in rows {
            var state = Rows.contact(row)
            try s.deleteContact.run([.text(state.phoneNumberID), .text(oldKey)])
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

}

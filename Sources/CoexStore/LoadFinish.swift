import CoexJSON
import CoexSQLite

// The end of a load: what depends on every record of the run and on everything stored
// (identity of stored rows, contacts, statuses, chat order), then the run's row in `imports`.
extension BusinessLoad {
    /// Everything `finish` does before the commit, in order.
    func settle() throws(StoreError) {
        try flushMessages()
        try flushChanges()
        try writeAllHeld()
        try reconcileIdentity()
        try writeContacts()
        try writePhones()
        try updateStatuses()
        try updateChatOrder()
        if indexesDeferred { try StoreSchema.createIndexes(db, above: 0) }
        try recordImport()
    }

    func writeContacts() throws(StoreError) {
        for key in contacts.keys.sorted() {
            var state = contacts[key]!
            let stored = try s.selectContact.firstRow([.text(key.phone), .text(key.key)])
            if let stored {
                let identity = state.identity
                var joined = Rows.contact(stored)
                joined.join(state)
                joined.identity = identity
                state = joined
            }
            let values = Rows.contactValues(state)
            if values != stored {
                try s.upsertContact.run(values)
                tally.contactsWritten += 1
            }
        }
    }

    func writePhones() throws(StoreError) {
        for phone in phonesWithoutDisplay.union(phones.keys).sorted() {
            try s.upsertPhone.run([.text(phone), Rows.text(phones[phone])])
        }
    }

    /// A message's status is its latest status (ties: sent < delivered < read < played <
    /// failed), else the status history gave it. Messages written by this run got theirs
    /// then; these are stored messages that got new statuses.
    func updateStatuses() throws(StoreError) {
        guard !touchedWamids.isEmpty else { return }
        try db.run("CREATE TEMP TABLE IF NOT EXISTS load_touched (wamid TEXT PRIMARY KEY) WITHOUT ROWID")
        try db.run("DELETE FROM temp.load_touched")
        let insert = try db.statement("INSERT OR IGNORE INTO temp.load_touched (wamid) VALUES (?)")
        for wamid in touchedWamids.sorted() { try insert.run([.text(wamid)]) }
        try db.run(Self.statusUpdate)
        try db.run("DELETE FROM temp.load_touched")
    }

    /// seq numbers the whole business again (coex-order numbers one run only), and arrival
    /// becomes a dense rank, so that both equal what loading everything at once gives.
    func updateChatOrder() throws(StoreError) {
        // A first load of coex-order's output is numbered already: seq 1...n over the whole
        // input, and arrival ranks 1...n.
        if orderFinal, insertedSeqs.count == tally.messagesNew, messageArrivals.count == tally.messagesNew,
            insertedSeqs.min() ?? 1 == 1, insertedSeqs.max() ?? 0 == Int64(tally.messagesNew)
        {
            return
        }
        try db.run(Self.orderUpdate)
        tally.seqUpdated = db.changes
    }

    func recordImport() throws(StoreError) {
        var w = JSONWriter(capacity: 256)
        w.beginArray()
        for input in inputs { w.comma(); w.string(input) }
        w.endArray()
        try s.insertImport.run([
            .integer(time), .text(String(decoding: w.bytes, as: UTF8.self)), .integer(Int64(StoreSchema.version)),
            .integer(Int64(counts.totalIn)), .integer(Int64(counts.totalLoaded)),
            .integer(Int64(counts.totalRejected)), .integer(Int64(counts.totalSkipped)), .text(counts.json),
        ])
    }
}

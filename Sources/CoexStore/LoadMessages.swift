import CoexKit
import CoexSQLite

// Messages and their edits and revokes during a load. A message never stored and with no
// change waiting is inserted as coex-apply wrote it; any other is merged with what is stored
// of it and has every change known for it applied again, exactly as one run over all of its
// sightings and changes would.
extension BusinessLoad {
    func flushMessages() throws(StoreError) {
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
            let arrival = newArrival(m)
            do throws(SQLiteError) {
                try binder.bindMessage(m, arrival: arrival, seq: m.seq.map(Int64.init), status: status, to: s.insertMessage)
                try s.insertMessage.execute()
            } catch {
                throw .sqlite(error)
            }
            if db.changes > 0 {
                for v in versions { try s.insertVersion.run(Rows.versionValues(v)) }
                tally.messagesNew += 1
                touchedWamids.remove(wamid)
                if let seq = m.seq, insertedSeqs.insert(Int64(seq)).inserted {} else { orderFinal = false }
                return
            }
        }
        try mergeMessage(wamid, incoming: m, versions: versions, changes: [])
    }

    struct Stored {
        var values: [SQLiteValue]
        var record: Record
        var arrival: Int64
        var seq: Int64?
    }

    /// The arrival ordinal of a new message: right after the stored ones, in the order
    /// of the run's first sightings.
    func newArrival(_ m: Record) -> Int64 {
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
    func currentStatus(_ wamid: String, history: String?) throws(StoreError) -> String? {
        // Most messages have no status: when none was stored before this run, only the
        // wamids this run gave statuses to need a look.
        if !statusesStoredAtStart && !statusWamids.contains(wamid) { return history }
        var best: (status: String, time: Int64?)?
        try s.selectStatuses.rows([.text(wamid)]) { row in
            let candidate = (status: row.text(at: 0), time: row.isNull(at: 1) ? nil : row.int64(at: 1))
            if best.map({ StatusRule.isLater(candidate, than: $0) }) ?? true { best = candidate }
        }
        return best?.status ?? history
    }

    func storedMessage(_ wamid: String) throws(StoreError) -> Stored? {
        guard let values = try s.selectMessage.firstRow([.text(wamid)]) else { return nil }
        return Stored(values: values, record: Rows.message(values, wabaID: wabaID),
                      arrival: Rows.int64(values[Rows.messageArrivalIndex]) ?? 0,
                      seq: Rows.int64(values[Rows.messageSeqIndex]))
    }

    /// The message as it was before any edit: version 0 holds the original content.
    static func original(_ m: Record, versions: [Record]) -> Record {
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
    func edit(from v: Record, of wamid: String) -> Record {
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

    func revoke(at time: Int64?, of wamid: String, provenance: Provenance) -> Record {
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
    func mergeMessage(
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
            try s.selectVersions.rows([.text(wamid)]) { row in
                let values = Rows.row(row)
                storedVersionValues.append(values)
                storedVersions.append(Rows.version(values, wabaID: wabaID))
            }
        }
        var pendingRows: [Record] = []
        if pendingOriginals.contains(wamid) {
            // Changes this run holds back must be in the table before it is read.
            if !held!.pending.isEmpty { try writeHeld(\.pending) }
            try s.selectPending.rows([.text(wamid)]) { pendingRows.append(Rows.pending(Rows.row($0), wabaID: wabaID)) }
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
                try s.updateMessage.run(values)
                tally.messagesUpdated += 1
                changed = true
            }
        } else {
            try s.insertMessage.run(values)
            tally.messagesNew += 1
            changed = true
        }
        // A message written here may move in the chat order: renumber at the end.
        if changed { orderFinal = false }
        let newVersionValues = newVersions.map(Rows.versionValues)
        if newVersionValues != storedVersionValues {
            try s.deleteVersions.run([.text(wamid)])
            for v in newVersionValues { try s.insertVersion.run(v) }
            changed = true
        }
        for p in pendingRows {
            try s.deletePending.run([.text(p.kind.rawValue), Rows.text(p.wamid)])
        }
        tally.pendingApplied += pendingRows.count
        pendingOriginals.remove(wamid)
        touchedWamids.remove(wamid)
        return changed || !pendingRows.isEmpty
    }

    // MARK: Edits and revokes

    func flushChanges() throws(StoreError) {
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
    func storePending(_ c: Record) throws(StoreError) {
        var c = c
        c.pending = true
        try hold(\.pending, key: c.kind.rawValue + "\u{0}" + c.wamid!, Rows.pendingValues(c))
        pendingOriginals.insert(c.originalMessageID!)
    }
}

import CoexJSON
import CoexKit

/// What one load did to one business database (or, added up, to all of them).
/// Records in = loaded + rejected + skipped, per kind.
public struct LoadCounts: Sendable, Equatable {
    public var recordsIn: [String: Int] = [:]
    public var loaded: [String: Int] = [:]
    public var rejected: [String: Int] = [:]
    /// Valid records the database does not keep, by reason (e.g. "history report").
    public var skipped: [String: Int] = [:]

    public var messagesNew = 0
    public var messagesUpdated = 0
    /// Edits and revokes applied to a message stored by an earlier import, or held pending
    /// by one and applied now that their message arrived.
    public var changesApplied = 0
    public var pendingStored = 0
    public var pendingApplied = 0
    public var statusesWritten = 0
    public var contactsWritten = 0
    /// Users whose identity changed (a pair or a BSUID change arrived), and the stored rows updated for it.
    public var usersReconciled = 0
    public var rowsReconciled = 0
    public var seqUpdated = 0

    public init() {}

    public var totalIn: Int { recordsIn.values.reduce(0, +) }
    public var totalLoaded: Int { loaded.values.reduce(0, +) }
    public var totalRejected: Int { rejected.values.reduce(0, +) }
    public var totalSkipped: Int { skipped.values.reduce(0, +) }

    public mutating func add(_ o: LoadCounts) {
        for (k, v) in o.recordsIn { recordsIn[k, default: 0] += v }
        for (k, v) in o.loaded { loaded[k, default: 0] += v }
        for (k, v) in o.rejected { rejected[k, default: 0] += v }
        for (k, v) in o.skipped { skipped[k, default: 0] += v }
        messagesNew += o.messagesNew
        messagesUpdated += o.messagesUpdated
        changesApplied += o.changesApplied
        pendingStored += o.pendingStored
        pendingApplied += o.pendingApplied
        statusesWritten += o.statusesWritten
        contactsWritten += o.contactsWritten
        usersReconciled += o.usersReconciled
        rowsReconciled += o.rowsReconciled
        seqUpdated += o.seqUpdated
    }

    /// Records that came in and were rejected (by kind).
    public mutating func reject(_ kind: String, count: Int = 1) {
        recordsIn[kind, default: 0] += count
        rejected[kind, default: 0] += count
    }

    /// "120 records in (message 40, status 30): 118 loaded, 0 rejected, 2 skipped (history report 2)".
    public var summary: String {
        var text = "\(totalIn) records in"
        if !recordsIn.isEmpty { text += " (\(Self.tally(recordsIn)))" }
        text += ": \(totalLoaded) loaded, \(totalRejected) rejected, \(totalSkipped) skipped"
        if !skipped.isEmpty { text += " (\(Self.tally(skipped)))" }
        return text
    }

    /// "messages 40 new, 2 updated; 3 changes applied; ...", only what happened.
    public var effects: String {
        var parts = ["messages \(messagesNew) new, \(messagesUpdated) updated"]
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        if changesApplied > 0 { parts.append("\(count(changesApplied, "edit or revoke", "edits and revokes")) applied to stored messages") }
        if pendingApplied > 0 { parts.append("\(count(pendingApplied, "pending change", "pending changes")) applied") }
        if pendingStored > 0 { parts.append("\(count(pendingStored, "pending change", "pending changes")) stored") }
        parts.append("\(count(statusesWritten, "status", "statuses")) written")
        parts.append("\(count(contactsWritten, "contact", "contacts")) written")
        if usersReconciled > 0 {
            parts.append("\(count(usersReconciled, "user", "users")) reconciled (\(count(rowsReconciled, "row", "rows")))")
        }
        return parts.joined(separator: "; ")
    }

    /// The counts as a JSON object, for the `imports` table.
    public var json: String {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        for (name, counts) in [("records_in", recordsIn), ("loaded", loaded), ("rejected", rejected), ("skipped", skipped)] {
            w.key(name)
            w.beginObject()
            for (k, v) in counts.sorted(by: { $0.key < $1.key }) {
                w.key(k)
                w.int(v)
            }
            w.endObject()
        }
        w.member("messages_new", messagesNew)
        w.member("messages_updated", messagesUpdated)
        w.member("changes_applied", changesApplied)
        w.member("pending_stored", pendingStored)
        w.member("pending_applied", pendingApplied)
        w.member("statuses_written", statusesWritten)
        w.member("contacts_written", contactsWritten)
        w.member("users_reconciled", usersReconciled)
        w.member("rows_reconciled", rowsReconciled)
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    static func tally(_ counts: [String: Int]) -> String {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

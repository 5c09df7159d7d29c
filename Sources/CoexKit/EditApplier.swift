/// coex-apply's core: edits and revokes held by the message they change, applied
/// when that message passes.
///
/// - Edits apply in (edit timestamp, edit wamid) order, so the last edit wins
///   whatever the arrival order; every version is kept, the original first.
/// - A revoke marks the message revoked at the earliest revoke's time; its content
///   is kept unless redaction is asked for.
/// - Changes whose message never passes are pending: a later night can apply them.
public struct EditApplier {
    struct Key: Hashable {
        var waba: String
        var wamid: String
    }

    public var redactRevoked: Bool
    private var edits: [Key: [Record]] = [:]
    private var revokes: [Key: [Record]] = [:]
    public private(set) var appliedEdits = 0
    public private(set) var appliedRevokes = 0
    public private(set) var editedMessages = 0
    public private(set) var versionsOut = 0

    public init(redactRevoked: Bool = false) {
        self.redactRevoked = redactRevoked
    }

    public var heldCount: Int { edits.values.reduce(0) { $0 + $1.count } + revokes.values.reduce(0) { $0 + $1.count } }

    /// Takes an edit or revoke (anything else is ignored). Returns false when it has no original id.
    @discardableResult
    public mutating func hold(_ change: Record) -> Bool {
        guard let original = change.originalMessageID else { return false }
        let key = Key(waba: change.wabaID, wamid: original)
        switch change.kind {
        case .edit: edits[key, default: []].append(change)
        case .revoke: revokes[key, default: []].append(change)
        default: return false
        }
        return true
    }

    public func hasChanges(waba: String, wamid: String) -> Bool {
        let key = Key(waba: waba, wamid: wamid)
        return edits[key] != nil || revokes[key] != nil
    }

    /// The message with its changes applied, followed by its versions when edited.
    public mutating func apply(to message: Record, into out: inout [Record]) {
        guard message.kind == .message, let wamid = message.wamid else {
            out.append(message)
            return
        }
        let key = Key(waba: message.wabaID, wamid: wamid)
        var result = message
        var versions: [Record] = []
        if let changes = edits.removeValue(forKey: key) {
            let ordered = Self.distinct(changes).sorted(by: Self.editOrder)
            editedMessages += 1
            appliedEdits += ordered.count
            versions.append(Self.version(of: message, number: 0, edit: nil))
            for (i, edit) in ordered.enumerated() {
                versions.append(Self.version(of: message, number: i + 1, edit: edit))
            }
            // An edit without a new message object changes nothing visible.
            if let last = ordered.last(where: { $0.content != nil || $0.body != nil }) {
                result.type = last.type
                result.content = last.content
                result.body = last.body
                if let reply = last.replyTo { result.replyTo = reply }
            }
            result.editCount = ordered.count
        }
        if let changes = revokes.removeValue(forKey: key) {
            appliedRevokes += Self.distinct(changes).count
            result.revoked = true
            result.revokedAt = changes.compactMap(\.timestamp).min()
        }
        if result.revoked && redactRevoked {
            result.body = nil
            result.content = nil
            for i in versions.indices {
                versions[i].body = nil
                versions[i].content = nil
            }
        }
        out.append(result)
        versionsOut += versions.count
        out.append(contentsOf: versions)
    }

    /// Changes whose message never passed, marked pending, in a stable order.
    public mutating func pending() -> [Record] {
        var result: [Record] = []
        for list in [edits, revokes] {
            for (_, changes) in list {
                for var change in Self.distinct(changes) {
                    change.pending = true
                    result.append(change)
                }
            }
        }
        edits.removeAll()
        revokes.removeAll()
        result.sort { a, b in
            (a.wabaID, a.originalMessageID ?? "", a.kind.rawValue, a.timestamp ?? 0, a.wamid ?? "")
                < (b.wabaID, b.originalMessageID ?? "", b.kind.rawValue, b.timestamp ?? 0, b.wamid ?? "")
        }
        return result
    }

    static func editOrder(_ a: Record, _ b: Record) -> Bool {
        ((a.timestamp ?? 0), a.wamid ?? "") < ((b.timestamp ?? 0), b.wamid ?? "")
    }

    /// One per edit wamid (a redelivered edit counts once).
    static func distinct(_ changes: [Record]) -> [Record] {
        var seen: Set<String> = []
        var result: [Record] = []
        for change in changes.sorted(by: editOrder) where seen.insert(change.wamid ?? "").inserted {
            result.append(change)
        }
        return result
    }

    static func version(of message: Record, number: Int, edit: Record?) -> Record {
        var v = Record(kind: .messageVersion, wabaID: message.wabaID,
                       provenance: edit?.provenance ?? message.provenance)
        v.phoneNumberID = message.phoneNumberID
        v.wamid = message.wamid
        v.version = number
        v.contactWaID = message.contactWaID
        v.contactUserID = message.contactUserID
        if let edit {
            v.editWamid = edit.wamid
            v.timestamp = edit.timestamp
            v.type = edit.type
            v.body = edit.body
            v.content = edit.content
            v.replyTo = edit.replyTo ?? message.replyTo
            v.direction = edit.direction
            v.origin = edit.origin
        } else {
            v.timestamp = message.timestamp
            v.type = message.type
            v.body = message.body
            v.content = message.content
            v.replyTo = message.replyTo
            v.direction = message.direction
            v.origin = message.origin
        }
        return v
    }
}

import CoexJSON
import CoexKit
import CoexSQLite

/// How records become rows and rows become records again. A stored message must turn back
/// into the very record it was made from, because the next import merges new sightings
/// and changes into it with the same rules (MessageMerge, EditApplier) as a single run.
enum Rows {
    // MARK: Values

    static func text(_ s: String?) -> SQLiteValue { s.map { .text($0) } ?? .null }
    static func int(_ n: Int?) -> SQLiteValue { n.map { .integer(Int64($0)) } ?? .null }
    static func int(_ n: Int64?) -> SQLiteValue { n.map { .integer($0) } ?? .null }
    static func json(_ raw: RawJSON?) -> SQLiteValue { raw.map { .text($0.text) } ?? .null }
    static func bool(_ b: Bool) -> SQLiteValue { .integer(b ? 1 : 0) }

    static func text(_ v: SQLiteValue) -> String? {
        if case .text(let s) = v { return s }
        return nil
    }

    static func int64(_ v: SQLiteValue) -> Int64? {
        if case .integer(let n) = v { return n }
        return nil
    }

    static func int(_ v: SQLiteValue) -> Int? { int64(v).map { Int($0) } }

    static func json(_ v: SQLiteValue) -> RawJSON? { text(v).map { RawJSON(Array($0.utf8)) } }

    /// Provenance as one column: "file:line".
    static func source(_ r: Record) -> SQLiteValue { .text("\(r.source):\(r.line)") }

    static func provenance(_ v: SQLiteValue) -> Provenance {
        let s = text(v) ?? ""
        // Split at the last colon: file names may hold colons, line numbers never do.
        if let colon = s.lastIndex(of: ":"), let line = Int(s[s.index(after: colon)...]) {
            return Provenance(source: String(s[..<colon]), line: line)
        }
        return Provenance(source: s, line: 0)
    }

    static func row(_ statement: Statement) -> [SQLiteValue] {
        (0..<statement.columnCount).map { statement.value(at: $0) }
    }

    // MARK: messages

    /// The columns of a message row: what its record says, then `arrival`, `seq` and
    /// `status`, which depend on the other messages and the statuses of the business.
    static let messageColumns = [
        "wamid", "phone_number_id", "contact_wa_id", "contact_user_id", "username", "country_code",
        "group_id", "direction", "origin", "type", "body", "content", "extra", "reply_to", "errors",
        "timestamp", "history_status", "edit_count", "revoked", "revoked_at", "phase", "chunk_order",
        "thread_index", "message_index", "history_asset", "source", "arrival", "seq", "status",
    ]

    static let messageArrivalIndex = 26
    static let messageSeqIndex = 27

    static func messageValues(_ r: Record, arrival: Int64, seq: Int64?, status: String?) -> [SQLiteValue] {
        [
            text(r.wamid), text(r.phoneNumberID), text(r.contactWaID), text(r.contactUserID), text(r.username),
            text(r.countryCode), text(r.groupID), text(r.direction?.rawValue), text(r.origin?.rawValue),
            text(r.type), text(r.body), json(r.content), json(r.extra), text(r.replyTo), json(r.errors),
            int(r.timestamp), text(r.status), .integer(Int64(r.editCount ?? 0)), bool(r.revoked),
            int(r.revokedAt), int(r.phase), int(r.chunkOrder), int(r.threadIndex), int(r.messageIndex),
            bool(r.historyAsset), source(r), .integer(arrival), int(seq), text(status),
        ]
    }

    /// The message record a row was made from (`arrival` is left for the caller).
    static func message(_ v: [SQLiteValue], wabaID: String) -> Record {
        var r = Record(kind: .message, wabaID: wabaID, provenance: provenance(v[25]))
        r.wamid = text(v[0])
        r.phoneNumberID = text(v[1])
        r.contactWaID = text(v[2])
        r.contactUserID = text(v[3])
        r.username = text(v[4])
        r.countryCode = text(v[5])
        r.groupID = text(v[6])
        r.direction = text(v[7]).flatMap(Direction.init(rawValue:))
        r.origin = text(v[8]).flatMap(Origin.init(rawValue:))
        r.type = text(v[9])
        r.body = text(v[10])
        r.content = json(v[11])
        r.extra = json(v[12])
        r.replyTo = text(v[13])
        r.errors = json(v[14])
        r.timestamp = int64(v[15])
        r.status = text(v[16])
        let edits = int(v[17]) ?? 0
        r.editCount = edits > 0 ? edits : nil
        r.revoked = int64(v[18]) == 1
        r.revokedAt = int64(v[19])
        r.phase = int(v[20])
        r.chunkOrder = int(v[21])
        r.threadIndex = int(v[22])
        r.messageIndex = int(v[23])
        r.historyAsset = int64(v[24]) == 1
        return r
    }

    // MARK: message_versions

    static let versionColumns = [
        "wamid", "version", "edit_wamid", "edited_at", "type", "body", "content", "reply_to", "direction",
        "origin", "source",
    ]

    static func versionValues(_ v: Record) -> [SQLiteValue] {
        [
            text(v.wamid), int(v.version), text(v.editWamid), int(v.timestamp), text(v.type), text(v.body),
            json(v.content), text(v.replyTo), text(v.direction?.rawValue), text(v.origin?.rawValue), source(v),
        ]
    }

    static func version(_ v: [SQLiteValue], wabaID: String) -> Record {
        var r = Record(kind: .messageVersion, wabaID: wabaID, provenance: provenance(v[10]))
        r.wamid = text(v[0])
        r.version = int(v[1])
        r.editWamid = text(v[2])
        r.timestamp = int64(v[3])
        r.type = text(v[4])
        r.body = text(v[5])
        r.content = json(v[6])
        r.replyTo = text(v[7])
        r.direction = text(v[8]).flatMap(Direction.init(rawValue:))
        r.origin = text(v[9]).flatMap(Origin.init(rawValue:))
        return r
    }

    // MARK: pending_changes

    static let pendingColumns = [
        "kind", "wamid", "original_message_id", "phone_number_id", "contact_wa_id", "contact_user_id",
        "direction", "origin", "timestamp", "type", "body", "content", "reply_to", "extra", "source",
    ]

    static func pendingValues(_ c: Record) -> [SQLiteValue] {
        [
            .text(c.kind.rawValue), text(c.wamid), text(c.originalMessageID), text(c.phoneNumberID),
            text(c.contactWaID), text(c.contactUserID), text(c.direction?.rawValue), text(c.origin?.rawValue),
            int(c.timestamp), text(c.type), text(c.body), json(c.content), text(c.replyTo), json(c.extra),
            source(c),
        ]
    }

    static func pending(_ v: [SQLiteValue], wabaID: String) -> Record {
        let kind: RecordKind = text(v[0]) == "revoke" ? .revoke : .edit
        var r = Record(kind: kind, wabaID: wabaID, provenance: provenance(v[14]))
        r.wamid = text(v[1])
        r.originalMessageID = text(v[2])
        r.phoneNumberID = text(v[3])
        r.contactWaID = text(v[4])
        r.contactUserID = text(v[5])
        r.direction = text(v[6]).flatMap(Direction.init(rawValue:))
        r.origin = text(v[7]).flatMap(Origin.init(rawValue:))
        r.timestamp = int64(v[8])
        r.type = text(v[9])
        r.body = text(v[10])
        r.content = json(v[11])
        r.replyTo = text(v[12])
        r.extra = json(v[13])
        r.pending = true
        return r
    }

    // MARK: statuses

    static let statusColumns = [
        "wamid", "status", "timestamp", "phone_number_id", "recipient_id", "recipient_user_id", "contact_wa_id",
        "contact_user_id", "username", "group_id", "errors", "extra", "source",
    ]

    static func statusValues(_ s: Record) -> [SQLiteValue] {
        [
            text(s.wamid), text(s.status), int(s.timestamp), text(s.phoneNumberID), text(s.recipientID),
            text(s.recipientUserID), text(s.contactWaID), text(s.contactUserID), text(s.username),
            text(s.groupID), json(s.errors), json(s.extra), source(s),
        ]
    }

    // MARK: contacts

    static let contactColumns = [
        "phone_number_id", "contact_key", "wa_id", "user_id", "username", "full_name", "first_name",
        "profile_name", "removed", "list_action", "list_updated_at", "names_updated_at", "profile_updated_at",
        "username_updated_at", "updated_at",
    ]

    static func contactValues(_ c: ContactState) -> [SQLiteValue] {
        [
            .text(c.phoneNumberID), text(c.identity.key), text(c.identity.waID), text(c.identity.userID),
            text(c.username), text(c.fullName), text(c.firstName), text(c.profileName), bool(c.removed),
            text(c.listAction), int(c.listUpdatedAt), int(c.namesUpdatedAt), int(c.profileUpdatedAt),
            int(c.usernameUpdatedAt), int(c.updatedAt),
        ]
    }

    static func contact(_ v: [SQLiteValue]) -> ContactState {
        var c = ContactState(phoneNumberID: text(v[0]) ?? "", identity: ChatIdentity(waID: text(v[2]), userID: text(v[3])))
        c.username = text(v[4])
        c.fullName = text(v[5])
        c.firstName = text(v[6])
        c.profileName = text(v[7])
        c.listAction = text(v[9])
        c.listUpdatedAt = int64(v[10])
        c.namesUpdatedAt = int64(v[11])
        c.profileUpdatedAt = int64(v[12])
        c.usernameUpdatedAt = int64(v[13])
        c.updatedAt = int64(v[14])
        return c
    }

    // MARK: facts kept as they came (deduplicated by content)

    /// The identity of a fact: 128 bits of SHA-256 of its members other than provenance,
    /// as coex-dedupe tells two deliveries of one fact apart.
    static func factID(_ r: Record, scratch w: inout JSONWriter) -> String {
        w.reset()
        r.write(to: &w, includeProvenance: false)
        let d = Digest128(bytes: w.bytes)
        return hex(d.high) + hex(d.low)
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    static let accountEventColumns = [
        "fact_id", "event", "time", "phone_number", "reason", "initiated_by", "owner_business_id", "entry_id",
        "extra", "source",
    ]

    static func accountEventValues(_ r: Record, id: String) -> [SQLiteValue] {
        [
            .text(id), text(r.event), int(r.timestamp), text(r.phoneNumber), text(r.reason), text(r.initiatedBy),
            text(r.ownerBusinessID), text(r.entryID), json(r.extra), source(r),
        ]
    }

    static let historyChunkColumns = [
        "fact_id", "phone_number_id", "phase", "chunk_order", "progress", "threads", "messages", "time", "source",
    ]

    static func historyChunkValues(_ r: Record, id: String) -> [SQLiteValue] {
        [
            .text(id), text(r.phoneNumberID), int(r.phase), int(r.chunkOrder), int(r.progress), int(r.threadCount),
            int(r.messageCount), int(r.timestamp), source(r),
        ]
    }

    static let syncErrorColumns = [
        "fact_id", "phone_number_id", "code", "title", "message", "details", "timestamp", "extra", "source",
    ]

    static func syncErrorValues(_ r: Record, id: String) -> [SQLiteValue] {
        [
            .text(id), text(r.phoneNumberID), int(r.code), text(r.title), text(r.message), text(r.details),
            int(r.timestamp), json(r.extra), source(r),
        ]
    }

    static let errorColumns = [
        "fact_id", "phone_number_id", "wamid", "code", "title", "message", "details", "timestamp", "extra", "source",
    ]

    static func errorValues(_ r: Record, id: String) -> [SQLiteValue] {
        [
            .text(id), text(r.phoneNumberID), text(r.wamid), int(r.code), text(r.title), text(r.message),
            text(r.details), int(r.timestamp), json(r.extra), source(r),
        ]
    }

    static func insert(_ table: String, _ columns: [String], or conflict: String = "") -> String {
        let verb = conflict.isEmpty ? "INSERT" : "INSERT OR \(conflict)"
        return "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
    }
}

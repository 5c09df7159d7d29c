import CoexJSON
#if canImport(Glibc)
import Glibc
#endif

/// One fact of a webhook, as written by coex-normalize and read by every later stage.
/// docs/records.md describes each kind; absent members are null.
public enum RecordKind: String, Sendable, CaseIterable {
    case message
    case edit
    case revoke
    case status
    case contact
    case accountEvent = "account_event"
    case historyChunk = "history_chunk"
    case syncError = "sync_error"
    case error
    case userIDChange = "user_id_change"
    /// One version of an edited message (coex-apply): the original is version 0.
    case messageVersion = "message_version"
}

extension RecordKind {
    /// 0, 1, 2... in the order of `allCases`.
    public var ordinal: Int {
        switch self {
        case .message: 0
        case .edit: 1
        case .revoke: 2
        case .status: 3
        case .contact: 4
        case .accountEvent: 5
        case .historyChunk: 6
        case .syncError: 7
        case .error: 8
        case .userIDChange: 9
        case .messageVersion: 10
        }
    }
}

public enum Direction: String, Sendable {
    case inbound, outbound
}

public enum Origin: String, Sendable {
    case history, live, echo
}

/// A JSON value kept as minified bytes, so that content passes through stages untouched.
public struct RawJSON: Sendable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ value: JSONValue) { bytes = value.json }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

public struct Record: Sendable, Hashable {
    public var kind: RecordKind
    public var wabaID: String
    public var phoneNumberID: String?
    public var displayPhoneNumber: String?
    public var wamid: String?
    /// The message an edit or revoke changes.
    public var originalMessageID: String?
    /// The WhatsApp user of the 1:1 chat, whichever side sent: phone number and BSUID.
    public var contactWaID: String?
    public var contactUserID: String?
    public var username: String?
    public var countryCode: String?
    public var direction: Direction?
    public var origin: Origin?
    public var timestamp: Int64?
    public var type: String?
    /// Text body, media caption, button text or system body.
    public var body: String?
    /// Message: history_context.status, lower case. Status: the status.
    public var status: String?
    public var replyTo: String?
    /// History position: the chunk and the thread and message index inside it.
    public var phase: Int?
    public var chunkOrder: Int?
    public var threadIndex: Int?
    public var messageIndex: Int?
    /// A media asset webhook (field history, `messages`) that resolves a placeholder.
    public var historyAsset: Bool = false
    /// The type object of the message (e.g. `{"body": ...}` for text).
    public var content: RawJSON?
    /// Every other key of the source object that has no column (context, referral, ...).
    public var extra: RawJSON?
    public var errors: RawJSON?
    public var recipientID: String?
    public var recipientUserID: String?
    /// Contact: add, remove (state sync) or profile (a name seen on a message).
    public var action: String?
    public var fullName: String?
    public var firstName: String?
    public var profileName: String?
    public var event: String?
    public var reason: String?
    public var initiatedBy: String?
    public var ownerBusinessID: String?
    /// The entry id when it differs from waba_id (account_update with waba_info).
    public var entryID: String?
    public var phoneNumber: String?
    public var progress: Int?
    public var threadCount: Int?
    public var messageCount: Int?
    public var code: Int64?
    public var title: String?
    public var message: String?
    public var details: String?
    public var previousUserID: String?
    public var groupID: String?
    /// Unknown webhook field or record type name, for the skipped counts.
    public var source: String
    public var line: Int
    /// Position of the record's first sighting in the input of coex-dedupe: the
    /// tiebreak for equal times of live messages (arrival order).
    public var arrival: Int?
    /// Message: tiebreak such that ORDER BY timestamp, seq is the chat order (coex-order).
    public var seq: Int?
    /// Message: distinct edits applied (coex-apply).
    public var editCount: Int?
    /// Message: revoked, and the earliest revoke's time (coex-apply).
    public var revoked = false
    public var revokedAt: Int64?
    /// message_version: 0 for the original, then 1, 2... in edit order; the edit's own wamid.
    public var version: Int?
    public var editWamid: String?
    /// Edit or revoke whose original message has not arrived (coex-apply).
    public var pending = false

    public init(kind: RecordKind, wabaID: String, provenance: Provenance) {
        self.kind = kind
        self.wabaID = wabaID
        source = provenance.source
        line = provenance.line
    }

    public var provenance: Provenance { Provenance(source: source, line: line) }
}

extension Record {
    /// Appends the record as one JSON object (no newline), members in a fixed order.
    /// Without provenance (source, line, arrival) it is the record's content alone:
    /// what two deliveries of the same fact have in common.
    public func write(to w: inout JSONWriter, includeProvenance: Bool = true) {
        w.beginObject()
        w.key("kind"); w.string(kind.rawValue)
        w.key("waba_id"); w.string(wabaID)
        w.member("phone_number_id", phoneNumberID)
        w.member("display_phone_number", displayPhoneNumber)
        w.member("wamid", wamid)
        w.member("original_message_id", originalMessageID)
        w.member("contact_wa_id", contactWaID)
        w.member("contact_user_id", contactUserID)
        w.member("username", username)
        w.member("country_code", countryCode)
        w.member("direction", direction?.rawValue)
        w.member("origin", origin?.rawValue)
        w.member("timestamp", timestamp)
        w.member("type", type)
        w.member("body", body)
        w.member("status", status)
        w.member("reply_to", replyTo)
        w.member("phase", phase)
        w.member("chunk_order", chunkOrder)
        w.member("thread_index", threadIndex)
        w.member("message_index", messageIndex)
        if historyAsset { w.key("history_asset"); w.bool(true) }
        w.rawMember("content", content?.bytes)
        w.rawMember("extra", extra?.bytes)
        w.rawMember("errors", errors?.bytes)
        w.member("recipient_id", recipientID)
        w.member("recipient_user_id", recipientUserID)
        w.member("action", action)
        w.member("full_name", fullName)
        w.member("first_name", firstName)
        w.member("profile_name", profileName)
        w.member("event", event)
        w.member("reason", reason)
        w.member("initiated_by", initiatedBy)
        w.member("owner_business_id", ownerBusinessID)
        w.member("entry_id", entryID)
        w.member("phone_number", phoneNumber)
        w.member("progress", progress)
        w.member("threads", threadCount)
        w.member("messages", messageCount)
        w.member("code", code)
        w.member("title", title)
        w.member("message", message)
        w.member("details", details)
        w.member("previous_user_id", previousUserID)
        w.member("group_id", groupID)
        w.member("edit_count", editCount)
        if revoked { w.key("revoked"); w.bool(true) }
        w.member("revoked_at", revokedAt)
        w.member("version", version)
        w.member("edit_wamid", editWamid)
        if pending { w.key("pending"); w.bool(true) }
        if includeProvenance {
            w.key("source"); w.string(source)
            w.key("line"); w.int(line)
            w.member("arrival", arrival)
            w.member("seq", seq)
        }
        w.endObject()
    }

    public var jsonLine: String {
        var w = JSONWriter()
        write(to: &w)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// Why a line of normalized input is not a record.
public enum RecordDecodingError: Error, CustomStringConvertible, Equatable {
    case notObject
    case missing(String)
    case wrongType(String, expected: String)
    case unknownKind(String)

    public var description: String {
        switch self {
        case .notObject: "record must be a JSON object"
        case .missing(let key): "record has no \"\(key)\""
        case .wrongType(let key, let expected): "record \"\(key)\" must be \(expected)"
        case .unknownKind(let kind): "unknown record kind \"\(kind)\""
        }
    }
}

extension Record {
    /// Reads a record written by `write(to:)`; unknown members are ignored.
    /// - Parameter rawJSON: false leaves `content`, `extra` and `errors` nil (any JSON is valid
    ///   there, so nothing goes unchecked): for readers that only key records, copying them
    ///   out would be most of the work.
    public init(json v: JSONValue, rawJSON: Bool = true) throws(RecordDecodingError) {
        guard v.isObject else { throw .notObject }
        guard let kindName = v["kind"]?.string else { throw .missing("kind") }
        guard let kind = RecordKind(rawValue: kindName) else { throw .unknownKind(kindName) }
        guard let waba = v["waba_id"]?.string else { throw .missing("waba_id") }
        guard let source = v["source"]?.string else { throw .missing("source") }
        guard let line = v["line"]?.int64 else { throw .missing("line") }
        self.init(kind: kind, wabaID: waba, provenance: Provenance(source: source, line: Int(line)))
        // One pass over the members: a lookup per field would scan the object fifty times.
        for m in v.members {
            switch RecordMember.named(m.keyBytes) {
            case .phoneNumberID: phoneNumberID = try Self.string(m, "phone_number_id")
            case .displayPhoneNumber: displayPhoneNumber = try Self.string(m, "display_phone_number")
            case .wamid: wamid = try Self.string(m, "wamid")
            case .originalMessageID: originalMessageID = try Self.string(m, "original_message_id")
            case .contactWaID: contactWaID = try Self.string(m, "contact_wa_id")
            case .contactUserID: contactUserID = try Self.string(m, "contact_user_id")
            case .username: username = try Self.string(m, "username")
            case .countryCode: countryCode = try Self.string(m, "country_code")
            case .direction:
                if let d = try Self.string(m, "direction") {
                    guard let parsed = Direction(rawValue: d) else { throw .wrongType("direction", expected: "inbound or outbound") }
                    direction = parsed
                }
            case .origin:
                if let o = try Self.string(m, "origin") {
                    guard let parsed = Origin(rawValue: o) else { throw .wrongType("origin", expected: "history, live or echo") }
                    origin = parsed
                }
            case .timestamp: timestamp = try Self.int(m, "timestamp").map(Int64.init)
            case .type: type = try Self.string(m, "type")
            case .body: body = try Self.string(m, "body")
            case .status: status = try Self.string(m, "status")
            case .replyTo: replyTo = try Self.string(m, "reply_to")
            case .phase: phase = try Self.int(m, "phase")
            case .chunkOrder: chunkOrder = try Self.int(m, "chunk_order")
            case .threadIndex: threadIndex = try Self.int(m, "thread_index")
            case .messageIndex: messageIndex = try Self.int(m, "message_index")
            case .historyAsset: historyAsset = m.value.bool ?? false
            case .content: content = !rawJSON || m.value.isNull ? nil : RawJSON(m.value)
            case .extra: extra = !rawJSON || m.value.isNull ? nil : RawJSON(m.value)
            case .errors: errors = !rawJSON || m.value.isNull ? nil : RawJSON(m.value)
            case .recipientID: recipientID = try Self.string(m, "recipient_id")
            case .recipientUserID: recipientUserID = try Self.string(m, "recipient_user_id")
            case .action: action = try Self.string(m, "action")
            case .fullName: fullName = try Self.string(m, "full_name")
            case .firstName: firstName = try Self.string(m, "first_name")
            case .profileName: profileName = try Self.string(m, "profile_name")
            case .event: event = try Self.string(m, "event")
            case .reason: reason = try Self.string(m, "reason")
            case .initiatedBy: initiatedBy = try Self.string(m, "initiated_by")
            case .ownerBusinessID: ownerBusinessID = try Self.string(m, "owner_business_id")
            case .entryID: entryID = try Self.string(m, "entry_id")
            case .phoneNumber: phoneNumber = try Self.string(m, "phone_number")
            case .progress: progress = try Self.int(m, "progress")
            case .threads: threadCount = try Self.int(m, "threads")
            case .messages: messageCount = try Self.int(m, "messages")
            case .code: code = try Self.int(m, "code").map(Int64.init)
            case .title: title = try Self.string(m, "title")
            case .message: message = try Self.string(m, "message")
            case .details: details = try Self.string(m, "details")
            case .previousUserID: previousUserID = try Self.string(m, "previous_user_id")
            case .groupID: groupID = try Self.string(m, "group_id")
            case .arrival: arrival = try Self.int(m, "arrival")
            case .seq: seq = try Self.int(m, "seq")
            case .editCount: editCount = try Self.int(m, "edit_count")
            case .revoked: revoked = m.value.bool ?? false
            case .revokedAt: revokedAt = try Self.int(m, "revoked_at").map(Int64.init)
            case .version: version = try Self.int(m, "version")
            case .editWamid: editWamid = try Self.string(m, "edit_wamid")
            case .pending: pending = m.value.bool ?? false
            case nil: break
            }
        }
    }

    static func string(_ m: JSONValue.Member, _ key: StaticString) throws(RecordDecodingError) -> String? {
        if m.value.isNull { return nil }
        guard let string = m.value.string else { throw .wrongType("\(key)", expected: "a string") }
        return string
    }

    static func int(_ m: JSONValue.Member, _ key: StaticString) throws(RecordDecodingError) -> Int? {
        if m.value.isNull { return nil }
        guard let n = m.value.int64 else { throw .wrongType("\(key)", expected: "an integer") }
        return Int(n)
    }
}

/// A member name matched against string literals without building a String.
struct MemberName: Equatable {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    static func ~= (pattern: StaticString, value: MemberName) -> Bool {
        let n = pattern.utf8CodeUnitCount
        guard n == value.bytes.count else { return false }
        // memcmp, not elementsEqual: this runs for every member of every record read.
        return n == 0 || memcmp(value.bytes.baseAddress!, pattern.utf8Start, n) == 0
    }

    static func == (a: MemberName, b: MemberName) -> Bool {
        a.bytes.count == b.bytes.count && (a.bytes.isEmpty || memcmp(a.bytes.baseAddress!, b.bytes.baseAddress!, a.bytes.count) == 0)
    }
}

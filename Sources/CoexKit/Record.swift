import CoexJSON

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
}

extension RecordKind {
    var ordinal: Int {
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
    public func write(to w: inout JSONWriter) {
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
        w.key("source"); w.string(source)
        w.key("line"); w.int(line)
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
    public init(json v: JSONValue) throws(RecordDecodingError) {
        guard v.isObject else { throw .notObject }
        guard let kindName = v["kind"]?.string else { throw .missing("kind") }
        guard let kind = RecordKind(rawValue: kindName) else { throw .unknownKind(kindName) }
        guard let waba = v["waba_id"]?.string else { throw .missing("waba_id") }
        guard let source = v["source"]?.string else { throw .missing("source") }
        guard let line = v["line"]?.int64 else { throw .missing("line") }
        self.init(kind: kind, wabaID: waba, provenance: Provenance(source: source, line: Int(line)))

        func s(_ key: StaticString) throws(RecordDecodingError) -> String? {
            guard let value = v[key], !value.isNull else { return nil }
            guard let string = value.string else { throw .wrongType("\(key)", expected: "a string") }
            return string
        }
        func i(_ key: StaticString) throws(RecordDecodingError) -> Int? {
            guard let value = v[key], !value.isNull else { return nil }
            guard let n = value.int64 else { throw .wrongType("\(key)", expected: "an integer") }
            return Int(n)
        }
        func r(_ key: StaticString) -> RawJSON? {
            guard let value = v[key], !value.isNull else { return nil }
            return RawJSON(value)
        }
        phoneNumberID = try s("phone_number_id")
        displayPhoneNumber = try s("display_phone_number")
        wamid = try s("wamid")
        originalMessageID = try s("original_message_id")
        contactWaID = try s("contact_wa_id")
        contactUserID = try s("contact_user_id")
        username = try s("username")
        countryCode = try s("country_code")
        if let d = try s("direction") {
            guard let parsed = Direction(rawValue: d) else { throw .wrongType("direction", expected: "inbound or outbound") }
            direction = parsed
        }
        if let o = try s("origin") {
            guard let parsed = Origin(rawValue: o) else { throw .wrongType("origin", expected: "history, live or echo") }
            origin = parsed
        }
        if let t = try i("timestamp") { timestamp = Int64(t) }
        type = try s("type")
        body = try s("body")
        status = try s("status")
        replyTo = try s("reply_to")
        phase = try i("phase")
        chunkOrder = try i("chunk_order")
        threadIndex = try i("thread_index")
        messageIndex = try i("message_index")
        historyAsset = v["history_asset"]?.bool ?? false
        content = r("content")
        extra = r("extra")
        errors = r("errors")
        recipientID = try s("recipient_id")
        recipientUserID = try s("recipient_user_id")
        action = try s("action")
        fullName = try s("full_name")
        firstName = try s("first_name")
        profileName = try s("profile_name")
        event = try s("event")
        reason = try s("reason")
        initiatedBy = try s("initiated_by")
        ownerBusinessID = try s("owner_business_id")
        entryID = try s("entry_id")
        phoneNumber = try s("phone_number")
        progress = try i("progress")
        threadCount = try i("threads")
        messageCount = try i("messages")
        if let c = try i("code") { code = Int64(c) }
        title = try s("title")
        message = try s("message")
        details = try s("details")
        previousUserID = try s("previous_user_id")
        groupID = try s("group_id")
    }
}

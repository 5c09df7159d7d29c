import CoexJSON
#if canImport(Glibc)
import Glibc
#endif

/// The members of a record line other than kind, waba_id, source and line, told apart
/// by length and first byte before one comparison: `Record(json:)` looks up every
/// member of every record it reads, and fifty comparisons in a row were most of its time.
enum RecordMember {
    case phoneNumberID
    case displayPhoneNumber
    case wamid
    case originalMessageID
    case contactWaID
    case contactUserID
    case username
    case countryCode
    case direction
    case origin
    case timestamp
    case type
    case body
    case status
    case replyTo
    case phase
    case chunkOrder
    case threadIndex
    case messageIndex
    case historyAsset
    case content
    case extra
    case errors
    case recipientID
    case recipientUserID
    case action
    case fullName
    case firstName
    case profileName
    case event
    case reason
    case initiatedBy
    case ownerBusinessID
    case entryID
    case phoneNumber
    case progress
    case threads
    case messages
    case code
    case title
    case message
    case details
    case previousUserID
    case groupID
    case arrival
    case seq
    case editCount
    case revoked
    case revokedAt
    case version
    case editWamid
    case pending

    static func named(_ key: UnsafeRawBufferPointer) -> RecordMember? {
        guard let first = key.first else { return nil }
        func its(_ name: StaticString, _ member: RecordMember) -> RecordMember? {
            memcmp(key.baseAddress!, name.utf8Start, key.count) == 0 ? member : nil
        }
        switch (key.count, first) {
        case (3, UInt8(ascii: "s")): return its("seq", .seq)
        case (4, UInt8(ascii: "b")): return its("body", .body)
        case (4, UInt8(ascii: "c")): return its("code", .code)
        case (4, UInt8(ascii: "t")): return its("type", .type)
        case (5, UInt8(ascii: "e")): return its("extra", .extra) ?? its("event", .event)
        case (5, UInt8(ascii: "p")): return its("phase", .phase)
        case (5, UInt8(ascii: "t")): return its("title", .title)
        case (5, UInt8(ascii: "w")): return its("wamid", .wamid)
        case (6, UInt8(ascii: "a")): return its("action", .action)
        case (6, UInt8(ascii: "e")): return its("errors", .errors)
        case (6, UInt8(ascii: "o")): return its("origin", .origin)
        case (6, UInt8(ascii: "r")): return its("reason", .reason)
        case (6, UInt8(ascii: "s")): return its("status", .status)
        case (7, UInt8(ascii: "a")): return its("arrival", .arrival)
        case (7, UInt8(ascii: "c")): return its("content", .content)
        case (7, UInt8(ascii: "d")): return its("details", .details)
        case (7, UInt8(ascii: "m")): return its("message", .message)
        case (7, UInt8(ascii: "p")): return its("pending", .pending)
        case (7, UInt8(ascii: "r")): return its("revoked", .revoked)
        case (7, UInt8(ascii: "t")): return its("threads", .threads)
        case (7, UInt8(ascii: "v")): return its("version", .version)
        case (8, UInt8(ascii: "e")): return its("entry_id", .entryID)
        case (8, UInt8(ascii: "g")): return its("group_id", .groupID)
        case (8, UInt8(ascii: "m")): return its("messages", .messages)
        case (8, UInt8(ascii: "p")): return its("progress", .progress)
        case (8, UInt8(ascii: "r")): return its("reply_to", .replyTo)
        case (8, UInt8(ascii: "u")): return its("username", .username)
        case (9, UInt8(ascii: "d")): return its("direction", .direction)
        case (9, UInt8(ascii: "f")): return its("full_name", .fullName)
        case (9, UInt8(ascii: "t")): return its("timestamp", .timestamp)
        case (10, UInt8(ascii: "e")): return its("edit_count", .editCount) ?? its("edit_wamid", .editWamid)
        case (10, UInt8(ascii: "f")): return its("first_name", .firstName)
        case (10, UInt8(ascii: "r")): return its("revoked_at", .revokedAt)
        case (11, UInt8(ascii: "c")): return its("chunk_order", .chunkOrder)
        case (12, UInt8(ascii: "c")): return its("country_code", .countryCode)
        case (12, UInt8(ascii: "i")): return its("initiated_by", .initiatedBy)
        case (12, UInt8(ascii: "p")): return its("profile_name", .profileName) ?? its("phone_number", .phoneNumber)
        case (12, UInt8(ascii: "r")): return its("recipient_id", .recipientID)
        case (12, UInt8(ascii: "t")): return its("thread_index", .threadIndex)
        case (13, UInt8(ascii: "c")): return its("contact_wa_id", .contactWaID)
        case (13, UInt8(ascii: "h")): return its("history_asset", .historyAsset)
        case (13, UInt8(ascii: "m")): return its("message_index", .messageIndex)
        case (15, UInt8(ascii: "c")): return its("contact_user_id", .contactUserID)
        case (15, UInt8(ascii: "p")): return its("phone_number_id", .phoneNumberID)
        case (16, UInt8(ascii: "p")): return its("previous_user_id", .previousUserID)
        case (17, UInt8(ascii: "o")): return its("owner_business_id", .ownerBusinessID)
        case (17, UInt8(ascii: "r")): return its("recipient_user_id", .recipientUserID)
        case (19, UInt8(ascii: "o")): return its("original_message_id", .originalMessageID)
        case (20, UInt8(ascii: "d")): return its("display_phone_number", .displayPhoneNumber)
        default: return nil
        }
    }
}

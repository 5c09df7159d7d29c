import CoexJSON

/// What the generator knows about one business, counted while it writes the lines.
/// Redeliveries never change these counts (except `lines`, `bytes`, `redeliveredLines`).
public struct BusinessTruth: Sendable, Equatable {
    public var wabaId: String = ""
    public var phoneNumberIds: [String] = []
    public var displayPhoneNumbers: [String] = []
    /// Night of the onboarding (history sync and contact sync).
    public var onboardingNight: Int = 1

    /// Distinct message wamids of any origin (history, live, echo, reactions included;
    /// a placeholder and its media, an `unsupported` and its real message, a history message
    /// also seen live count once). Edits, revokes and API-sent wamids are not messages.
    public var messages: Int = 0
    public var historyMessages: Int = 0
    public var liveMessages: Int = 0
    public var echoMessages: Int = 0
    /// History messages also delivered live or as an echo (same wamid).
    public var historyAlsoLive: Int = 0
    public var placeholders: Int = 0
    public var placeholdersResolved: Int = 0
    /// Messages first delivered as `unsupported` (131060) and later with their real content.
    public var unsupportedThenReal: Int = 0
    /// Messages whose only delivery has an unknown type.
    public var unknownTypeMessages: Int = 0

    /// Distinct edit wamids, and the messages they edit.
    public var edits: Int = 0
    public var editedMessages: Int = 0
    public var revokes: Int = 0
    public var revokedMessages: Int = 0

    /// Distinct (wamid, status) pairs.
    public var statuses: Int = 0
    public var failedStatuses: Int = 0
    /// Wamids that have statuses but never a message (sent through the API).
    public var apiSentWamids: Int = 0

    /// Users with at least one message: one chat each (a user talks to one phone number).
    public var chatUsers: Int = 0
    /// Users that appear on any record (chats, statuses, contact list, preferences).
    public var knownUsers: Int = 0
    /// Known users never shown with a phone number.
    public var bsuidOnlyUsers: Int = 0
    /// Users shown by phone only (no user_id) on some record and by BSUID only on another.
    public var switchedUsers: Int = 0
    /// Size of the business's contact list at the end (smb_app_state_sync: latest timestamp
    /// wins, remove wins ties).
    public var contactsInList: Int = 0

    public var historyDeclined: Bool = false
    /// Distinct history chunks (phone number, phase, chunk_order), over all phone numbers.
    public var historyChunks: Int = 0

    /// Distinct account_update events, and the connection state they lead to:
    /// "connected", "partner_removed", "offboarded" or "reconnected".
    public var accountEvents: Int = 0
    public var connection: String = "connected"

    /// Webhook bodies of unknown fields (e.g. user_preferences).
    public var unknownFieldBodies: Int = 0

    public var lines: Int = 0
    public var bytes: Int = 0
    public var redeliveredLines: Int = 0

    public init() {}
}

/// Ground truth of a whole capture.
public struct CaptureTruth: Sendable, Equatable {
    public var businesses: [BusinessTruth] = []
    /// Lines per night (index 0 = night 1).
    public var linesPerNight: [Int] = []
    public var lines: Int = 0
    /// Bytes including one newline per line.
    public var bytes: Int = 0
    public var redeliveredLines: Int = 0

    public init() {}

    public var messages: Int { businesses.reduce(0) { $0 + $1.messages } }
    public var chatUsers: Int { businesses.reduce(0) { $0 + $1.chatUsers } }

    public func business(_ wabaId: String) -> BusinessTruth? {
        businesses.first { $0.wabaId == wabaId }
    }
}

extension CaptureTruth {
    /// The truth as one JSON object (what `coex-gen --truth FILE` writes).
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("lines"); w.int(lines)
        w.key("bytes"); w.int(bytes)
        w.key("redelivered_lines"); w.int(redeliveredLines)
        w.key("lines_per_night"); w.beginArray(); for n in linesPerNight { w.int(n) }; w.endArray()
        w.key("messages"); w.int(messages)
        w.key("chat_users"); w.int(chatUsers)
        w.key("businesses"); w.beginArray()
        for b in businesses {
            w.beginObject()
            w.key("waba_id"); w.string(b.wabaId)
            w.key("phone_number_ids"); w.beginArray(); for p in b.phoneNumberIds { w.string(p) }; w.endArray()
            w.key("display_phone_numbers"); w.beginArray(); for p in b.displayPhoneNumbers { w.string(p) }; w.endArray()
            w.key("onboarding_night"); w.int(b.onboardingNight)
            w.key("messages"); w.int(b.messages)
            w.key("history_messages"); w.int(b.historyMessages)
            w.key("live_messages"); w.int(b.liveMessages)
            w.key("echo_messages"); w.int(b.echoMessages)
            w.key("history_also_live"); w.int(b.historyAlsoLive)
            w.key("placeholders"); w.int(b.placeholders)
            w.key("placeholders_resolved"); w.int(b.placeholdersResolved)
            w.key("unsupported_then_real"); w.int(b.unsupportedThenReal)
            w.key("unknown_type_messages"); w.int(b.unknownTypeMessages)
            w.key("edits"); w.int(b.edits)
            w.key("edited_messages"); w.int(b.editedMessages)
            w.key("revokes"); w.int(b.revokes)
            w.key("revoked_messages"); w.int(b.revokedMessages)
            w.key("statuses"); w.int(b.statuses)
            w.key("failed_statuses"); w.int(b.failedStatuses)
            w.key("api_sent_wamids"); w.int(b.apiSentWamids)
            w.key("chat_users"); w.int(b.chatUsers)
            w.key("known_users"); w.int(b.knownUsers)
            w.key("bsuid_only_users"); w.int(b.bsuidOnlyUsers)
            w.key("switched_users"); w.int(b.switchedUsers)
            w.key("contacts_in_list"); w.int(b.contactsInList)
            w.key("history_declined"); w.bool(b.historyDeclined)
            w.key("history_chunks"); w.int(b.historyChunks)
            w.key("account_events"); w.int(b.accountEvents)
            w.key("connection"); w.string(b.connection)
            w.key("unknown_field_bodies"); w.int(b.unknownFieldBodies)
            w.key("lines"); w.int(b.lines)
            w.key("bytes"); w.int(b.bytes)
            w.key("redelivered_lines"); w.int(b.redeliveredLines)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}

import CoexJSON

/// The business's own identifiers on one change. The user of a 1:1 chat is "the side that is
/// not the business", but real senders break the shape the reference shows: echoes (and echo
/// edits and revokes) with `from` and `to` swapped, history threads that name the business
/// where the user's phone would be. Telling the business apart is what keeps a chat from being
/// filed under the business's own number.
struct BusinessNumber {
    /// `metadata.display_phone_number` as digits: it may be written "+1 555-078-3881" while
    /// `from` and `to` say "15550783881".
    let displayDigits: [UInt8]
    /// `metadata.phone_number_id` as digits: an id, not a phone, yet it is the business and
    /// never a user, whichever member it turns up in.
    let phoneNumberIDDigits: [UInt8]

    init(displayPhoneNumber: String?, phoneNumberID: String?) {
        displayDigits = Self.digits(displayPhoneNumber)
        phoneNumberIDDigits = Self.digits(phoneNumberID)
    }

    /// True when `phone` is the business's own number (or its phone_number_id). A phone with
    /// no digits is nobody's: it never matches, so an empty business number matches nothing.
    func owns(_ phone: String?) -> Bool {
        guard let phone else { return false }
        return Self.sameDigits(phone, displayDigits) || Self.sameDigits(phone, phoneNumberIDDigits)
    }

    /// Whether the digits of `text` are `digits` (non-empty), without building a copy: this
    /// runs on both sides of every message.
    static func sameDigits(_ text: String, _ digits: [UInt8]) -> Bool {
        guard !digits.isEmpty else { return false }
        var i = 0
        for byte in text.utf8 where byte >= 0x30 && byte <= 0x39 {
            guard i < digits.count, digits[i] == byte else { return false }
            i += 1
        }
        return i == digits.count
    }

    static func digits(_ text: String?) -> [UInt8] {
        guard let text else { return [] }
        return text.utf8.filter { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// A WhatsApp user as one side of a record names it: a phone (wa_id) and a BSUID, either
/// possibly absent, never empty.
struct Party: Equatable {
    var waID: String?
    var userID: String?

    init(waID: String? = nil, userID: String? = nil) {
        self.waID = waID.flatMap { $0.isEmpty ? nil : $0 }
        self.userID = userID.flatMap { $0.isEmpty ? nil : $0 }
    }

    var isEmpty: Bool { waID == nil && userID == nil }

    /// This party (a history thread's user) with what `other` (one message's user side) adds,
    /// unless `other` names someone else: the thread decides who the user is, a message only
    /// fills in the spelling the thread lacks.
    func completed(by other: Party) -> Party {
        if isEmpty { return other }
        var result = self
        if waID == nil, other.userID == nil || other.userID == userID { result.waID = other.waID }
        if userID == nil, other.waID == nil || other.waID == waID { result.userID = other.userID }
        return result
    }
}

/// A `contacts[]` item of the change, with the business's own number left out.
struct ContactItem {
    let item: JSONValue
    let waID: String?
    let userID: String?
}

extension ChangeContext {
    /// One side of a message (`from`/`from_user_id` or `to`/`to_user_id`) as sent.
    func party(_ phone: JSONValue?, _ userID: JSONValue?) -> Party {
        Party(waID: phone?.nonEmptyString, userID: userID?.nonEmptyString)
    }

    func fromSide(_ m: JSONValue) -> Party { party(m["from"], m["from_user_id"]) }
    func toSide(_ m: JSONValue) -> Party { party(m["to"], m["to_user_id"]) }

    /// The user of a 1:1 record. `expected` is the side the record's kind names as the user
    /// (`from` on inbound, `to` on echoes and outbound history), `other` the opposite side.
    /// The result never holds the business's number; it is empty when the record names no
    /// user on either side (then `contacts[]` may, see `contactItem`).
    func chatUser(expected: Party, other: Party) -> Party {
        if !business.owns(expected.waID), !expected.isEmpty { return expected }
        // The expected side is the business or names nobody: the sides are swapped, or the
        // user is known by a BSUID alone. Only users have BSUIDs, so one is the user wherever
        // it sits; a business phone is dropped, never kept as the user's.
        // In a 1:1 chat that user is the one whose phone the other side names.
        return Party(waID: business.owns(other.waID) ? nil : other.waID, userID: other.userID ?? expected.userID)
    }

    /// Direction of a history message (or a media asset of field `history`): the business's
    /// own `from` is outbound, and so is a `to` naming a user (the reference writes `to` on
    /// the business's messages only). A `to` that is the business's number is a message to
    /// the business: inbound, whoever `from` is.
    func historyOutbound(_ m: JSONValue) -> Bool {
        if business.owns(m["from"]?.nonEmptyString) { return true }
        guard let to = m["to"]?.nonEmptyString else { return false }
        return !business.owns(to)
    }

    /// The user of one history message: its thread's (`id`, else `context.wa_id`; BSUID from
    /// `context.user_id`, else the thread's `user_id`), completed by the message's own user
    /// side. A thread id that is the business's number names nobody.
    func historyUser(thread: Party, message m: JSONValue, outbound: Bool) -> Party {
        let own = outbound
            ? chatUser(expected: toSide(m), other: fromSide(m))
            : chatUser(expected: fromSide(m), other: toSide(m))
        return thread.completed(by: own)
    }

    func threadUser(_ thread: JSONValue) -> Party {
        let context = thread["context"]
        let ids = [thread["id"]?.nonEmptyString, context?["wa_id"]?.nonEmptyString]
        let waID = ids.lazy.compactMap { $0 }.first { !business.owns($0) }
        let userID = context?["user_id"]?.nonEmptyString ?? thread["user_id"]?.nonEmptyString
        return Party(waID: waID, userID: userID)
    }

    /// The `contacts[]` item of `user`: the one naming its phone or its BSUID; for a record
    /// that names no user at all, the only item that names one. An item whose only id is the
    /// business's number is the business, not a user, and never chosen.
    func contactItem(_ user: Party) -> ContactItem? {
        guard let contacts else { return nil }
        if let contactIndex { return contactIndex.item(user) }
        var only: ContactItem?
        var users = 0
        for item in contacts.elements where item.isObject {
            guard let c = contactIDs(item) else { continue }
            if let waID = user.waID, c.waID == waID { return c }
            if let userID = user.userID, c.userID == userID { return c }
            users += 1
            only = c
        }
        return user.isEmpty && users == 1 ? only : nil
    }

    /// The ids of a `contacts[]` item without the business's number; nil when the item names
    /// the business and no BSUID (the business's own profile, not a user's).
    func contactIDs(_ item: JSONValue) -> ContactItem? {
        let phone = item["wa_id"]?.nonEmptyString
        let userID = item["user_id"]?.nonEmptyString
        if business.owns(phone) {
            guard userID != nil else { return nil }
            return ContactItem(item: item, waID: nil, userID: userID)
        }
        return ContactItem(item: item, waID: phone, userID: userID)
    }
}

/// `contactItem`'s answers without the scan: the first item of each id, and the only item
/// naming a user when there is exactly one.
struct ContactIndex {
    /// Below this many contacts the scan is cheaper than building dictionaries.
    static let threshold = 8
    private var items: [ContactItem] = []
    private var byWaID: [String: Int] = [:]
    private var byUserID: [String: Int] = [:]

    init(_ contacts: JSONValue, of context: ChangeContext) {
        for item in contacts.elements where item.isObject {
            guard let c = context.contactIDs(item) else { continue }
            if let id = c.waID, byWaID[id] == nil { byWaID[id] = items.count }
            if let id = c.userID, byUserID[id] == nil { byUserID[id] = items.count }
            items.append(c)
        }
    }

    func item(_ user: Party) -> ContactItem? {
        let byWa = user.waID.flatMap { byWaID[$0] }
        let byUser = user.userID.flatMap { byUserID[$0] }
        // The scan stops at the first item matching either id.
        if let first = [byWa, byUser].compactMap({ $0 }).min() { return items[first] }
        return user.isEmpty && items.count == 1 ? items[0] : nil
    }
}

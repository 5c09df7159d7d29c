import CoexJSON

/// What a normalizer saw beyond the records it produced, for the stage summary.
public struct NormalizeCounts: Sendable, Equatable {
    /// Records produced, indexed like `RecordKind.allCases`.
    private var byKind = [Int](repeating: 0, count: RecordKind.allCases.count)
    public var records: [RecordKind: Int] {
        var result: [RecordKind: Int] = [:]
        for (i, kind) in RecordKind.allCases.enumerated() where byKind[i] > 0 { result[kind] = byKind[i] }
        return result
    }
    mutating func count(_ kind: RecordKind) { byKind[kind.ordinal] += 1 }
    /// Changes of webhook fields coex does not process, by field name.
    public var skippedFields: [String: Int] = [:]
    /// Items that carry nothing to record (e.g. a state_sync item of an unknown type), by what they were.
    public var skippedItems: [String: Int] = [:]
    /// Messages of types outside the Cloud API list, by type (they are still messages).
    public var unknownTypes: [String: Int] = [:]
    /// Records left out because they break the rules (reported by validation).
    public var badRecords = 0

    public init() {}

    public mutating func add(_ other: Self) {
        for i in byKind.indices { byKind[i] += other.byKind[i] }
        skippedFields.merge(other.skippedFields, uniquingKeysWith: +)
        skippedItems.merge(other.skippedItems, uniquingKeysWith: +)
        unknownTypes.merge(other.unknownTypes, uniquingKeysWith: +)
        badRecords += other.badRecords
    }

    public var recordTotal: Int { byKind.reduce(0, +) }
}

/// Turns one webhook body into flat records, one per fact. Records that fail
/// `WebhookRules` are left out and counted; validation reports them.
public struct Normalizer {
    public var counts = NormalizeCounts()

    public init() {}

    public mutating func normalize(_ body: JSONValue, provenance: Provenance, into out: inout [Record]) {
        guard body.isObject, let entries = body["entry"], entries.isArray else { return }
        for entry in entries.elements {
            if WebhookRules.checkEntry(entry) != nil {
                counts.badRecords += 1
                continue
            }
            for change in entry["changes"]!.elements {
                if WebhookRules.checkChange(change) != nil {
                    counts.badRecords += 1
                    continue
                }
                let fieldValue = change["field"]!
                guard let field = WebhookField(fieldValue) else {
                    counts.skippedFields[fieldValue.string!, default: 0] += 1
                    continue
                }
                var context = ChangeContext(entry: entry, value: change["value"]!, provenance: provenance)
                let start = out.count
                switch field {
                case .messages: context.messagesValue(&self, &out)
                case .smbMessageEchoes: context.echoesValue(&self, &out)
                case .history: context.historyValue(&self, &out)
                case .smbAppStateSync: context.stateSyncValue(&self, &out)
                case .accountUpdate: context.accountUpdate(&self, &out)
                case .userIDUpdate: context.userIDUpdate(&self, &out)
                }
                for i in start..<out.count { counts.count(out[i].kind) }
            }
        }
    }
}

/// What every record of one change shares: the business, its phone number, the line.
struct ChangeContext {
    let value: JSONValue
    let wabaID: String
    let entryTime: Int64?
    let phoneNumberID: String?
    let displayPhoneNumber: String?
    /// The business's own numbers: never the user of a chat.
    let business: BusinessNumber
    let provenance: Provenance
    let contacts: JSONValue?
    /// The contacts by id, for a value with many: scanning them for each message and status
    /// costs messages x contacts, seconds for one long line (found by the fuzzer).
    private(set) var contactIndex: ContactIndex?

    init(entry: JSONValue, value: JSONValue, provenance: Provenance) {
        self.value = value
        wabaID = entry["id"]!.string!
        entryTime = entry["time"].flatMap(WebhookRules.timestamp)
        let metadata = value["metadata"]
        phoneNumberID = metadata?["phone_number_id"]?.nonEmptyString
        displayPhoneNumber = metadata?["display_phone_number"]?.nonEmptyString
        business = BusinessNumber(displayPhoneNumber: displayPhoneNumber, phoneNumberID: phoneNumberID)
        self.provenance = provenance
        contacts = value["contacts"].flatMap { $0.isArray ? $0 : nil }
        contactIndex = nil
        if let contacts, contacts.count > ContactIndex.threshold { contactIndex = ContactIndex(contacts, of: self) }
    }

    func record(_ kind: RecordKind) -> Record {
        var r = Record(kind: kind, wabaID: wabaID, provenance: provenance)
        r.phoneNumberID = phoneNumberID
        r.displayPhoneNumber = displayPhoneNumber
        return r
    }

    // MARK: messages

    func messagesValue(_ n: inout Normalizer, _ out: inout [Record]) {
        let start = out.count
        if let messages = value["messages"] {
            for m in messages.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                let group = m["group_id"]?.nonEmptyString
                // The field says who sent it: a `from` that is the business's own number changes
                // the user, never the direction.
                let user = group == nil ? chatUser(expected: fromSide(m), other: toSide(m)) : Party()
                emitMessage(m, origin: .live, direction: .inbound, user: user, group: group, n: &n, out: &out)
            }
        }
        if let statuses = value["statuses"] {
            for s in statuses.elements {
                guard WebhookRules.checkStatus(s) == nil else { n.counts.badRecords += 1; continue }
                out.append(status(s))
            }
        }
        emitContacts(timestamp: latestTimestamp(out, from: start), n: &n, out: &out)
        emitErrors(value["errors"], wamid: nil, timestamp: entryTime, n: &n, out: &out)
    }

    func echoesValue(_ n: inout Normalizer, _ out: inout [Record]) {
        let start = out.count
        if let echoes = value["message_echoes"] {
            for m in echoes.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                // An echo is the business's, whatever its from/to say: outbound, and the user is
                // `to` unless `to` is the business (swapped by some senders).
                let group = m["group_id"]?.nonEmptyString
                let user = group == nil ? chatUser(expected: toSide(m), other: fromSide(m)) : Party()
                emitMessage(m, origin: .echo, direction: .outbound, user: user, group: group, n: &n, out: &out)
            }
        }
        emitContacts(timestamp: latestTimestamp(out, from: start), n: &n, out: &out)
        emitErrors(value["errors"], wamid: nil, timestamp: entryTime, n: &n, out: &out)
    }

    // MARK: state sync, account, user ids

    func stateSyncValue(_ n: inout Normalizer, _ out: inout [Record]) {
        guard let items = value["state_sync"] else { return }
        for item in items.elements {
            guard WebhookRules.checkStateSync(item) == nil else { n.counts.badRecords += 1; continue }
            let type = item["type"]!.string!
            guard type == "contact" else {
                n.counts.skippedItems["state_sync \(type)", default: 0] += 1
                continue
            }
            let contact = item["contact"]!
            var r = record(.contact)
            r.action = item["action"]!.string
            r.timestamp = WebhookRules.timestamp(item["metadata"]!["timestamp"]!)
            r.contactWaID = contact["phone_number"]?.nonEmptyString ?? contact["wa_id"]?.nonEmptyString
            r.contactUserID = contact["user_id"]?.nonEmptyString
            r.username = contact["username"]?.nonEmptyString
            r.countryCode = contact["country_code"]?.nonEmptyString
            r.fullName = contact["full_name"]?.string
            r.firstName = contact["first_name"]?.string
            r.extra = remainder(contact, excluding: ["phone_number", "wa_id", "user_id", "username", "country_code",
                                                     "full_name", "first_name"])
            out.append(r)
        }
    }

    func accountUpdate(_ n: inout Normalizer, _ out: inout [Record]) {
        var r = record(.accountEvent)
        let info = value["waba_info"]
        if let waba = info?["waba_id"]?.nonEmptyString, waba != wabaID {
            r.wabaID = waba
            r.entryID = wabaID
        }
        r.phoneNumberID = nil
        r.displayPhoneNumber = nil
        r.event = value["event"]!.string
        r.timestamp = entryTime
        r.phoneNumber = value["phone_number"]?.nonEmptyString
        r.ownerBusinessID = info?["owner_business_id"]?.string
        let disconnection = value["disconnection_info"]
        r.reason = disconnection?["reason"]?.string
        r.initiatedBy = disconnection?["initiated_by"]?.string
        r.extra = remainder(value, excluding: ["event", "phone_number"])
        out.append(r)
    }

    /// `user_id_update`: a user's BSUID changed. Items may sit in a `user_id_update`
    /// array or be the value itself; previous and new ids are read from the usual spellings.
    func userIDUpdate(_ n: inout Normalizer, _ out: inout [Record]) {
        var items: [JSONValue] = []
        for key: StaticString in ["user_id_update", "user_id_updates", "updates", "users"] {
            if let array = value[key], array.isArray { items.append(contentsOf: array.elements) }
        }
        if items.isEmpty { items = [value] }
        for item in items {
            guard item.isObject else { n.counts.skippedItems["user_id_update item", default: 0] += 1; continue }
            let ids = item["user_id"]
            let current = ids?.nonEmptyString ?? ids?["current"]?.nonEmptyString ?? ids?["new"]?.nonEmptyString
                ?? item["new_user_id"]?.nonEmptyString ?? item["current_user_id"]?.nonEmptyString
            let previous = item["previous_user_id"]?.nonEmptyString ?? item["old_user_id"]?.nonEmptyString
                ?? ids?["previous"]?.nonEmptyString ?? ids?["old"]?.nonEmptyString
            guard current != nil || previous != nil else {
                n.counts.skippedItems["user_id_update without user ids", default: 0] += 1
                continue
            }
            var r = record(.userIDChange)
            r.contactUserID = current
            r.previousUserID = previous
            r.contactWaID = item["wa_id"]?.nonEmptyString
            r.timestamp = item["timestamp"].flatMap(WebhookRules.timestamp) ?? entryTime
            r.extra = RawJSON(item)
            out.append(r)
        }
    }
}

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
    /// Digits of the business phone number, to tell the business's own messages in history.
    let businessDigits: [UInt8]
    let provenance: Provenance
    let contacts: JSONValue?
    /// The contacts by id, for a value with many: scanning them for each message and status
    /// costs messages x contacts, seconds for one long line.
    let contactIndex: ContactIndex?

    init(entry: JSONValue, value: JSONValue, provenance: Provenance) {
        self.value = value
        wabaID = entry["id"]!.string!
        entryTime = entry["time"].flatMap(WebhookRules.timestamp)
        let metadata = value["metadata"]
        phoneNumberID = metadata?["phone_number_id"]?.nonEmptyString
        displayPhoneNumber = metadata?["display_phone_number"]?.nonEmptyString
        businessDigits = Array((displayPhoneNumber ?? "").utf8.filter { $0 >= 0x30 && $0 <= 0x39 })
        self.provenance = provenance
        contacts = value["contacts"].flatMap { $0.isArray ? $0 : nil }
        contactIndex = contacts.flatMap { $0.count > ContactIndex.threshold ? ContactIndex($0) : nil }
    }

    /// The position of each contact id's first item, so that a lookup finds what the scan would.
    struct ContactIndex {
        /// Below this many contacts the scan is cheaper than building dictionaries.
        static let threshold = 8
        var items: [JSONValue] = []
        var byWaID: [String: Int] = [:]
        var byUserID: [String: Int] = [:]

        init(_ contacts: JSONValue) {
            items = Array(contacts.elements)
            for (i, item) in items.enumerated() where item.isObject {
                if let id = item["wa_id"]?.string, byWaID[id] == nil { byWaID[id] = i }
                if let id = item["user_id"]?.string, byUserID[id] == nil { byUserID[id] = i }
            }
        }

        /// The first item whose wa_id or user_id matches.
        func item(waID: String?, userID: String?) -> JSONValue? {
            let byWa = waID.flatMap { byWaID[$0] }
            let byUser = userID.flatMap { byUserID[$0] }
            guard let first = [byWa, byUser].compactMap({ $0 }).min() else { return nil }
            return items[first]
        }
    }

    func record(_ kind: RecordKind) -> Record {
        var r = Record(kind: kind, wabaID: wabaID, provenance: provenance)
        r.phoneNumberID = phoneNumberID
        r.displayPhoneNumber = displayPhoneNumber
        return r
    }

    func isBusiness(_ phone: JSONValue?) -> Bool {
        guard let bytes = phone?.stringBytes, !bytes.isEmpty, !businessDigits.isEmpty else { return false }
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        for byte in bytes where byte >= 0x30 && byte <= 0x39 { digits.append(byte) }
        return digits == businessDigits
    }

    // MARK: messages

    func messagesValue(_ n: inout Normalizer, _ out: inout [Record]) {
        let start = out.count
        if let messages = value["messages"] {
            for m in messages.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                let group = m["group_id"]?.nonEmptyString
                let from = group == nil ? m["from"] : nil
                let fromUser = group == nil ? m["from_user_id"] : nil
                emitMessage(m, origin: .live, direction: .inbound, waID: from, userID: fromUser, group: group,
                            n: &n, out: &out)
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
                emitMessage(m, origin: .echo, direction: .outbound, waID: m["to"], userID: m["to_user_id"],
                            group: m["group_id"]?.nonEmptyString, n: &n, out: &out)
            }
        }
        emitContacts(timestamp: latestTimestamp(out, from: start), n: &n, out: &out)
        emitErrors(value["errors"], wamid: nil, timestamp: entryTime, n: &n, out: &out)
    }

    // MARK: history

    func historyValue(_ n: inout Normalizer, _ out: inout [Record]) {
        if let history = value["history"] {
            for item in history.elements {
                guard WebhookRules.checkHistoryItem(item) == nil else { n.counts.badRecords += 1; continue }
                if let errors = item["errors"], errors.isArray {
                    for e in errors.elements {
                        guard WebhookRules.checkError(e) == nil else { n.counts.badRecords += 1; continue }
                        var r = errorRecord(.syncError, e)
                        r.timestamp = entryTime
                        out.append(r)
                    }
                }
                if item["metadata"] != nil { historyChunk(item, &n, &out) }
            }
        }
        // Media assets that resolve placeholders arrive on this field as plain messages.
        let start = out.count
        if let messages = value["messages"] {
            for m in messages.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                let outbound = isBusiness(m["from"]) || m["to"]?.nonEmptyString != nil
                emitMessage(m, origin: .history, direction: outbound ? .outbound : .inbound,
                            waID: outbound ? m["to"] : m["from"], userID: outbound ? m["to_user_id"] : m["from_user_id"],
                            group: nil, asset: true, n: &n, out: &out)
            }
        }
        if let echoes = value["message_echoes"] {
            for m in echoes.elements {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                emitMessage(m, origin: .history, direction: .outbound, waID: m["to"], userID: m["to_user_id"],
                            group: nil, asset: true, n: &n, out: &out)
            }
        }
        emitContacts(timestamp: latestTimestamp(out, from: start), n: &n, out: &out)
        emitErrors(value["errors"], wamid: nil, timestamp: entryTime, n: &n, out: &out)
    }

    func historyChunk(_ item: JSONValue, _ n: inout Normalizer, _ out: inout [Record]) {
        let metadata = item["metadata"]!
        let phase = Int(metadata["phase"]!.int64!)
        let chunkOrder = Int(metadata["chunk_order"]!.int64!)
        var chunk = record(.historyChunk)
        chunk.phase = phase
        chunk.chunkOrder = chunkOrder
        chunk.progress = Int(metadata["progress"]!.int64!)
        chunk.timestamp = entryTime
        let chunkIndex = out.count
        out.append(chunk)
        var threadCount = 0
        var messageCount = 0
        for (t, thread) in item["threads"]!.elements.enumerated() {
            guard WebhookRules.checkThread(thread) == nil else { n.counts.badRecords += 1; continue }
            threadCount += 1
            let context = thread["context"]
            // The user of the thread: its id, else the phone in its context; the BSUID from the context.
            let threadWaID = thread["id"]?.nonEmptyString != nil ? thread["id"] : context?["wa_id"]
            let threadUserID = context?["user_id"] ?? thread["user_id"]
            for (i, m) in thread["messages"]!.elements.enumerated() {
                guard WebhookRules.checkMessage(m) == nil else { n.counts.badRecords += 1; continue }
                messageCount += 1
                let outbound = m["to"]?.nonEmptyString != nil || isBusiness(m["from"])
                var position = HistoryPosition(phase: phase, chunkOrder: chunkOrder, thread: t, message: i)
                position.username = context?["username"]?.nonEmptyString
                position.countryCode = context?["country_code"]?.nonEmptyString
                // The thread names its user; else the user's side of the message does.
                let waID = threadWaID?.nonEmptyString != nil ? threadWaID : (outbound ? m["to"] : m["from"])
                let userID = threadUserID?.nonEmptyString != nil
                    ? threadUserID : (outbound ? m["to_user_id"] : m["from_user_id"])
                emitMessage(m, origin: .history, direction: outbound ? .outbound : .inbound,
                            waID: waID, userID: userID, group: nil, position: position, n: &n, out: &out)
            }
        }
        out[chunkIndex].threadCount = threadCount
        out[chunkIndex].messageCount = messageCount
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

    // MARK: pieces

    struct HistoryPosition {
        var phase: Int
        var chunkOrder: Int
        var thread: Int
        var message: Int
        var username: String?
        var countryCode: String?
    }

    func emitMessage(
        _ m: JSONValue, origin: Origin, direction: Direction, waID: JSONValue?, userID: JSONValue?, group: String?,
        position: HistoryPosition? = nil, asset: Bool = false, n: inout Normalizer, out: inout [Record]
    ) {
        let type = m["type"]!.string!
        var r = record(.message)
        r.wamid = m["id"]!.string
        r.timestamp = WebhookRules.timestamp(m["timestamp"]!)
        r.origin = origin
        r.direction = direction
        r.groupID = group
        if group == nil {
            r.contactWaID = waID?.nonEmptyString
            r.contactUserID = userID?.nonEmptyString
            if let profile = contactItem(waID: r.contactWaID, userID: r.contactUserID) {
                r.username = profile["profile"]?["username"]?.nonEmptyString ?? profile["username"]?.nonEmptyString
                r.countryCode = profile["country_code"]?.nonEmptyString
                if r.contactUserID == nil { r.contactUserID = profile["user_id"]?.nonEmptyString }
                if r.contactWaID == nil { r.contactWaID = profile["wa_id"]?.nonEmptyString }
            }
            if let position {
                r.username = r.username ?? position.username
                r.countryCode = r.countryCode ?? position.countryCode
            }
        }
        if let position {
            r.phase = position.phase
            r.chunkOrder = position.chunkOrder
            r.threadIndex = position.thread
            r.messageIndex = position.message
        }
        r.historyAsset = asset
        r.status = m["history_context"]?["status"]?.string?.lowercased()
        r.errors = m["errors"].flatMap { $0.isArray && $0.count > 0 ? RawJSON($0) : nil }

        if type == "edit" || type == "revoke" {
            let change = m[dynamicKey: type]!
            r.kind = type == "edit" ? .edit : .revoke
            r.originalMessageID = change["original_message_id"]!.string
            r.type = type
            if type == "edit", let inner = change["message"], inner.isObject {
                let innerType = inner["type"]?.nonEmptyString
                r.type = innerType ?? "edit"
                if let innerType, let content = inner[dynamicKey: innerType] {
                    r.content = RawJSON(content)
                    r.body = Self.body(type: innerType, content: content)
                }
                r.replyTo = inner["context"]?["id"]?.string
                r.extra = remainder(inner, excluding: ["type"], dynamic: innerType)
            }
            // Keys of the edit message itself and of its new message are both kept:
            // the new message's under "edit_message" when both have some.
            let outer = remainder(m, excluding: Self.mappedKeys(group: group), dynamic: type)
            if let outer, let inner = r.extra {
                var combined = outer.bytes
                combined.removeLast()
                combined.append(contentsOf: #","edit_message":"#.utf8)
                combined.append(contentsOf: inner.bytes)
                combined.append(UInt8(ascii: "}"))
                r.extra = RawJSON(combined)
            } else if r.extra == nil {
                r.extra = outer
            }
            out.append(r)
            // Validation judges the errors items of every message, edits and revokes too:
            // they become records here as well, or a bad one is counted twice across stages.
            if let errors = m["errors"] {
                emitErrors(errors, wamid: r.wamid, timestamp: r.timestamp, n: &n, out: &out)
            }
            return
        }

        r.type = type
        if !knownMessageTypes.contains(type) { n.counts.unknownTypes[type, default: 0] += 1 }
        if let content = m[dynamicKey: type], !content.isNull {
            r.content = RawJSON(content)
            r.body = Self.body(type: type, content: content)
        }
        r.replyTo = m["context"]?["id"]?.string
        r.extra = remainder(m, excluding: Self.mappedKeys(group: group), dynamic: type, dropHistoryStatus: true)
        let messageIndex = out.count
        out.append(r)

        if let errors = m["errors"] {
            emitErrors(errors, wamid: out[messageIndex].wamid, timestamp: out[messageIndex].timestamp, n: &n, out: &out)
        }
        if type == "system", let system = m["system"], let systemType = system["type"]?.string,
            systemType == "user_changed_user_id" || systemType == "user_changed_number"
        {
            var change = record(.userIDChange)
            change.wamid = out[messageIndex].wamid
            change.timestamp = out[messageIndex].timestamp
            change.contactWaID = system["wa_id"]?.nonEmptyString ?? out[messageIndex].contactWaID
            change.contactUserID = system["user_id"]?.nonEmptyString ?? system["new_user_id"]?.nonEmptyString
                ?? out[messageIndex].contactUserID
            change.previousUserID = system["previous_user_id"]?.nonEmptyString
            change.type = systemType
            change.extra = RawJSON(system)
            if change.previousUserID != nil || change.contactUserID != nil { out.append(change) }
        }
    }

    static func mappedKeys(group: String?) -> [StaticString] {
        // A group message keeps its sender in `extra`: the chat is the group, not the sender.
        group == nil
            ? ["id", "timestamp", "type", "errors", "from", "to", "from_user_id", "to_user_id"]
            : ["id", "timestamp", "type", "errors"]
    }

    static func body(type: String, content: JSONValue) -> String? {
        switch type {
        case "text": return content["body"]?.string
        case "image", "video", "document", "audio", "sticker": return content["caption"]?.string
        case "button": return content["text"]?.string
        case "system": return content["body"]?.string
        case "interactive":
            return content["button_reply"]?["title"]?.string ?? content["list_reply"]?["title"]?.string
        case "reaction": return content["emoji"]?.string
        default: return nil
        }
    }

    /// The members of `object` not in `excluding` (nor the dynamic key), as JSON; nil when none.
    func remainder(
        _ object: JSONValue, excluding: [StaticString], dynamic: String? = nil, dropHistoryStatus: Bool = false
    ) -> RawJSON? {
        // Most objects have nothing left over: find out before allocating.
        func kept(_ member: JSONValue.Member) -> Bool {
            for key in excluding where member.keyEquals(key) { return false }
            if let dynamic, equalBytes(member.keyBytes, dynamic) { return false }
            if dropHistoryStatus && member.keyEquals("history_context") && member.value.count == 1
                && member.value["status"] != nil
            {
                return false
            }
            return true
        }
        guard object.members.contains(where: kept) else { return nil }
        var w = JSONWriter(capacity: 128)
        var any = false
        members: for member in object.members {
            for key in excluding where member.keyEquals(key) { continue members }
            if let dynamic, equalBytes(member.keyBytes, dynamic) { continue }
            // history_context holding only a status is fully kept in the status column.
            if dropHistoryStatus && member.keyEquals("history_context") && member.value.count == 1
                && member.value["status"] != nil
            {
                continue
            }
            if !any { w.beginObject() }
            any = true
            w.key(member.keyBytes)
            member.value.write(to: &w)
        }
        guard any else { return nil }
        w.endObject()
        return RawJSON(w.bytes)
    }

    func contactItem(waID: String?, userID: String?) -> JSONValue? {
        guard let contacts else { return nil }
        if let contactIndex { return contactIndex.item(waID: waID, userID: userID) }
        for item in contacts.elements where item.isObject {
            if let waID, let id = item["wa_id"]?.string, id == waID { return item }
            if let userID, let id = item["user_id"]?.string, id == userID { return item }
        }
        // A single contact beside messages of one user is that user.
        if contacts.count == 1, waID == nil, userID == nil { return contacts.elements.first(where: { _ in true }) }
        return nil
    }

    /// The latest time of the messages and statuses this value produced (records from
    /// `start` on), else entry.time: the time of a profile seen beside them. Only good
    /// records made it to `out`, so a rejected message never dates its neighbours.
    func latestTimestamp(_ out: [Record], from start: Int) -> Int64? {
        var latest: Int64?
        for i in start..<out.count {
            switch out[i].kind {
            case .message, .edit, .revoke, .status:
                if let t = out[i].timestamp, t > (latest ?? -1) { latest = t }
            default:
                break
            }
        }
        return latest ?? entryTime
    }

    func emitContacts(timestamp: Int64?, n: inout Normalizer, out: inout [Record]) {
        guard let contacts else { return }
        for c in contacts.elements {
            guard WebhookRules.checkContact(c) == nil else { n.counts.badRecords += 1; continue }
            var r = record(.contact)
            r.action = "profile"
            r.contactWaID = c["wa_id"]?.nonEmptyString
            r.contactUserID = c["user_id"]?.nonEmptyString
            guard r.contactWaID != nil || r.contactUserID != nil else {
                n.counts.skippedItems["contact without wa_id or user_id", default: 0] += 1
                continue
            }
            r.profileName = c["profile"]?["name"]?.string
            r.username = c["profile"]?["username"]?.nonEmptyString ?? c["username"]?.nonEmptyString
            r.countryCode = c["country_code"]?.nonEmptyString
            r.timestamp = timestamp
            r.extra = remainder(c, excluding: ["wa_id", "user_id", "username", "country_code"])
            out.append(r)
        }
    }

    func emitErrors(_ errors: JSONValue?, wamid: String?, timestamp: Int64?, n: inout Normalizer, out: inout [Record]) {
        guard let errors, errors.isArray else { return }
        for e in errors.elements {
            guard WebhookRules.checkError(e) == nil else { n.counts.badRecords += 1; continue }
            var r = errorRecord(.error, e)
            r.wamid = wamid
            r.timestamp = timestamp
            out.append(r)
        }
    }

    func errorRecord(_ kind: RecordKind, _ e: JSONValue) -> Record {
        var r = record(kind)
        r.code = e["code"]!.int64
        r.title = e["title"]?.string
        r.message = e["message"]?.string
        r.details = e["error_data"]?["details"]?.string
        r.extra = remainder(e, excluding: ["code", "title", "message"])
        return r
    }

    func status(_ s: JSONValue) -> Record {
        var r = record(.status)
        r.wamid = s["id"]!.string
        r.status = s["status"]!.string?.lowercased()
        r.timestamp = WebhookRules.timestamp(s["timestamp"]!)
        r.origin = .live
        r.direction = .outbound
        r.recipientID = s["recipient_id"]?.nonEmptyString
        r.recipientUserID = s["recipient_user_id"]?.nonEmptyString
        if s["recipient_type"]?.stringEquals("group") == true {
            r.groupID = r.recipientID
        } else {
            r.contactWaID = r.recipientID
            r.contactUserID = r.recipientUserID
            if let profile = contactItem(waID: r.contactWaID, userID: r.contactUserID) {
                r.username = profile["profile"]?["username"]?.nonEmptyString ?? profile["username"]?.nonEmptyString
                if r.contactUserID == nil { r.contactUserID = profile["user_id"]?.nonEmptyString }
            }
        }
        r.errors = s["errors"].flatMap { $0.isArray && $0.count > 0 ? RawJSON($0) : nil }
        r.extra = remainder(s, excluding: ["id", "status", "timestamp", "recipient_id", "recipient_user_id", "errors"])
        return r
    }
}

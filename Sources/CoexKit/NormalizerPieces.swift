import CoexJSON

/// The pieces every kind of change shares: messages, contacts, errors, statuses, leftover keys.
extension ChangeContext {
    func emitMessage(
        _ m: JSONValue, origin: Origin, direction: Direction, user: Party, group: String?,
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
            r.contactWaID = user.waID
            r.contactUserID = user.userID
            // contacts[] completes the user: the pair it names reaches the store, so a record
            // naming one spelling joins the chat of the other.
            if let profile = contactItem(user) {
                r.username = profile.item["profile"]?["username"]?.nonEmptyString
                    ?? profile.item["username"]?.nonEmptyString
                r.countryCode = profile.item["country_code"]?.nonEmptyString
                if r.contactUserID == nil { r.contactUserID = profile.userID }
                if r.contactWaID == nil { r.contactWaID = profile.waID }
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
            let systemWaID = system["wa_id"]?.nonEmptyString
            change.contactWaID = business.owns(systemWaID) ? out[messageIndex].contactWaID
                : systemWaID ?? out[messageIndex].contactWaID
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
            guard let ids = contactIDs(c) else {
                n.counts.skippedItems["contact of the business's own number", default: 0] += 1
                continue
            }
            var r = record(.contact)
            r.action = "profile"
            r.contactWaID = ids.waID
            r.contactUserID = ids.userID
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
            // recipient_id stays as received; the user is never the business's own number.
            let user = chatUser(expected: Party(waID: r.recipientID, userID: r.recipientUserID), other: Party())
            r.contactWaID = user.waID
            r.contactUserID = user.userID
            if let profile = contactItem(user) {
                r.username = profile.item["profile"]?["username"]?.nonEmptyString
                    ?? profile.item["username"]?.nonEmptyString
                if r.contactUserID == nil { r.contactUserID = profile.userID }
                if r.contactWaID == nil { r.contactWaID = profile.waID }
            }
        }
        r.errors = s["errors"].flatMap { $0.isArray && $0.count > 0 ? RawJSON($0) : nil }
        r.extra = remainder(s, excluding: ["id", "status", "timestamp", "recipient_id", "recipient_user_id", "errors"])
        return r
    }
}

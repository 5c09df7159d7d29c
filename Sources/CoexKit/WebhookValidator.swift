import CoexJSON

/// A record of a line that breaks the rules while the rest of the line may be good.
public struct BadRecord: Sendable, Equatable {
    /// JSON path of the record, e.g. `$.entry[0].changes[0].value.messages[1]`.
    public var path: String
    public var reason: String
}

/// The outcome of checking one webhook body.
public enum Verdict: Sendable, Equatable {
    /// The line passes; `dropped` records (possibly none) are rejected on their own.
    case valid(dropped: [BadRecord])
    /// Nothing of the line can be used.
    case rejected(reason: String, path: String?)
}

/// Checks that a body is a well-formed webhook: the envelope (`object`, `entry`,
/// `changes`) and, for the fields coex processes, every record in them.
public enum WebhookValidator {
    /// The checks on the body itself, before any entry: nil when they pass.
    public static func checkEnvelope(_ root: JSONValue) -> String? {
        guard root.isObject else { return "body must be a JSON object, not \(root.kind.name)" }
        guard let object = root["object"] else { return "body has no \"object\"" }
        guard object.stringEquals("whatsapp_business_account") else {
            return "\"object\" must be \"whatsapp_business_account\", not \(object.jsonString)"
        }
        guard let entries = root["entry"], entries.isArray else {
            return "body has no array \"entry\" (\(WebhookRules.describe(root["entry"])))"
        }
        return nil
    }

    public static func check(_ root: JSONValue) -> Verdict {
        if let reason = checkEnvelope(root) { return .rejected(reason: reason, path: nil) }
        let entries = root["entry"]!
        var walk = Walk()
        for (e, entry) in entries.elements.enumerated() {
            if let reason = WebhookRules.checkEntry(entry) {
                walk.bad("$.entry[\(e)]", reason)
                continue
            }
            for (c, change) in entry["changes"]!.elements.enumerated() {
                let path = "$.entry[\(e)].changes[\(c)]"
                if let reason = WebhookRules.checkChange(change) {
                    walk.bad(path, reason)
                    continue
                }
                walk.checkValue(change["value"]!, field: WebhookField(change["field"]!), path: path + ".value")
            }
        }
        if walk.dropped.isEmpty { return .valid(dropped: []) }
        if walk.good > 0 { return .valid(dropped: walk.dropped) }
        let first = walk.dropped[0]
        if walk.dropped.count == 1 { return .rejected(reason: first.reason, path: first.path) }
        let more = " (and \(walk.dropped.count - 1) more bad records)"
        return .rejected(reason: "\(first.path): \(first.reason)\(more)", path: nil)
    }

    struct Walk {
        var dropped: [BadRecord] = []
        /// Good records (or good record-less changes) seen: a line with none left is rejected whole.
        var good = 0

        mutating func bad(_ path: String, _ reason: String) {
            dropped.append(BadRecord(path: path, reason: reason))
        }

        /// `counts`: whether good items keep the line alive. Profiles in `contacts`
        /// only describe the users of the messages beside them, so they do not.
        mutating func each(
            _ value: JSONValue, _ key: StaticString, _ path: String, counts: Bool = true,
            _ check: (JSONValue) -> String?
        ) {
            guard let array = value[key], array.isArray else { return }
            for (i, item) in array.elements.enumerated() {
                if let reason = check(item) { bad("\(path).\(key)[\(i)]", reason) } else if counts { good += 1 }
            }
        }

        /// Messages, and each message's `errors` items as records of their own: a bad
        /// error item is rejected while its message goes on.
        mutating func messages(_ value: JSONValue, _ key: StaticString, _ path: String) {
            guard let array = value[key], array.isArray else { return }
            for (i, item) in array.elements.enumerated() {
                let itemPath = "\(path).\(key)[\(i)]"
                if let reason = WebhookRules.checkMessage(item) {
                    bad(itemPath, reason)
                    continue
                }
                good += 1
                each(item, "errors", itemPath, counts: false, WebhookRules.checkError)
            }
        }

        mutating func checkValue(_ value: JSONValue, field: WebhookField?, path: String) {
            let before = dropped.count
            let goodBefore = good
            switch field {
            case .messages:
                messages(value, "messages", path)
                each(value, "statuses", path, WebhookRules.checkStatus)
                each(value, "contacts", path, counts: false, WebhookRules.checkContact)
                each(value, "errors", path, WebhookRules.checkError)
            case .smbMessageEchoes:
                messages(value, "message_echoes", path)
                each(value, "contacts", path, counts: false, WebhookRules.checkContact)
                each(value, "errors", path, WebhookRules.checkError)
            case .history:
                if let history = value["history"], history.isArray {
                    for (h, item) in history.elements.enumerated() {
                        checkHistoryItem(item, path: "\(path).history[\(h)]")
                    }
                }
                messages(value, "messages", path)
                messages(value, "message_echoes", path)
                each(value, "contacts", path, counts: false, WebhookRules.checkContact)
                each(value, "errors", path, WebhookRules.checkError)
            case .smbAppStateSync:
                each(value, "state_sync", path, WebhookRules.checkStateSync)
            case .accountUpdate, .userIDUpdate, nil:
                break
            }
            // A change with nothing wrong counts as good even when it holds no records.
            if dropped.count == before && good == goodBefore { good += 1 }
        }

        mutating func checkHistoryItem(_ item: JSONValue, path: String) {
            if let reason = WebhookRules.checkHistoryItem(item) {
                bad(path, reason)
                return
            }
            good += 1
            each(item, "errors", path, WebhookRules.checkError)
            guard let threads = item["threads"], threads.isArray else { return }
            for (t, thread) in threads.elements.enumerated() {
                let threadPath = "\(path).threads[\(t)]"
                if let reason = WebhookRules.checkThread(thread) {
                    bad(threadPath, reason)
                    continue
                }
                messages(thread, "messages", threadPath)
            }
        }
    }
}

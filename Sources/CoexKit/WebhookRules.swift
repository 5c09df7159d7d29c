import CoexJSON

/// The webhook fields coex turns into records; any other field is valid and skipped.
public enum WebhookField: String, Sendable, CaseIterable {
    case messages
    case history
    case smbMessageEchoes = "smb_message_echoes"
    case smbAppStateSync = "smb_app_state_sync"
    case accountUpdate = "account_update"
    case userIDUpdate = "user_id_update"

    init?(_ value: JSONValue) {
        guard let bytes = value.stringBytes else { return nil }
        switch bytes.count {
        case 8 where value.stringEquals("messages"): self = .messages
        case 7 where value.stringEquals("history"): self = .history
        case 18 where value.stringEquals("smb_message_echoes"): self = .smbMessageEchoes
        case 18 where value.stringEquals("smb_app_state_sync"): self = .smbAppStateSync
        case 14 where value.stringEquals("account_update"): self = .accountUpdate
        case 14 where value.stringEquals("user_id_update"): self = .userIDUpdate
        default: return nil
        }
    }
}

/// Message types of the Cloud API whose content object, when present, must be an object.
/// Other types are passed through as they come.
let knownMessageTypes: Set<String> = [
    "text", "image", "video", "audio", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "unsupported", "media_placeholder",
    "edit", "revoke", "request_welcome",
]

/// Shape checks shared by validation and normalization, one function per record
/// kind. Each returns nil when the record is good, else the reason it is not.
/// Only what the reference marks required is required: unknown keys and values
/// are never a reason.
public enum WebhookRules {
    /// Integer seconds from an integer or a digit string; nil when neither.
    public static func timestamp(_ value: JSONValue) -> Int64? {
        if let n = value.int64 { return n >= 0 ? n : nil }
        guard let bytes = value.stringBytes, !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var result: Int64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            result = result * 10 + Int64(byte - 0x30)
        }
        return result
    }

    /// A WABA id becomes a file name: it must not be able to escape the output folder.
    public static func unsafeFileNameReason(_ id: String) -> String? {
        if id.isEmpty { return "is empty" }
        if id == "." || id == ".." { return "is \"\(id)\"" }
        if id.utf8.contains(UInt8(ascii: "/")) { return "contains \"/\"" }
        if id.utf8.contains(0) { return "contains a NUL byte" }
        return nil
    }

    static func describe(_ value: JSONValue?) -> String {
        guard let value else { return "missing" }
        let name = value.kind.name
        return (name.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + name
    }

    static func requireString(_ object: JSONValue, _ key: StaticString, what: String, nonEmpty: Bool = true) -> String? {
        guard let value = object[key], let bytes = value.stringBytes else {
            return "\(what) has no string \"\(key)\" (\(describe(object[key])))"
        }
        if nonEmpty && bytes.isEmpty { return "\(what) has an empty \"\(key)\"" }
        return nil
    }

    static func optionalString(_ object: JSONValue, _ key: StaticString, what: String) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        return value.isString ? nil : "\(what) \"\(key)\" must be a string, not \(describe(value))"
    }

    static func requireTimestamp(_ object: JSONValue, _ key: StaticString, what: String) -> String? {
        guard let value = object[key] else { return "\(what) has no \"\(key)\"" }
        return timestamp(value) == nil
            ? "\(what) \"\(key)\" must be integer seconds or a digit string, not \(value.jsonString)" : nil
    }

    static func optionalTimestamp(_ object: JSONValue, _ key: StaticString, what: String) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        return timestamp(value) == nil
            ? "\(what) \"\(key)\" must be integer seconds or a digit string, not \(value.jsonString)" : nil
    }

    static func requireObject(_ object: JSONValue, _ key: StaticString, what: String) -> String? {
        guard let value = object[key], value.isObject else {
            return "\(what) has no object \"\(key)\" (\(describe(object[key])))"
        }
        return nil
    }

    static func optionalArray(_ object: JSONValue, _ key: StaticString, what: String) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        return value.isArray ? nil : "\(what) \"\(key)\" must be an array, not \(describe(value))"
    }

    // MARK: Containers

    public static func checkEntry(_ entry: JSONValue) -> String? {
        guard entry.isObject else { return "entry must be an object, not \(entry.kind.name)" }
        if let reason = requireString(entry, "id", what: "entry", nonEmpty: false) { return reason }
        if let reason = unsafeFileNameReason(entry["id"]!.string!) { return "entry id \(reason)" }
        if let reason = optionalTimestamp(entry, "time", what: "entry") { return reason }
        guard let changes = entry["changes"], changes.isArray else {
            return "entry has no array \"changes\" (\(describe(entry["changes"])))"
        }
        return nil
    }

    /// The change and its value's own members (not the records inside).
    public static func checkChange(_ change: JSONValue) -> String? {
        guard change.isObject else { return "change must be an object, not \(change.kind.name)" }
        if let reason = requireString(change, "field", what: "change") { return reason }
        guard let value = change["value"], value.isObject else {
            return "change has no object \"value\" (\(describe(change["value"])))"
        }
        guard let field = WebhookField(change["field"]!) else { return nil }
        switch field {
        case .messages, .history, .smbMessageEchoes, .smbAppStateSync:
            if let reason = requireObject(value, "metadata", what: "\(field.rawValue) value") { return reason }
            let metadata = value["metadata"]!
            if let reason = requireString(metadata, "phone_number_id", what: "metadata") { return reason }
            if let reason = optionalString(metadata, "display_phone_number", what: "metadata") { return reason }
            for key in arrayKeys(field) {
                if let reason = optionalArray(value, key, what: "\(field.rawValue) value") { return reason }
            }
        case .accountUpdate:
            if let reason = requireString(value, "event", what: "account_update") { return reason }
            if let reason = optionalString(value, "phone_number", what: "account_update") { return reason }
            if let info = value["waba_info"], !info.isNull {
                guard info.isObject else { return "account_update \"waba_info\" must be an object" }
                if let reason = optionalString(info, "waba_id", what: "waba_info") { return reason }
                // An empty waba_id names no business: the entry's id stands (see the normalizer).
                if let id = info["waba_id"]?.nonEmptyString, let reason = unsafeFileNameReason(id) {
                    return "waba_info.waba_id \(reason)"
                }
            }
            if let info = value["disconnection_info"], !info.isNull, !info.isObject {
                return "account_update \"disconnection_info\" must be an object"
            }
        case .userIDUpdate:
            break
        }
        return nil
    }

    static func arrayKeys(_ field: WebhookField) -> [StaticString] {
        switch field {
        case .messages: ["messages", "statuses", "contacts", "errors"]
        case .history: ["history", "messages", "message_echoes", "contacts", "errors"]
        case .smbMessageEchoes: ["message_echoes", "contacts", "errors"]
        case .smbAppStateSync: ["state_sync"]
        case .accountUpdate, .userIDUpdate: []
        }
    }

    // MARK: Records

    /// A message of `messages`, `message_echoes`, a history thread, or a media asset.
    public static func checkMessage(_ message: JSONValue) -> String? {
        guard message.isObject else { return "message must be an object, not \(message.kind.name)" }
        if let reason = requireString(message, "id", what: "message") { return reason }
        if let reason = requireTimestamp(message, "timestamp", what: "message") { return reason }
        if let reason = requireString(message, "type", what: "message") { return reason }
        for key: StaticString in ["from", "to", "from_user_id", "to_user_id"] {
            if let reason = optionalString(message, key, what: "message") { return reason }
        }
        let type = message["type"]!.string!
        if knownMessageTypes.contains(type), let content = message[dynamicKey: type], !content.isNull {
            // A contacts message carries an array of cards; every other known type an object.
            if type == "contacts" {
                if !content.isArray { return "message \"contacts\" must be an array, not \(content.kind.name)" }
            } else if !content.isObject {
                return "message \"\(type)\" must be an object, not \(content.kind.name)"
            }
        }
        if type == "edit" || type == "revoke" {
            guard let change = message[dynamicKey: type], change.isObject else {
                return "\(type) message has no object \"\(type)\""
            }
            if let reason = requireString(change, "original_message_id", what: type) { return reason }
            if type == "edit", let inner = change["message"], !inner.isNull, !inner.isObject {
                return "edit \"message\" must be an object"
            }
        }
        if let context = message["history_context"], !context.isNull {
            guard context.isObject else { return "message \"history_context\" must be an object" }
            if let reason = optionalString(context, "status", what: "history_context") { return reason }
        }
        // Bad items of `errors` are records of their own (see WebhookValidator).
        if let reason = optionalArray(message, "errors", what: "message") { return reason }
        return nil
    }

    /// An optional `errors` array whose items are errors (objects with an integer code).
    static func checkErrors(_ object: JSONValue, what: String) -> String? {
        if let reason = optionalArray(object, "errors", what: what) { return reason }
        guard let errors = object["errors"], errors.isArray else { return nil }
        for (i, error) in errors.elements.enumerated() {
            if let reason = checkError(error) { return "\(what) errors[\(i)]: \(reason)" }
        }
        return nil
    }

    public static func checkStatus(_ status: JSONValue) -> String? {
        guard status.isObject else { return "status must be an object, not \(status.kind.name)" }
        if let reason = requireString(status, "id", what: "status") { return reason }
        if let reason = requireString(status, "status", what: "status") { return reason }
        if let reason = requireTimestamp(status, "timestamp", what: "status") { return reason }
        for key: StaticString in ["recipient_id", "recipient_user_id"] {
            if let reason = optionalString(status, key, what: "status") { return reason }
        }
        if let reason = optionalArray(status, "errors", what: "status") { return reason }
        return nil
    }

    public static func checkContact(_ contact: JSONValue) -> String? {
        guard contact.isObject else { return "contact must be an object, not \(contact.kind.name)" }
        for key: StaticString in ["wa_id", "user_id", "username"] {
            if let reason = optionalString(contact, key, what: "contact") { return reason }
        }
        if let profile = contact["profile"], !profile.isNull {
            guard profile.isObject else { return "contact \"profile\" must be an object" }
            if let reason = optionalString(profile, "name", what: "profile") { return reason }
        }
        return nil
    }

    public static func checkError(_ error: JSONValue) -> String? {
        guard error.isObject else { return "error must be an object, not \(error.kind.name)" }
        guard let code = error["code"], code.int64 != nil else {
            return "error has no integer \"code\" (\(describe(error["code"])))"
        }
        return nil
    }

    /// A `history` item: a chunk (metadata + threads) or a declined-sharing error.
    public static func checkHistoryItem(_ item: JSONValue) -> String? {
        guard item.isObject else { return "history item must be an object, not \(item.kind.name)" }
        if let errors = item["errors"], !errors.isNull {
            guard errors.isArray else { return "history \"errors\" must be an array" }
            if item["metadata"] == nil { return nil }
        }
        guard let metadata = item["metadata"], metadata.isObject else {
            return "history item has neither \"errors\" nor object \"metadata\""
        }
        for key: StaticString in ["phase", "chunk_order", "progress"] {
            guard let value = metadata[key] else { return "history metadata has no \"\(key)\"" }
            guard let n = value.int64 else {
                return "history metadata \"\(key)\" must be an integer, not \(value.jsonString)"
            }
            if n < 0 { return "history metadata \"\(key)\" must not be negative" }
        }
        guard let threads = item["threads"], threads.isArray else {
            return "history chunk has no array \"threads\" (\(describe(item["threads"])))"
        }
        return nil
    }

    public static func checkThread(_ thread: JSONValue) -> String? {
        guard thread.isObject else { return "thread must be an object, not \(thread.kind.name)" }
        if let reason = optionalString(thread, "id", what: "thread") { return reason }
        guard let messages = thread["messages"], messages.isArray else {
            return "thread has no array \"messages\" (\(describe(thread["messages"])))"
        }
        if let context = thread["context"], !context.isNull, !context.isObject {
            return "thread \"context\" must be an object"
        }
        return nil
    }

    public static func checkStateSync(_ item: JSONValue) -> String? {
        guard item.isObject else { return "state_sync item must be an object, not \(item.kind.name)" }
        if let reason = requireString(item, "type", what: "state_sync item") { return reason }
        // Items of other types than contact are not ours to judge: they pass and are counted.
        guard item["type"]!.stringEquals("contact") else { return nil }
        if let reason = requireString(item, "action", what: "state_sync item") { return reason }
        if let metadata = item["metadata"], !metadata.isNull {
            guard metadata.isObject else { return "state_sync \"metadata\" must be an object" }
            if let reason = requireTimestamp(metadata, "timestamp", what: "state_sync metadata") { return reason }
        } else {
            return "state_sync item has no object \"metadata\""
        }
        if let reason = requireObject(item, "contact", what: "state_sync contact item") { return reason }
        let contact = item["contact"]!
        for key: StaticString in ["full_name", "first_name", "phone_number", "user_id", "username"] {
            if let reason = optionalString(contact, key, what: "state_sync contact") { return reason }
        }
        if contact["phone_number"]?.nonEmptyString == nil && contact["user_id"]?.nonEmptyString == nil {
            return "state_sync contact has neither \"phone_number\" nor \"user_id\""
        }
        return nil
    }
}

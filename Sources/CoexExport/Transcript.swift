import CoexJSON

/// The chat a message belongs to, and where its transcript goes in the archive:
/// - a user's chat: `threads/<phone_number_id>/<wa_id>.txt`, or `<user_id>.txt` for a user
///   known only by BSUID (the chat key of docs/schema.md);
/// - a group: `threads/<phone_number_id>/_groups/<group_id>.txt`;
/// - messages naming neither: `threads/<phone_number_id>/_unknown.txt`;
/// - messages without a phone number id: under `threads/_unknown/`.
/// Names are escaped (`FileName.escape`), so no user or group id can produce `_groups`,
/// `_unknown`, a `/` or a non-ASCII byte.
struct ChatKey: Equatable {
    var phoneNumberID: String?
    var contactKey: String?
    var groupID: String?

    var entryPath: String {
        let phone = phoneNumberID.map(FileName.escape) ?? "_unknown"
        if let contactKey { return "threads/\(phone)/\(FileName.escape(contactKey)).txt" }
        if let groupID { return "threads/\(phone)/_groups/\(FileName.escape(groupID)).txt" }
        return "threads/\(phone)/_unknown.txt"
    }
}

enum FileName {
    /// Keeps ASCII letters, digits and `.+=@-_`; every other byte (and a leading `_`, `.`) becomes
    /// `%XX`. Distinct ids give distinct names, and the result is one safe path component.
    static func escape(_ id: String) -> String {
        if id.isEmpty { return "%" }
        var out: [UInt8] = []
        let digits = Array("0123456789ABCDEF".utf8)
        for (i, b) in id.utf8.enumerated() {
            let plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "=") || b == UInt8(ascii: "@") || b == UInt8(ascii: "-")
                || ((b == UInt8(ascii: "_") || b == UInt8(ascii: ".")) && i > 0)
            if plain {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The people of a chat as the transcript header names them.
struct ChatPeople {
    var waID: String?
    var userID: String?
    var fullName: String?
    var profileName: String?
    var username: String?
    var displayPhoneNumber: String?
}

/// One message of a transcript, read from a messages row.
struct TranscriptLine {
    var timestamp: Int64?
    var direction: String?
    var type: String?
    var body: String?
    var reactionEmoji: String?
    var editCount: Int
    var revoked: Bool
    var revokedAt: Int64?
    var origin: String?
    var status: String? = nil
}

extension TranscriptText {
    /// A message sent through the API, known only by its statuses (`extra` of its
    /// messages.ndjson line: the status trail and the pricing):
    /// `2026-01-14T13:00:00Z  business → customer  [sent through the API] read (sent ..., read ...); marketing, billable`.
    static func apiLine(_ m: TranscriptLine, statuses extra: String?, group: Bool) -> String {
        let time = m.timestamp.map(ExportTime.iso) ?? "(no time)           "
        var text = "\(time)  \(group ? "business → group" : "business → customer")  [sent through the API]"
        text += " \(m.status ?? "no status")"
        let parser = JSONParser()
        guard let extra, let value = try? parser.parse(extra) else { return text + "\n" }
        var trail: [String] = []
        if let statuses = value["statuses"] {
            for s in statuses.elements { trail.append(statusStep(s)) }
        }
        if !trail.isEmpty { text += " (" + trail.joined(separator: ", ") + ")" }
        if let pricing = value["pricing"], pricing.isObject {
            var price: [String] = []
            if let category = pricing["category"]?.string { price.append(oneLine(category)) }
            if let billable = pricing["billable"]?.bool { price.append(billable ? "billable" : "not billable") }
            if !price.isEmpty { text += "; " + price.joined(separator: ", ") }
        }
        return text + "\n"
    }

    /// `failed 2026-01-14T15:30:00Z: 131026 Message undeliverable`.
    static func statusStep(_ s: JSONValue) -> String {
        var step = s["status"]?.string ?? "?"
        step += " " + (s["timestamp"]?.int64.map(ExportTime.iso) ?? "(no time)")
        guard let errors = s["errors"], errors.isArray else { return step }
        var codes: [String] = []
        for e in errors.elements {
            var parts: [String] = []
            if let code = e["code"]?.int64 { parts.append(String(code)) }
            if let title = e["title"]?.string { parts.append(title) }
            codes.append(parts.joined(separator: " "))
        }
        return codes.isEmpty ? step : step + ": " + oneLine(codes.joined(separator: "; "))
    }
}

/// One earlier version of an edited message.
struct TranscriptVersion {
    var version: Int
    var editedAt: Int64?
    var type: String?
    var body: String?
}

/// Text of the transcripts (docs/export.md, "Transcripts").
enum TranscriptText {
    static func header(_ chat: ChatKey, _ people: ChatPeople) -> String {
        var text = "WhatsApp chat, exported by coex-export. Times are UTC (ISO-8601).\n"
        text += "Business phone number: \(chat.phoneNumberID ?? "(unknown)")"
        if let display = people.displayPhoneNumber { text += " (\(display))" }
        text += "\n"
        if chat.contactKey != nil {
            var who: [String] = []
            who.append("phone \(people.waID ?? "(unknown)")")
            if let userID = people.userID { who.append("user id \(userID)") }
            if let name = people.fullName { who.append("contact name \"\(oneLine(name))\"") }
            if let name = people.profileName { who.append("profile name \"\(oneLine(name))\"") }
            if let name = people.username { who.append("username \(oneLine(name))") }
            text += "Customer: " + who.joined(separator: ", ") + "\n"
        } else if let group = chat.groupID {
            text += "Group: \(group)\n"
        } else {
            text += "Messages that name no user and no group.\n"
        }
        return text + "\n"
    }

    /// `2026-01-14T19:05:00Z  customer → business  text (edited 2 times)` and, for edits, the
    /// earlier versions indented below it.
    static func line(_ m: TranscriptLine, versions: [TranscriptVersion], group: Bool, redacted: Bool) -> String {
        let time = m.timestamp.map(ExportTime.iso) ?? "(no time)           "
        let who: String
        switch m.direction {
        case "inbound": who = group ? "member → business" : "customer → business"
        case "outbound": who = group ? "business → group" : "business → customer"
        default: who = "\(m.direction ?? "unknown direction")"
        }
        var text = "\(time)  \(who)  "
        text += redacted && m.revoked ? "[deleted]" : content(m.type, m.body, emoji: m.reactionEmoji)
        if m.origin == "history" { text += " (history)" }
        if m.editCount > 0 {
            text += " (edited \(m.editCount == 1 ? "once" : "\(m.editCount) times")"
            if versions.count > 1, let last = versions.last?.editedAt { text += ", last at \(ExportTime.iso(last))" }
            text += ")"
        }
        if m.revoked {
            text += " [deleted by sender" + (m.revokedAt.map { " at \(ExportTime.iso($0))" } ?? "") + "]"
        }
        text += "\n"
        // The last version is the text above; the earlier ones are what it said before.
        let earlier = versions.dropLast()
        if !earlier.isEmpty {
            text += "    earlier versions:\n"
            for v in earlier {
                let when = v.editedAt.map(ExportTime.iso) ?? "(no time)"
                let shown = redacted && m.revoked ? "[deleted]" : content(v.type, v.body, emoji: nil)
                text += "    \(v.version == 0 ? "original" : "edit \(v.version)") \(when)  \(indent(shown))\n"
            }
        }
        return text
    }

    static func content(_ type: String?, _ body: String?, emoji: String?) -> String {
        let kind = type ?? "message"
        if kind == "text", let body { return indent(body) }
        if kind == "reaction", let emoji { return emoji.isEmpty ? "[reaction removed]" : "[reaction \(emoji)]" }
        if let body, !body.isEmpty { return "[\(kind)] " + indent(body) }
        return "[\(kind)]"
    }

    /// Continuation lines of a multi-line text are indented, so every message starts a line with its time.
    static func indent(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = ""
        var lastWasCR = false
        for ch in text.unicodeScalars {
            if ch == "\r" {
                out += "\n    "
                lastWasCR = true
            } else if ch == "\n" {
                if !lastWasCR { out += "\n    " }
                lastWasCR = false
            } else {
                out.unicodeScalars.append(ch)
                lastWasCR = false
            }
        }
        return out
    }

    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }
}

import CoexStore
import CoexJSON

/// The machine-readable report: one JSON object per business, written on one line
/// (NDJSON, so reports of several businesses chain with the other stages). Every key is
/// always present, in the fixed order docs/report.md lists; unknown values are null.
/// Maps keyed by name (types, statuses, codes) are sorted by key; maps keyed by phase
/// list the highest phase first, as coex-order's history report does.
public enum ReportJSON {
    /// The object of one business, without a newline.
    public static func render(_ r: BusinessReport) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        write(r, to: &w)
        return w.bytes
    }

    /// The object followed by a newline: one NDJSON line.
    public static func line(_ r: BusinessReport) -> [UInt8] {
        var bytes = render(r)
        bytes.append(0x0A)
        return bytes
    }

    public static func write(_ r: BusinessReport, to w: inout JSONWriter) {
        w.beginObject()
        w.key("waba_id"); w.string(r.wabaID)
        w.key("database"); w.string(r.path)
        w.key("schema_version"); w.int(r.schemaVersion)

        w.key("phone_numbers"); w.beginArray()
        for p in r.phoneNumbers {
            w.comma(); w.beginObject()
            w.key("phone_number_id"); w.string(p.id)
            w.key("display_phone_number"); optional(p.display, &w)
            w.endObject()
        }
        w.endArray()

        w.key("account"); w.beginObject()
        w.key("state"); w.string(r.account.state.rawValue)
        time("since", r.account.since, &w)
        w.key("events"); w.beginArray()
        for e in r.account.events {
            w.comma(); w.beginObject()
            time("time", e.time, &w)
            w.key("event"); optional(e.event, &w)
            w.key("phone_number"); optional(e.phoneNumber, &w)
            w.key("reason"); optional(e.reason, &w)
            w.key("initiated_by"); optional(e.initiatedBy, &w)
            w.key("owner_business_id"); optional(e.ownerBusinessID, &w)
            w.key("entry_id"); optional(e.entryID, &w)
            w.key("changes_state"); w.bool(e.changesState)
            w.key("state_after"); w.string(e.stateAfter.rawValue)
            w.endObject()
        }
        w.endArray()
        w.endObject()

        w.key("history"); w.beginArray()
        for h in r.history {
            w.comma()
            history(h, &w)
        }
        w.endArray()

        let m = r.messages
        w.key("messages"); w.beginObject()
        w.key("total"); w.int(m.total)
        w.key("by_origin"); w.beginObject()
        for origin in m.origins {
            w.key(origin); w.beginObject()
            for direction in m.directions {
                w.key(direction); w.int(m.count(origin: origin, direction: direction))
            }
            w.endObject()
        }
        w.endObject()
        w.key("by_type"); counts(m.byType, &w)
        w.key("group"); w.int(m.group)
        w.key("unmatched_history_assets"); w.int(m.unmatchedHistoryAssets)
        w.endObject()

        w.key("edits"); w.beginObject()
        w.key("edited_messages"); w.int(r.edits.editedMessages)
        w.key("edits"); w.int(r.edits.edits)
        w.key("versions"); w.int(r.edits.versions)
        w.endObject()

        w.key("revoked_messages"); w.int(r.revokedMessages)

        w.key("pending_changes"); w.beginObject()
        w.key("total"); w.int(r.pendingTotal)
        w.key("by_kind"); counts(r.pendingChanges, &w)
        w.endObject()

        w.key("statuses"); w.beginObject()
        w.key("total"); w.int(r.statuses.total)
        w.key("by_status"); counts(r.statuses.byStatus, &w)
        w.key("messages_without_row"); w.int(r.statuses.messagesWithoutRow)
        w.endObject()

        w.key("errors"); w.beginObject()
        w.key("total"); w.int(r.errors.total)
        w.key("message_errors"); w.int(r.errors.messageErrors)
        w.key("webhook_errors"); w.int(r.errors.webhookErrors)
        w.key("by_code"); counts(r.errors.byCode, &w)
        w.endObject()

        w.key("contacts"); w.beginObject()
        w.key("total"); w.int(r.contacts.total)
        w.key("listed"); w.int(r.contacts.listed)
        w.key("removed"); w.int(r.contacts.removed)
        w.key("never_listed"); w.int(r.contacts.neverListed)
        w.endObject()

        w.key("users"); w.beginObject()
        w.key("total"); w.int(r.users.total)
        w.key("phone_only"); w.int(r.users.phoneOnly)
        w.key("phone_and_bsuid"); w.int(r.users.phoneAndBSUID)
        w.key("bsuid_only"); w.int(r.users.bsuidOnly)
        w.key("user_id_changes"); w.int(r.users.userIDChanges)
        w.key("pairs"); w.int(r.users.pairs)
        w.endObject()

        w.key("time_range")
        if let range = r.timeRange {
            w.beginObject()
            time("first", range.first, &w)
            time("last", range.last, &w)
            w.endObject()
        } else {
            w.null()
        }

        w.key("imports"); w.beginObject()
        w.key("count"); w.int(r.imports.count)
        time("first_time", r.imports.firstTime, &w)
        time("last_time", r.imports.lastTime, &w)
        w.key("last_inputs"); w.beginArray()
        for name in r.imports.lastInputs { w.comma(); w.string(name) }
        w.endArray()
        w.endObject()

        coexistence(r, &w)
        w.endObject()
    }

    static func history(_ h: HistorySync, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("phone_number_id"); w.string(h.phoneNumberID)
        w.key("display_phone_number"); optional(h.displayPhoneNumber, &w)
        w.key("state"); w.string(h.state.rawValue)
        w.key("phases"); w.beginArray()
        for phase in h.phases { w.comma(); w.int(phase) }
        w.endArray()
        w.key("chunks"); w.int(h.chunks)
        w.key("chunks_by_phase"); w.beginObject()
        for (phase, n) in h.chunksByPhase.sorted(by: { $0.key > $1.key }) { w.key(String(phase)); w.int(n) }
        w.endObject()
        w.key("gaps"); w.beginObject()
        for (phase, ranges) in h.gaps.sorted(by: { $0.key > $1.key }) {
            w.key(String(phase)); w.beginArray()
            for range in ranges {
                w.comma(); w.beginArray()
                w.comma(); w.int(range.lowerBound)
                w.comma(); w.int(range.upperBound)
                w.endArray()
            }
            w.endArray()
        }
        w.endObject()
        w.key("missing_chunks"); w.int(h.missingChunks)
        w.key("repeated"); w.beginArray()
        for pair in h.repeated {
            w.comma(); w.beginArray()
            for n in pair { w.comma(); w.int(n) }
            w.endArray()
        }
        w.endArray()
        w.key("progress")
        if let p = h.progress { w.int(p) } else { w.null() }
        w.key("threads"); w.int(h.threads)
        w.key("messages"); w.int(h.messages)
        time("last_chunk_time", h.lastChunkTime, &w)
        w.key("declined"); w.bool(h.declined)
        time("declined_at", h.declinedAt, &w)
        w.key("other_sync_errors"); w.int(h.otherSyncErrors)
        w.endObject()
    }

    /// `name` (Unix seconds) and `name_iso` (ISO-8601 UTC), both null when unknown.
    static func time(_ name: String, _ value: Int64?, _ w: inout JSONWriter) {
        w.key(name)
        if let value { w.int(value) } else { w.null() }
        w.key(name + "_iso")
        if let value { w.string(isoTime(value)) } else { w.null() }
    }

    static func optional(_ value: String?, _ w: inout JSONWriter) {
        if let value { w.string(value) } else { w.null() }
    }

    /// `{"name":count,...}` sorted by name (bytewise).
    static func counts(_ counts: [String: Int], _ w: inout JSONWriter) {
        w.beginObject()
        for (name, n) in counts.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            w.key(name); w.int(n)
        }
        w.endObject()
    }
}

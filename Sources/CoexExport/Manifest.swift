import CoexJSON
import CoexSQLite

/// manifest.json (docs/export.md, "manifest.json"): one JSON object and a newline. It holds
/// nothing that is not a function of the exported rows and the request: no export time.
enum Manifest {
    static let formatVersion = 1

    static func build(
        db: Database, wabaID: String, filter: ExportFilter, contactIDs: [String], summary: ExportSummary,
        timeRange: (first: Int64, last: Int64)?, edited: Int, revoked: Int, members: [StagedMember]
    ) throws -> [UInt8] {
        var w = JSONWriter(capacity: 4096 + members.count * 128)
        w.beginObject()
        w.key("format"); w.string("coex-export")
        w.key("format_version"); w.int(formatVersion)
        w.key("schema_version"); w.int(Int(try db.userVersion))
        w.key("waba_id"); w.string(wabaID)

        w.key("filters")
        w.beginObject()
        time("since", filter.since, &w)
        time("until", filter.until, &w)
        w.key("contacts"); strings(filter.normalizedContacts, &w)
        w.key("contact_ids"); strings(contactIDs, &w)
        w.key("redact_revoked"); w.bool(filter.redactRevoked)
        w.endObject()

        w.key("phone_numbers")
        w.beginArray()
        try db.prepare("SELECT phone_number_id, display_phone_number FROM phone_numbers ORDER BY phone_number_id").forEachRow { r in
            w.beginObject()
            w.key("phone_number_id"); w.string(r.text(at: 0))
            w.key("display_phone_number"); if r.isNull(at: 1) { w.null() } else { w.string(r.text(at: 1)) }
            w.endObject()
        }
        w.endArray()

        w.key("counts")
        w.beginObject()
        w.key("messages"); w.int(summary.messages)
        w.key("api_messages"); w.int(summary.apiMessages)
        w.key("message_versions"); w.int(summary.messageVersions)
        w.key("statuses"); w.int(summary.statuses)
        w.key("contacts"); w.int(summary.contacts)
        w.key("threads"); w.int(summary.threads)
        w.key("edited_messages"); w.int(edited)
        w.key("revoked_messages"); w.int(revoked)
        w.key("pending_changes"); w.int(try count(db, "pending_changes"))
        w.endObject()

        w.key("time_range")
        if let timeRange {
            w.beginObject()
            time("first", timeRange.first, &w)
            time("last", timeRange.last, &w)
            w.endObject()
        } else {
            w.null()
        }

        w.key("imports")
        w.beginArray()
        try db.prepare("""
            SELECT import_id, time, inputs, json_valid(inputs), schema_version, records_in, loaded, rejected, skipped
            FROM imports ORDER BY import_id
            """).forEachRow { r in
            w.beginObject()
            w.key("import_id"); w.int(r.int64(at: 0))
            time("time", r.int64(at: 1), &w)
            w.key("inputs"); if r.int(at: 3) == 1 { w.raw(Array(r.text(at: 2).utf8)) } else { w.string(r.text(at: 2)) }
            w.key("schema_version"); w.int(r.int64(at: 4))
            w.key("records_in"); w.int(r.int64(at: 5))
            w.key("loaded"); w.int(r.int64(at: 6))
            w.key("rejected"); w.int(r.int64(at: 7))
            w.key("skipped"); w.int(r.int64(at: 8))
            w.endObject()
        }
        w.endArray()

        w.key("files")
        w.beginArray()
        for m in members {
            w.beginObject()
            w.key("path"); w.string(m.entryPath)
            w.key("bytes"); w.int(m.bytes)
            w.key("sha256"); w.string(m.sha256)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newline()
        return w.bytes
    }

    /// `"since": 1768348800, "since_utc": "2026-01-14T00:00:00Z"`, or `"since": null`.
    private static func time(_ name: String, _ value: Int64?, _ w: inout JSONWriter) {
        w.key(name)
        guard let value else { w.null(); return }
        w.int(value)
        w.key(name + "_utc")
        w.string(ExportTime.iso(value))
    }

    private static func strings(_ values: [String], _ w: inout JSONWriter) {
        w.beginArray()
        for v in values { w.string(v) }
        w.endArray()
    }

    private static func count(_ db: Database, _ table: String) throws -> Int {
        let s = try db.prepare("SELECT count(*) FROM \(table)")
        return try s.step() ? s.int(at: 0) : 0
    }
}

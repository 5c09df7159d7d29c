import CoexJSON
import CoexSQLite

/// The columns of one table as the export writes them: every column the database has, in
/// table order (so a later schema's columns are exported without code changes), with the
/// JSON columns embedded as JSON.
struct TableColumns {
    let names: [String]
    /// For each JSON column, the result index of its `json_valid` flag.
    let jsonFlag: [Int?]
    /// `a."wamid", a."phone_number_id", ..., json_valid(a."content"), ...`
    let selectList: String

    init(_ table: String, alias: String, json: Set<String>, in db: Database) throws {
        names = try db.prepare("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid").mapRows { $0.text(at: 0) }
        var flags: [Int?] = []
        var select = names.map { "\(alias).\"\($0)\"" }
        for name in names {
            if json.contains(name) {
                flags.append(select.count)
                select.append("json_valid(\(alias).\"\(name)\")")
            } else {
                flags.append(nil)
            }
        }
        jsonFlag = flags
        selectList = select.joined(separator: ", ")
    }

    /// Index of a column in the result, by name.
    func index(_ name: String) -> Int {
        guard let i = names.firstIndex(of: name) else { preconditionFailure("no column \(name)") }
        return i
    }

    /// One NDJSON line: every column by name, NULL as null, integers as numbers, JSON columns
    /// as JSON (a value that is not valid JSON, which coex never writes, as a string).
    func writeJSONLine(_ row: Statement, into w: inout JSONWriter) {
        w.reset()
        w.beginObject()
        for (i, name) in names.enumerated() {
            w.key(name)
            switch row.value(at: i) {
            case .null: w.null()
            case .integer(let v): w.int(v)
            case .real(let v): w.double(v)
            case .blob(let v): w.string(hex(v))
            case .text(let v):
                if let flag = jsonFlag[i], row.int(at: flag) == 1 {
                    // Valid JSON holds line breaks only as whitespace; one record stays one line.
                    w.raw(v.utf8.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
                } else {
                    w.string(v)
                }
            }
        }
        w.endObject()
        w.newline()
    }
}

/// RFC 4180 CSV: comma-separated, CRLF line ends, a field quoted (quotes doubled) when it holds
/// a comma, a quote, CR or LF. NULL is the empty field, integers are written in decimal.
enum CSV {
    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        let needsQuotes = value.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { return value }
        var quoted = "\""
        for ch in value.unicodeScalars {
            if ch == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(ch) }
        }
        return quoted + "\""
    }

    static func text(_ value: SQLiteValue) -> String {
        switch value {
        case .null: return ""
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let v): return v
        case .blob(let v): return hex(v)
        }
    }
}

/// A message sent through the API as a line of messages.ndjson: the columns of `messages`, from
/// the `api_messages` query (alias `a`), with what only statuses know (the trail of statuses,
/// the pricing) in `extra`, where a message's other keys go. Columns statuses cannot tell are
/// NULL; a later schema's columns too.
enum APIExportColumns {
    static func expression(_ name: String) -> String {
        switch name {
        case "wamid", "phone_number_id", "contact_wa_id", "contact_user_id", "group_id", "direction", "origin",
             "status", "timestamp", "source":
            return "a.\"\(name)\""
        case "extra":
            return "json_object('statuses', json(a.trail), 'pricing', json(a.pricing))"
        case "edit_count", "revoked", "history_asset":
            return "0"
        default:
            return "NULL"
        }
    }

    /// The select list matching `columns.selectList` column for column.
    static func selectList(_ columns: TableColumns) -> String {
        var select = columns.names.map(expression)
        for (i, flag) in columns.jsonFlag.enumerated() where flag != nil {
            select.append("json_valid(\(expression(columns.names[i])))")
        }
        return select.joined(separator: ", ")
    }
}

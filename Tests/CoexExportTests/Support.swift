import CoexArchive
import CoexSQLite
import CoexStore
import CoexTestSupport
import Crypto
import Foundation
import Testing

@testable import CoexExport

struct SampleDatabases: Sendable {
    let scratch: TempDir
    let dir: String
    static let A = "102290129340398"  // history, edits, revokes
    static let C = "403958172640285"  // BSUID cases, edits, a revoke

    static let shared: Result<SampleDatabases, any Error> = Result { try SampleDatabases() }
    static func get() throws -> SampleDatabases { try shared.get() }

    init() throws {
        scratch = try TempDir("coex-export-samples")
        dir = scratch.file("db")
        try Tools.bash("coex-validate samples/night1.ndjson samples/night2.ndjson | coex-normalize | coex-dedupe "
            + "| coex-order | coex-apply | coex-load --out-dir \(Tools.quote(dir))")
    }

    func db(_ waba: String) -> String { dir + "/\(waba).sqlite" }
}

/// An archive read back: members in archive order.
struct ReadArchive {
    var paths: [String]
    var data: [String: [UInt8]]

    init(_ path: String) throws {
        let all = try ArchiveReader.readAll(path: path)
        paths = all.map(\.entry.path)
        data = [:]
        for (entry, bytes) in all { data[entry.path] = bytes }
    }

    func text(_ path: String) -> String { String(decoding: data[path] ?? [], as: UTF8.self) }

    var manifest: [String: Any] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: Data(data["manifest.json"] ?? []))
            return try #require(object as? [String: Any])
        }
    }

    /// The lines of an NDJSON member as objects.
    func records(_ path: String) throws -> [[String: Any]] {
        try text(path).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The database snapshot, written out so SQLite can open it.
    func snapshot(in dir: TempDir) throws -> Database {
        let path = dir.file("snapshot-\(UUID().uuidString).sqlite")
        try Data(data["database.sqlite"] ?? []).write(to: URL(fileURLWithPath: path))
        return try Database(path: path, mode: .readOnly)
    }
}

func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func strings(_ db: Database, _ sql: String) throws -> [String] {
    try db.prepare(sql).mapRows { row in
        (0..<row.columnCount).map { row.isNull(at: $0) ? "NULL" : row.text(at: $0) }.joined(separator: "|")
    }
}

/// A small business database written by hand through the real schema, holding the cases the
/// samples lack: names with commas, quotes and line breaks, a message edited twice and then
/// revoked, a BSUID-only user, a group, a message naming no chat, messages at the filter bounds.
enum HandDatabase {
    static let phone = "111"
    static let alice = "15550001"
    static let bob = "15550002"
    static let bobBSUID = "US.77"
    static let bsuidOnly = "US.42"

    /// wamid, contact_wa_id, contact_user_id, group_id, direction, type, body, timestamp, seq, edit_count, revoked, revoked_at
    static let messages: [(String, String?, String?, String?, String, String, String?, Int64, Int64, Int, Int, Int64?)] = [
        ("w.alice.1", alice, nil, nil, "inbound", "text", "Hello, \"world\"", 1000, 1, 0, 0, nil),
        ("w.alice.2", alice, nil, nil, "outbound", "text", "v2 final", 1100, 2, 2, 0, nil),
        ("w.alice.3", alice, nil, nil, "inbound", "text", "secret plans", 1250, 3, 1, 1, 1300),
        ("w.us42.1", nil, bsuidOnly, nil, "inbound", "text", "line one\nline two", 2000, 4, 0, 0, nil),
        ("w.group.1", nil, nil, "grp/1+x", "inbound", "text", "group hello", 2100, 5, 0, 0, nil),
        ("w.none.1", nil, nil, nil, "outbound", "image", nil, 2200, 6, 0, 0, nil),
        ("w.bob.1", bob, nil, nil, "inbound", "text", "bob before until", 2999, 7, 0, 0, nil),
        ("w.bob.2", bob, nil, nil, "inbound", "text", "bob at until", 3000, 8, 0, 0, nil),
    ]

    static func create(at path: String) throws {
        let db = try Database(path: path)
        try db.execute("BEGIN")
        try StoreSchema.migrate(db)
        let insert = try db.prepare("""
            INSERT INTO messages (wamid, phone_number_id, contact_wa_id, contact_user_id, group_id, direction, origin,
                type, body, content, timestamp, seq, edit_count, revoked, revoked_at, source, arrival)
            VALUES (?, '111', ?, ?, ?, ?, 'live', ?, ?, ?, ?, ?, ?, ?, ?, 'hand:1', ?)
            """)
        for m in messages {
            let content: SQLiteValue = m.6.map { .text("{\"body\":\(jsonString($0))}") } ?? .text("{\"id\":\"media-1\"}")
            try insert.execute([
                .text(m.0), m.1.map { .text($0) } ?? .null, m.2.map { .text($0) } ?? .null, m.3.map { .text($0) } ?? .null,
                .text(m.4), .text(m.5), m.6.map { .text($0) } ?? .null, content, .integer(m.7), .integer(m.8),
                .integer(Int64(m.9)), .integer(Int64(m.10)), m.11.map { .integer($0) } ?? .null, .integer(m.8),
            ])
        }
        try db.execute("""
            INSERT INTO message_versions (wamid, version, edit_wamid, edited_at, type, body, content, direction, origin, source) VALUES
                ('w.alice.2', 0, NULL, 1100, 'text', 'v0 first', '{"body":"v0 first"}', 'outbound', 'live', 'hand:2'),
                ('w.alice.2', 1, 'e.1', 1150, 'text', 'v1 second', '{"body":"v1 second"}', 'outbound', 'echo', 'hand:3'),
                ('w.alice.2', 2, 'e.2', 1200, 'text', 'v2 final', '{"body":"v2 final"}', 'outbound', 'echo', 'hand:4'),
                ('w.alice.3', 0, NULL, 1250, 'text', 'secret draft', '{"body":"secret draft"}', 'inbound', 'live', 'hand:5'),
                ('w.alice.3', 1, 'e.3', 1260, 'text', 'secret plans', '{"body":"secret plans"}', 'inbound', 'live', 'hand:6');
            INSERT INTO statuses (wamid, status, timestamp, phone_number_id, recipient_id, contact_wa_id, extra, source) VALUES
                ('w.alice.1', 'read', 1005, '111', '15550001', '15550001', '{"pricing":{"billable":true}}', 'hand:7'),
                ('w.bob.2', 'delivered', 3001, '111', '15550002', '15550002', NULL, 'hand:8'),
                ('api.1', 'sent', 2500, '111', '15550002', '15550002', NULL, 'hand:9');
            INSERT INTO contacts (phone_number_id, contact_key, wa_id, user_id, full_name, first_name, profile_name, updated_at) VALUES
                ('111', '15550001', '15550001', NULL, 'Smith, Alice "Al"', 'Alice', 'Alice', 10),
                ('111', '15550002', '15550002', NULL, 'Bob' || char(10) || 'Builder', 'Bob', NULL, 11),
                ('111', 'US.42', NULL, 'US.42', NULL, NULL, 'Plain', 12);
            INSERT INTO user_ids VALUES ('15550002', 'US.77', 10, 20);
            INSERT INTO phone_numbers VALUES ('111', '+1 555 000');
            INSERT INTO imports VALUES (1, 1700000000, '["hand.ndjson"]', 1, 20, 20, 0, 0, '{}');
            """)
        try db.execute("COMMIT")
    }

    static func jsonString(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed]), as: UTF8.self)
    }
}

/// Exports `db` into `dir` and reads the archive back.
func export(_ db: String, to dir: TempDir, name: String = "out.tar.zst", filter: ExportFilter = ExportFilter())
    throws -> (summary: ExportSummary, archive: ReadArchive, path: String)
{
    let path = dir.file(name)
    let summary = try ArchiveExport.run(databasePath: db, archivePath: path, options: ExportOptions(filter: filter))
    return (summary, try ReadArchive(path), path)
}

import CoexSQLite
import CoexTestSupport
import Foundation
import Testing

@testable import CoexStore

extension Tools {
    /// A sample capture as a path relative to the repository, where commands run: records
    /// then carry `source` "samples/NAME" as samples/README.md names them.
    static func sample(_ name: String) -> String { "samples/\(name)" }

    /// validate | normalize | dedupe | order | apply of `captures` into `state`.
    static func pipe(_ captures: [String], to state: String) throws {
        let files = captures.map(quote).joined(separator: " ")
        try bash("coex-validate \(files) | coex-normalize | coex-dedupe | coex-order | coex-apply > \(quote(state))")
    }

    /// The whole pipe of `captures` (one import), loaded into `dir`.
    @discardableResult
    static func importNight(_ captures: [String], into dir: String, scratch: TempDir, options: String = "") throws -> String {
        let state = scratch.file("state-\(UUID().uuidString).ndjson")
        try pipe(captures, to: state)
        return try bash("coex-load \(options) --out-dir \(quote(dir)) \(quote(state))")
    }
}

/// Every table but `imports`, as sorted text rows: what must be equal between two ways
/// of loading the same captures. The search index is compared by its rows (text, wamid,
/// version), not by the bytes of its shadow tables: their segments depend on the order in
/// which rows were indexed (one night after another, or all at once).
func dump(_ path: String) throws -> [String: [String]] {
    let db = try Database(path: path, mode: .readOnly)
    var result: [String: [String]] = [:]
    let tables = try db.prepare("""
        SELECT name FROM sqlite_schema WHERE type = 'table' AND name != 'imports'
            AND name NOT LIKE 'message\\_search\\_%' ESCAPE '\\' ORDER BY name
        """).mapRows { $0.text(at: 0) }
    for table in tables {
        result[table] = try db.prepare("SELECT * FROM \(table)").mapRows { row in
            (0..<row.columnCount).map { describe(row.value(at: $0)) }.joined(separator: "|")
        }.sorted()
    }
    return result
}

func describe(_ v: SQLiteValue) -> String {
    switch v {
    case .null: "NULL"
    case .integer(let n): String(n)
    case .real(let d): String(d)
    case .text(let s): s
    case .blob(let b): "blob:\(b.count)"
    }
}

/// The databases of a directory by file name.
func databases(in dir: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".sqlite") }.sorted()
}

/// Rows of one query as dictionaries of column name → text (NULL as nil).
func rows(_ path: String, _ query: String) throws -> [[String: String]] {
    let db = try Database(path: path, mode: .readOnly)
    return try db.prepare(query).mapRows { row in
        var r: [String: String] = [:]
        for i in 0..<row.columnCount where !row.isNull(at: i) {
            r[row.columnName(at: i)] = describe(row.value(at: i))
        }
        return r
    }
}

func scalar(_ path: String, _ query: String) throws -> String? {
    try rows(path, query).first?.values.first
}

import CoexSQLite

/// Rows of one table held back and written in key order, a batch at a time: records bring
/// them in another order (facts in arrival order, pending changes by the message they
/// change), and a B-tree filled in key order grows at one end instead of splitting pages
/// all over. Rows of one key keep the order they came in, so the table's own conflict rule
/// (first wins, earlier wins) decides as it would have row by row.
struct KeyOrderedRows {
    let statement: Statement
    private var rows: [(key: String, order: Int, values: [SQLiteValue])] = []
    private var added = 0

    /// Rows held before a batch is written: bounded memory whatever the input.
    static let batch = 50_000

    init(_ statement: Statement) {
        self.statement = statement
    }

    var isEmpty: Bool { rows.isEmpty }

    /// Holds a row; true when the batch is full and should be written.
    mutating func add(key: String, _ values: [SQLiteValue]) -> Bool {
        rows.append((key, added, values))
        added += 1
        return rows.count >= Self.batch
    }

    /// Writes the rows held, in key order; `written` is called with the row count each one
    /// changed.
    mutating func write(_ written: (Int) -> Void = { _ in }) throws(StoreError) {
        guard !rows.isEmpty else { return }
        rows.sort { $0.key != $1.key ? $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) : $0.order < $1.order }
        for row in rows {
            try statement.run(row.values)
            written(statement.database.changes)
        }
        rows.removeAll(keepingCapacity: true)
    }
}

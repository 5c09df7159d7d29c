import CoexKit
import CoexSQLite

/// Binds the rows written most (new messages, statuses) straight from their record, in the
/// column order of `Rows.messageColumns` / `Rows.statusColumns` and with the same values as
/// `Rows.messageValues` / `Rows.statusValues`: no array of values, no String made of a JSON
/// value or of the provenance per row. The merge paths, which compare rows, keep the arrays.
struct RowBinder {
    /// "source:line" is put together here, once per row, without a String.
    private var source: [UInt8] = []

    mutating func bindMessage(
        _ r: Record, arrival: Int64, seq: Int64?, status: String?, to st: Statement
    ) throws(SQLiteError) {
        try Self.text(r.wamid, 1, st)
        try Self.text(r.phoneNumberID, 2, st)
        try Self.text(r.contactWaID, 3, st)
        try Self.text(r.contactUserID, 4, st)
        try Self.text(r.username, 5, st)
        try Self.text(r.countryCode, 6, st)
        try Self.text(r.groupID, 7, st)
        try Self.text(r.direction?.rawValue, 8, st)
        try Self.text(r.origin?.rawValue, 9, st)
        try Self.text(r.type, 10, st)
        try Self.text(r.body, 11, st)
        try Self.json(r.content, 12, st)
        try Self.json(r.extra, 13, st)
        try Self.text(r.replyTo, 14, st)
        try Self.json(r.errors, 15, st)
        try Self.int(r.timestamp, 16, st)
        try Self.text(r.status, 17, st)
        try st.bind(Int64(r.editCount ?? 0), at: 18)
        try st.bind(Int64(r.revoked ? 1 : 0), at: 19)
        try Self.int(r.revokedAt, 20, st)
        try Self.int(r.phase.map(Int64.init), 21, st)
        try Self.int(r.chunkOrder.map(Int64.init), 22, st)
        try Self.int(r.threadIndex.map(Int64.init), 23, st)
        try Self.int(r.messageIndex.map(Int64.init), 24, st)
        try st.bind(Int64(r.historyAsset ? 1 : 0), at: 25)
        try bindSource(r, 26, st)
        try st.bind(arrival, at: 27)
        try Self.int(seq, 28, st)
        try Self.text(status, 29, st)
    }

    mutating func bindStatus(_ s: Record, to st: Statement) throws(SQLiteError) {
        try Self.text(s.wamid, 1, st)
        try Self.text(s.status, 2, st)
        try Self.int(s.timestamp, 3, st)
        try Self.text(s.phoneNumberID, 4, st)
        try Self.text(s.recipientID, 5, st)
        try Self.text(s.recipientUserID, 6, st)
        try Self.text(s.contactWaID, 7, st)
        try Self.text(s.contactUserID, 8, st)
        try Self.text(s.username, 9, st)
        try Self.text(s.groupID, 10, st)
        try Self.json(s.errors, 11, st)
        try Self.json(s.extra, 12, st)
        try bindSource(s, 13, st)
    }

    private mutating func bindSource(_ r: Record, _ index: Int, _ st: Statement) throws(SQLiteError) {
        source.removeAll(keepingCapacity: true)
        source.append(contentsOf: r.source.utf8)
        source.append(UInt8(ascii: ":"))
        // A line number is a small string: no allocation.
        source.append(contentsOf: String(r.line).utf8)
        let rc: SQLiteError? = source.withUnsafeBytes { bytes in
            do throws(SQLiteError) {
                try st.bind(utf8: bytes, at: index)
                return nil
            } catch {
                return error
            }
        }
        if let rc { throw rc }
    }

    @inline(__always)
    private static func text(_ value: String?, _ index: Int, _ st: Statement) throws(SQLiteError) {
        if let value { try st.bind(value, at: index) } else { try st.bindNull(at: index) }
    }

    @inline(__always)
    private static func int(_ value: Int64?, _ index: Int, _ st: Statement) throws(SQLiteError) {
        if let value { try st.bind(value, at: index) } else { try st.bindNull(at: index) }
    }

    /// JSON as the record carried it: its bytes are the text (the parser checked they are UTF-8).
    @inline(__always)
    private static func json(_ value: RawJSON?, _ index: Int, _ st: Statement) throws(SQLiteError) {
        guard let value else { return try st.bindNull(at: index) }
        let failure: SQLiteError? = value.bytes.withUnsafeBytes { bytes in
            do throws(SQLiteError) {
                try st.bind(utf8: bytes, at: index)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}

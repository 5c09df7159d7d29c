import CoexKit

/// The order coex-load feeds records to a business's load, as a byte key compared with
/// memcmp: business, then a class, then the table key inside the class.
///
/// - Within a business, messages come in wamid order (each message followed by its
///   versions), statuses in (wamid, status) order: inserting keys in order keeps each
///   B-tree growing at one end, about 3x faster than random order here.
/// - The earliest status of a (wamid, status) comes first (then the first to arrive),
///   so the first one seen is the one kept.
/// - Statuses come before messages, so that a message is written once, with the status
///   its statuses (stored and new) give it.
/// - Edits and revokes come grouped by the message they change, after every message,
///   so that a change whose message is in the same input finds it.
public enum LoadOrder {
    /// Classes in the order they are loaded.
    enum Class: UInt8 {
        case contact = 1
        case status = 2
        case message = 3
        case change = 4
        case other = 5
    }

    static func recordClass(_ kind: RecordKind) -> Class {
        switch kind {
        case .contact: .contact
        case .message, .messageVersion: .message
        case .status: .status
        case .edit, .revoke: .change
        default: .other
        }
    }

    /// The key of `record`; `ordinal` (its position in the input) keeps the input order
    /// among records with equal keys.
    public static func key(of record: Record, ordinal: Int, into key: inout [UInt8]) {
        var waba = record.wabaID
        var wamid = record.wamid
        var status = record.status
        var original = record.originalMessageID
        waba.withUTF8 { waba in
            withBytes(&wamid) { wamid in
                withBytes(&status) { status in
                    withBytes(&original) { original in
                        build(&key, waba: UnsafeRawBufferPointer(waba), kind: record.kind, wamid: wamid, status: status,
                              original: original, version: record.version.map(Int64.init), timestamp: record.timestamp,
                              arrival: record.arrival.map(Int64.init), ordinal: ordinal)
                    }
                }
            }
        }
    }

    private static func withBytes<T>(_ text: inout String?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
        guard text != nil else { return body(nil) }
        return text!.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// Signed values in an order memcmp keeps (sign bit flipped, big-endian).
    static func append(_ key: inout [UInt8], _ value: Int64) {
        withUnsafeBytes(of: (UInt64(bitPattern: value) ^ (1 << 63)).bigEndian) { key.append(contentsOf: $0) }
    }

    /// Where the part after the business id starts (past its NUL terminator), for the sorter.
    public static func prefixStart(_ key: UnsafeRawBufferPointer) -> Int {
        guard let nul = key.firstIndex(of: 0) else { return key.count }
        return nul + 1
    }

    /// The business id of a key.
    public static func business(_ key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: key[..<max(0, prefixStart(key) - 1)])
    }

    /// Records sorted into load order, in memory (for callers that hold them all).
    public static func sorted(_ records: [Record]) -> [Record] {
        var keyed: [([UInt8], Int)] = []
        keyed.reserveCapacity(records.count)
        var key: [UInt8] = []
        for (i, r) in records.enumerated() {
            Self.key(of: r, ordinal: i, into: &key)
            keyed.append((key, i))
        }
        keyed.sort { $0.0.lexicographicallyPrecedes($1.0) }
        return keyed.map { records[$0.1] }
    }
}

/// Records coex-load cannot store: they become rejects (with the line) in the command.
public enum LoadCheck {
    /// Nil when the record can be loaded, else why not.
    public static func problem(with r: Record) -> String? {
        guard BusinessFile.isSafe(r.wabaID) else {
            return StoreError.unsafeBusinessID(r.wabaID).description
        }
        switch r.kind {
        case .message, .status, .messageVersion:
            guard nonEmpty(r.wamid) != nil else { return "\(r.kind.rawValue) record has no wamid" }
            if r.kind == .status, nonEmpty(r.status) == nil { return "status record has no status" }
            if r.kind == .messageVersion, r.version == nil { return "message_version record has no version" }
        case .edit, .revoke:
            guard nonEmpty(r.wamid) != nil else { return "\(r.kind.rawValue) record has no wamid" }
            guard nonEmpty(r.originalMessageID) != nil else {
                return "\(r.kind.rawValue) record has no original_message_id"
            }
        case .contact:
            guard nonEmpty(r.phoneNumberID) != nil else { return "contact record has no phone_number_id" }
            guard nonEmpty(r.contactWaID) != nil || nonEmpty(r.contactUserID) != nil else {
                return "contact record has neither contact_wa_id nor contact_user_id"
            }
        case .userIDChange, .accountEvent, .historyChunk, .syncError, .error:
            break
        }
        return nil
    }

    /// Records that are valid but not stored, and why: coex-order's history reports are
    /// derived from the chunks of one run, and the database keeps the chunks themselves.
    public static func skipReason(_ r: Record) -> String? {
        if r.kind == .historyChunk, r.phase == nil, r.chunkOrder == nil {
            return "history report"
        }
        return nil
    }
}

extension LoadOrder {
    /// The key of `key(of:ordinal:into:)` from the record's members (nil: absent).
    static func build(
        _ key: inout [UInt8], waba: UnsafeRawBufferPointer, kind: RecordKind, wamid: UnsafeRawBufferPointer?,
        status: UnsafeRawBufferPointer?, original: UnsafeRawBufferPointer?, version: Int64?, timestamp: Int64?,
        arrival: Int64?, ordinal: Int
    ) {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: waba)
        key.append(0)
        let cls = recordClass(kind)
        key.append(cls.rawValue)
        switch cls {
        case .message:
            if let wamid { key.append(contentsOf: wamid) }
            key.append(0)
            key.append(kind == .message ? 0 : 1)
            append(&key, version ?? 0)
        case .status:
            if let wamid { key.append(contentsOf: wamid) }
            key.append(0)
            if let status { key.append(contentsOf: status) }
            key.append(0)
            append(&key, timestamp ?? Int64.max)
            append(&key, arrival ?? Int64(Int.max))
        case .change:
            if let original { key.append(contentsOf: original) }
            key.append(0)
        case .contact, .other:
            append(&key, arrival ?? Int64(Int.max))
        }
        append(&key, Int64(ordinal))
    }
}

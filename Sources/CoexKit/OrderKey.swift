import CoexJSON

/// The total order coex-order sorts records into, as bytes that compare with
/// memcmp (so that sorted runs on disk merge without decoding keys):
/// business, then history chunks by (phone number, phase, chunk_order), then
/// messages in chat order, then every other fact by time.
///
/// Chat order is ORDER BY timestamp, seq. Equal timestamps are common (several
/// messages in one second), so seq breaks ties: history before live, older
/// phases first (phase 2 holds days 90-180, phase 0 the last day), then
/// chunk_order and the place in the chunk, then arrival order for live messages.
/// History position alone is wrong across phases, and wamids carry no order.
public enum OrderKey {
    /// The key of a record; `key` is cleared and reused.
    public static func of(_ r: Record, into key: inout [UInt8]) {
        build(&key, waba: r.wabaID.utf8, kind: r.kind, phone: (r.phoneNumberID ?? "").utf8, phase: r.phase,
              chunkOrder: r.chunkOrder, timestamp: r.timestamp, isHistory: r.origin == .history,
              threadIndex: r.threadIndex, messageIndex: r.messageIndex, arrival: r.arrival)
    }

    static func build<W: Collection<UInt8>, P: Collection<UInt8>>(
        _ key: inout [UInt8], waba: W, kind: RecordKind, phone: P, phase: Int?, chunkOrder: Int?,
        timestamp: Int64?, isHistory: Bool, threadIndex: Int?, messageIndex: Int?, arrival: Int?
    ) {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: waba)
        key.append(0)
        switch kind {
        case .historyChunk:
            key.append(0)
            key.append(contentsOf: phone)
            key.append(0)
            append(&key, UInt64(max(0, phase ?? 0)))
            append(&key, UInt64(max(0, chunkOrder ?? 0)))
        case .message:
            key.append(1)
            append(&key, UInt64(max(0, timestamp ?? 0)))
            let positioned = isHistory && phase != nil
            key.append(positioned ? 0 : 1)
            append(&key, UInt64(Int.max - max(0, phase ?? 0)))
            append(&key, UInt64(max(0, chunkOrder ?? 0)))
            append(&key, UInt64(max(0, threadIndex ?? 0)))
            append(&key, UInt64(max(0, messageIndex ?? 0)))
        default:
            key.append(2)
            append(&key, UInt64(max(0, timestamp ?? 0)))
            key.append(UInt8(kind.ordinal))
        }
        append(&key, UInt64(max(0, arrival ?? 0)))
    }

    static func append(_ key: inout [UInt8], _ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { key.append(contentsOf: $0) }
    }

    /// Where the part after the business id starts (past its NUL terminator).
    public static func prefixStart(_ key: UnsafeRawBufferPointer) -> Int {
        guard let nul = key.firstIndex(of: 0) else { return key.count }
        return nul + 1
    }

    /// The business id and the class byte (0 chunk, 1 message, 2 other) of a key.
    static func parts(_ key: UnsafeRawBufferPointer) -> (waba: UnsafeRawBufferPointer, kind: UInt8)? {
        let start = prefixStart(key)
        guard start > 0, start < key.count else { return nil }
        return (UnsafeRawBufferPointer(rebasing: key[..<(start - 1)]), key[start])
    }
}


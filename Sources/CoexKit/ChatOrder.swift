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
    public static func of(_ r: Record) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(64)
        key.append(contentsOf: r.wabaID.utf8)
        key.append(0)
        switch r.kind {
        case .historyChunk:
            key.append(0)
            key.append(contentsOf: (r.phoneNumberID ?? "").utf8)
            key.append(0)
            append(&key, r.phase.map { UInt64($0) } ?? 0)
            append(&key, r.chunkOrder.map { UInt64($0) } ?? 0)
        case .message:
            key.append(1)
            append(&key, UInt64(r.timestamp ?? 0))
            let isHistory = r.origin == .history && r.phase != nil
            key.append(isHistory ? 0 : 1)
            append(&key, UInt64(Int.max - (r.phase ?? 0)))
            append(&key, UInt64(r.chunkOrder ?? 0))
            append(&key, UInt64(r.threadIndex ?? 0))
            append(&key, UInt64(r.messageIndex ?? 0))
        default:
            key.append(2)
            append(&key, UInt64(r.timestamp ?? 0))
            key.append(UInt8(r.kind.ordinal))
        }
        append(&key, UInt64(r.arrival ?? 0))
        return key
    }

    static func append(_ key: inout [UInt8], _ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { key.append(contentsOf: $0) }
    }
}

/// What coex-order learned of one phone number's history sync.
public struct HistoryProgress: Sendable, Equatable {
    public var wabaID: String
    public var phoneNumberID: String
    /// chunk_order values seen, by phase.
    public var chunks: [Int: [Int]] = [:]
    /// Chunks seen more than once, as (phase, chunk_order).
    public var repeated: [(phase: Int, chunkOrder: Int)] = []
    public var lastProgress = 0

    public static func == (a: Self, b: Self) -> Bool {
        a.wabaID == b.wabaID && a.phoneNumberID == b.phoneNumberID && a.chunks == b.chunks
            && a.lastProgress == b.lastProgress && a.repeated.map { [$0.phase, $0.chunkOrder] }
            == b.repeated.map { [$0.phase, $0.chunkOrder] }
    }

    /// Missing chunk_order numbers per phase. Chunks count from 1, unless a chunk 0
    /// was seen; chunks past the highest one seen cannot be told missing.
    public var gaps: [Int: [Int]] {
        var result: [Int: [Int]] = [:]
        for (phase, orders) in chunks {
            let present = Set(orders)
            guard let high = orders.max() else { continue }
            let low = present.contains(0) ? 0 : 1
            let missing = (low...max(low, high)).filter { !present.contains($0) }
            if !missing.isEmpty { result[phase] = missing }
        }
        return result
    }

    /// The report as a history_chunk record without phase or chunk_order.
    public func record() -> Record {
        var r = Record(kind: .historyChunk, wabaID: wabaID, provenance: Provenance(source: "coex-order", line: 0))
        r.phoneNumberID = phoneNumberID
        r.progress = lastProgress
        r.threadCount = nil
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("report"); w.bool(true)
        w.key("phases"); w.beginArray()
        for phase in chunks.keys.sorted(by: >) { w.comma(); w.int(phase) }
        w.endArray()
        w.key("chunks"); w.int(chunks.values.reduce(0) { $0 + $1.count })
        w.key("gaps"); w.beginObject()
        for (phase, missing) in gaps.sorted(by: { $0.key > $1.key }) {
            w.key(String(phase)); w.beginArray()
            for order in missing { w.comma(); w.int(order) }
            w.endArray()
        }
        w.endObject()
        w.key("repeated"); w.beginArray()
        for chunk in repeated {
            w.comma(); w.beginArray(); w.comma(); w.int(chunk.phase); w.comma(); w.int(chunk.chunkOrder); w.endArray()
        }
        w.endArray()
        w.endObject()
        r.extra = RawJSON(w.bytes)
        return r
    }

    /// "15550783881 (106540352242922): phases 2,1,0, 12 chunks, progress 100, gaps phase 1: 1; repeated 1".
    public var summary: String {
        let phases = chunks.keys.sorted(by: >).map(String.init).joined(separator: ",")
        var text = "\(phoneNumberID): phases \(phases), \(chunks.values.reduce(0) { $0 + $1.count }) chunks, progress \(lastProgress)"
        let gaps = self.gaps
        if gaps.isEmpty {
            text += ", no gaps"
        } else {
            text += ", gaps " + gaps.sorted { $0.key > $1.key }
                .map { "phase \($0.key): \($0.value.map(String.init).joined(separator: ","))" }.joined(separator: "; ")
        }
        if !repeated.isEmpty { text += ", \(repeated.count) repeated" }
        return text
    }
}

/// The streaming end of coex-order: takes records in `OrderKey` order, numbers
/// messages (seq, per business) and reports each phone number's history sync
/// after its last chunk.
public struct ChatSequencer {
    private var business: String?
    private var seq = 0
    private var history: HistoryProgress?
    private var lastChunk: (phase: Int, chunkOrder: Int)?
    public private(set) var reports: [HistoryProgress] = []

    public init() {}

    public mutating func process(_ record: Record, into out: inout [Record]) {
        if record.wabaID != business {
            flushHistory(into: &out)
            business = record.wabaID
            seq = 0
        }
        var record = record
        switch record.kind {
        case .historyChunk:
            let phone = record.phoneNumberID ?? ""
            if history?.phoneNumberID != phone {
                flushHistory(into: &out)
                history = HistoryProgress(wabaID: record.wabaID, phoneNumberID: phone)
                lastChunk = nil
            }
            if let phase = record.phase, let order = record.chunkOrder {
                if let last = lastChunk, last.phase == phase, last.chunkOrder == order {
                    history!.repeated.append((phase, order))
                } else {
                    history!.chunks[phase, default: []].append(order)
                }
                lastChunk = (phase, order)
            }
            history!.lastProgress = max(history!.lastProgress, record.progress ?? 0)
        case .message:
            flushHistory(into: &out)
            seq += 1
            record.seq = seq
        default:
            flushHistory(into: &out)
        }
        out.append(record)
    }

    public mutating func finish(into out: inout [Record]) {
        flushHistory(into: &out)
    }

    private mutating func flushHistory(into out: inout [Record]) {
        guard let done = history else { return }
        out.append(done.record())
        reports.append(done)
        history = nil
        lastChunk = nil
    }
}

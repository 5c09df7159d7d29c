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
    /// The key of a record read in place; `key` is cleared and reused.
    public static func of(_ view: RecordView, into key: inout [UInt8]) {
        let v = view.value
        func int(_ name: StaticString) -> Int? { v[name]?.int64.map(Int.init) }
        let phone = v["phone_number_id"]?.stringBytes
        build(&key, waba: view.wabaID, kind: view.kind, phone: phone ?? UnsafeRawBufferPointer(start: nil, count: 0),
              phase: int("phase"), chunkOrder: int("chunk_order"), timestamp: v["timestamp"]?.int64,
              isHistory: v["origin"]?.stringEquals("history") ?? false, threadIndex: int("thread_index"),
              messageIndex: int("message_index"), arrival: int("arrival"))
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

    /// Missing chunk_order numbers per phase, as ranges [from, to]. Chunks count from 1,
    /// unless a chunk 0 was seen; chunks past the highest one seen cannot be told missing.
    /// Ranges, not numbers: a chunk_order far out (any int64 is valid) must not cost a
    /// list as long as the gap.
    public var gaps: [Int: [ClosedRange<Int>]] {
        var result: [Int: [ClosedRange<Int>]] = [:]
        for (phase, orders) in chunks {
            let present = Array(Set(orders)).sorted()
            guard let first = present.first else { continue }
            var missing: [ClosedRange<Int>] = []
            var expected = present.contains(0) ? 0 : 1
            for order in present where order >= expected {
                if order > expected { missing.append(expected...(order - 1)) }
                expected = order == Int.max ? order : order + 1
            }
            _ = first
            if !missing.isEmpty { result[phase] = missing }
        }
        return result
    }

    /// How many chunk_order numbers the gaps leave out.
    public var missingCount: Int {
        gaps.values.joined().reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range.count)
            return overflow ? Int.max : sum
        }
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
            for range in missing {
                w.comma(); w.beginArray(); w.comma(); w.int(range.lowerBound); w.comma(); w.int(range.upperBound)
                w.endArray()
            }
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
            let shown = gaps.sorted { $0.key > $1.key }.map { phase, ranges in
                let listed = ranges.prefix(10).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                let more = ranges.count > 10 ? ", \(ranges.count - 10) more gaps" : ""
                return "phase \(phase): \(listed.joined(separator: ","))\(more)"
            }
            text += ", gaps " + shown.joined(separator: "; ") + " (\(missingCount) \(missingCount == 1 ? "chunk" : "chunks") missing)"
        }
        if !repeated.isEmpty { text += ", \(repeated.count) repeated" }
        return text
    }
}

/// The streaming end of coex-order: takes record lines in `OrderKey` order,
/// numbers messages (`seq`, per business, added to the line) and reports each
/// phone number's history sync after its last chunk. Other lines pass byte for byte.
public struct ChatSequencer {
    private var business: [UInt8]?
    private var seq = 0
    private var history: HistoryProgress?
    private var lastChunk: (phase: Int, chunkOrder: Int)?
    public private(set) var reports: [HistoryProgress] = []
    public private(set) var linesOut = 0
    private let parser = JSONParser()
    private var writer = JSONWriter(capacity: 1024)

    public init() {}

    /// `key` is the line's `OrderKey`: it tells the business and the class without parsing;
    /// only history chunks and messages already numbered are parsed.
    public mutating func process(_ line: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard let (waba, kind) = OrderKey.parts(key) else {
            emit(line, into: &out)
            return
        }
        if business.map({ !$0.elementsEqual(waba) }) ?? true {
            flushHistory(into: &out)
            business = Array(waba)
            seq = 0
        }
        switch kind {
        case 0:
            guard let value = try? parser.parse(line), value["phase"] != nil else {
                // A report of an earlier run: this run writes its own.
                return
            }
            let phone = value["phone_number_id"]?.string ?? ""
            if history?.phoneNumberID != phone {
                flushHistory(into: &out)
                history = HistoryProgress(wabaID: String(decoding: waba, as: UTF8.self), phoneNumberID: phone)
                lastChunk = nil
            }
            if let phase = value["phase"]?.int64.map(Int.init), let order = value["chunk_order"]?.int64.map(Int.init) {
                if let last = lastChunk, last.phase == phase, last.chunkOrder == order {
                    history!.repeated.append((phase, order))
                } else {
                    history!.chunks[phase, default: []].append(order)
                }
                lastChunk = (phase, order)
            }
            history!.lastProgress = max(history!.lastProgress, value["progress"]?.int64.map(Int.init) ?? 0)
            emit(line, into: &out)
        case 1:
            flushHistory(into: &out)
            seq += 1
            Self.setSeq(seq, in: line, to: &out)
            out.append(0x0A)
            linesOut += 1
        default:
            flushHistory(into: &out)
            emit(line, into: &out)
        }
    }

    /// `line` with `"seq":N` as its last member: replaced when the line ends with
    /// one (coex writes seq last), added before the closing brace otherwise.
    public static func setSeq(_ seq: Int, in line: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var end = line.count
        while end > 0 && (line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D) { end -= 1 }
        var digits = end - 1
        while digits > 0 && line[digits - 1] >= 0x30 && line[digits - 1] <= 0x39 { digits -= 1 }
        let marker = Array(#","seq":"#.utf8)
        if digits >= marker.count, digits < end - 1,
            UnsafeRawBufferPointer(rebasing: line[(digits - marker.count)..<digits]).elementsEqual(marker)
        {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[0..<digits]))
            out.append(contentsOf: String(seq).utf8)
            out.append(UInt8(ascii: "}"))
            return
        }
        RecordLine.append(line, member: "seq", value: seq, to: &out)
    }

    public mutating func finish(into out: inout [UInt8]) {
        flushHistory(into: &out)
    }

    private mutating func emit(_ line: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(contentsOf: line)
        out.append(0x0A)
        linesOut += 1
    }

    private mutating func flushHistory(into out: inout [UInt8]) {
        guard let done = history else { return }
        writer.reset()
        done.record().write(to: &writer)
        writer.newline()
        out.append(contentsOf: writer.bytes)
        linesOut += 1
        reports.append(done)
        history = nil
        lastChunk = nil
    }

}

import CoexJSON

/// What coex-order learned of one phone number's history sync.
public struct HistoryProgress: Sendable, Equatable {
    public var wabaID: String
    public var phoneNumberID: String
    /// chunk_order values seen, by phase.
    public var chunks: [Int: [Int]] = [:]
    /// Chunks seen more than once, as (phase, chunk_order).
    public var repeated: [(phase: Int, chunkOrder: Int)] = []
    public var lastProgress = 0

    /// The `source` of a report record: the stage that makes it.
    public static let reportSource = "coex-order"

    public init(wabaID: String, phoneNumberID: String) {
        self.wabaID = wabaID
        self.phoneNumberID = phoneNumberID
    }

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
        var r = Record(kind: .historyChunk, wabaID: wabaID, provenance: Provenance(source: Self.reportSource, line: 0))
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


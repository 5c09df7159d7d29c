import Testing

@testable import CoexKit

@Suite("History progress reports")
struct HistoryProgressTests {
    @Test("gaps are ranges, counted from 1 unless a chunk 0 was seen")
    func gapRanges() {
        var p = HistoryProgress(wabaID: "1", phoneNumberID: "2")
        p.chunks = [0: [1, 2, 5, 9], 1: [0, 3], 2: [1, 2, 3]]
        #expect(p.gaps[0] == [3...4, 6...8])
        #expect(p.gaps[1] == [1...2])
        #expect(p.gaps[2] == nil)
        #expect(p.missingCount == 7)
        #expect(p.summary.contains("gaps phase 1: 1-2; phase 0: 3-4,6-8 (7 chunks missing)"))
    }

    @Test("a chunk_order at the end of int64 costs one range, not a list as long as the gap")
    func farChunkOrder() {
        var p = HistoryProgress(wabaID: "1", phoneNumberID: "2")
        p.chunks = [0: [1, Int.max]]
        #expect(p.gaps[0] == [2...(Int.max - 1)])
        #expect(p.missingCount == Int.max - 2)
        let extra = p.record().extra?.text ?? ""
        #expect(extra.contains(#""gaps":{"0":[[2,9223372036854775806]]}"#))
    }
}

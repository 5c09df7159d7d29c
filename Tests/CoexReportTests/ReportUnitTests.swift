import CoexStore
@testable import CoexKit
import Foundation
import Testing

@testable import CoexReport

@Suite struct HistorySyncTests {
    typealias Chunk = HistorySync.Chunk

    @Test func gapsPerPhaseAsRanges() {
        let chunks = [
            Chunk(phase: 1, chunkOrder: 0, progress: 40), Chunk(phase: 1, chunkOrder: 2, progress: 50),
            Chunk(phase: 1, chunkOrder: 5, progress: 60), Chunk(phase: 1, chunkOrder: 6, progress: 70),
            Chunk(phase: 0, chunkOrder: 1, progress: 10), Chunk(phase: 0, chunkOrder: 2, progress: 20),
            Chunk(phase: 0, chunkOrder: 3, progress: 30), Chunk(phase: 2, chunkOrder: 2, progress: 100),
        ]
        let h = HistorySync(phoneNumberID: "p", chunks: chunks, errors: [])
        #expect(h.phases == [2, 1, 0])
        #expect(h.chunks == 8)
        #expect(h.chunksByPhase == [2: 1, 1: 4, 0: 3])
        // Phase 1 counts from 0 (a chunk 0 was seen): 1 and 3-4 are missing. Phase 0 counts
        // from 1: nothing missing. Phase 2 counts from 1: chunk 1 is missing.
        #expect(h.gaps == [1: [1...1, 3...4], 2: [1...1]])
        #expect(h.missingChunks == 4)
        #expect(h.progress == 100)
        #expect(h.state == .incomplete)
        #expect(h.repeated.isEmpty)
    }

    /// The same rule as coex-order's history report (docs/records.md), computed by CoexKit.
    @Test(arguments: [[0, 1, 2], [1, 3, 4, 9], [0, 0, 5], [2], [7, 3, 3, 1], [0, Int.max], [Int.max - 1, Int.max]])
    func gapsAgreeWithCoexOrder(_ orders: [Int]) {
        var progress = HistoryProgress(wabaID: "w", phoneNumberID: "p")
        progress.chunks = [1: orders]
        let h = HistorySync(phoneNumberID: "p", chunks: orders.map { Chunk(phase: 1, chunkOrder: $0, progress: 1) },
                            errors: [])
        #expect(h.gaps == progress.gaps)
        #expect(h.missingChunks == progress.missingCount)
    }

    @Test func completeOnlyWithProgress100AndNoGaps() {
        func state(_ chunks: [(Int, Int, Int)], errors: [HistorySync.SyncError] = []) -> HistorySync.State {
            HistorySync(phoneNumberID: "p", chunks: chunks.map { Chunk(phase: $0.0, chunkOrder: $0.1, progress: $0.2) },
                        errors: errors).state
        }
        #expect(state([(0, 0, 30), (0, 1, 60), (1, 0, 80), (2, 0, 100)]) == .complete)
        // Progress 100 arrived before a lower one: the highest counts.
        #expect(state([(0, 0, 30), (2, 1, 100), (2, 0, 95)]) == .complete)
        #expect(state([(0, 0, 30), (0, 1, 60), (1, 0, 95)]) == .incomplete)
        #expect(state([(0, 0, 30), (0, 2, 60), (2, 0, 100)]) == .incomplete)
        #expect(state([]) == .none)
        #expect(state([], errors: [.init(code: 2_593_109, timestamp: nil)]) == .declined)
        // Another sync error is counted, not a decline.
        let other = HistorySync(phoneNumberID: "p", chunks: [], errors: [.init(code: 131_000, timestamp: 5)])
        #expect(other.state == .none && other.otherSyncErrors == 1 && !other.declined)
    }

    @Test func declinedKeepsTheEarliestTime() {
        let h = HistorySync(phoneNumberID: "p", chunks: [], errors: [
            .init(code: 2_593_109, timestamp: 300), .init(code: 2_593_109, timestamp: 200), .init(code: 2_593_109, timestamp: nil),
        ])
        #expect(h.declined && h.declinedAt == 200 && h.otherSyncErrors == 0)
    }

    @Test func repeatedChunksAndTotals() {
        let h = HistorySync(phoneNumberID: "p", chunks: [
            Chunk(phase: 0, chunkOrder: 1, progress: 10, threads: 2, messages: 5, time: 50),
            Chunk(phase: 0, chunkOrder: 1, progress: 12, threads: 2, messages: 6, time: 70),
            Chunk(phase: 2, chunkOrder: 3, progress: 90, threads: 1, messages: 1),
            Chunk(phase: 2, chunkOrder: 3, progress: 91, threads: 1, messages: 1),
            Chunk(phase: nil, chunkOrder: nil, progress: nil, threads: nil, messages: 4),
        ], errors: [])
        #expect(h.repeated == [[2, 3], [0, 1]])
        #expect(h.chunks == 5 && h.threads == 6 && h.messages == 17)
        #expect(h.lastChunkTime == 70)
        #expect(h.progress == 91)
        #expect(h.gaps == [2: [1...2]])
    }
}

@Suite struct AccountStateTests {
    func event(_ name: String?, _ time: Int64?, _ id: String) -> AccountEvent {
        AccountEvent(event: name, time: time, factID: id)
    }

    @Test func reconnectedAfterPartnerRemoved() {
        let a = AccountSummary(events: [event("ACCOUNT_RECONNECTED", 200, "b"), event("PARTNER_REMOVED", 100, "a")])
        #expect(a.state == .reconnected)
        #expect(a.since == 200)
        #expect(a.events.map(\.event) == ["PARTNER_REMOVED", "ACCOUNT_RECONNECTED"])
        #expect(a.events.map(\.stateAfter) == [.partnerRemoved, .reconnected])
    }

    /// Time decides, never arrival: offboarded one second after reconnected (the reference
    /// pair, which arrives offboarded first) is offboarded, in either input order.
    @Test func timeOrderNotArrivalOrder() {
        let events = [event("ACCOUNT_OFFBOARDED", 1_768_477_204, "x"), event("ACCOUNT_RECONNECTED", 1_768_477_203, "y"),
                      event("PARTNER_ADDED", 1_768_421_100, "z")]
        let forward = AccountSummary(events: events)
        let backward = AccountSummary(events: events.reversed())
        #expect(forward == backward)
        #expect(forward.state == .offboarded && forward.since == 1_768_477_204)
        #expect(forward.events.map(\.stateAfter) == [.connected, .reconnected, .offboarded])
    }

    @Test func unknownEventsAreListedButChangeNothing() {
        let a = AccountSummary(events: [event("PARTNER_REMOVED", 100, "a"), event("ACCOUNT_VIOLATION", 300, "b"),
                                        event("MM_LITE_TERMS_SIGNED", 50, "c")])
        #expect(a.state == .partnerRemoved && a.since == 100)
        #expect(a.events.map(\.event) == ["MM_LITE_TERMS_SIGNED", "PARTNER_REMOVED", "ACCOUNT_VIOLATION"])
        #expect(a.events.map(\.changesState) == [false, true, false])
        #expect(a.events.map(\.stateAfter) == [.connected, .partnerRemoved, .partnerRemoved])
    }

    @Test func noEventMeansConnected() {
        let a = AccountSummary(events: [])
        #expect(a.state == .connected && a.since == nil && a.events.isEmpty)
        let b = AccountSummary(events: [event("ACCOUNT_UPDATE", 10, "a")])
        #expect(b.state == .connected && b.since == nil)
    }

    /// At equal times a disconnection wins; an event without a time is older than any with one.
    @Test func tiesAndMissingTimes() {
        let tie = AccountSummary(events: [event("PARTNER_REMOVED", 100, "b"), event("ACCOUNT_RECONNECTED", 100, "a")])
        #expect(tie.state == .partnerRemoved)
        let untimed = AccountSummary(events: [event("ACCOUNT_RECONNECTED", nil, "a"), event("PARTNER_REMOVED", 100, "b")])
        #expect(untimed.state == .partnerRemoved)
        #expect(untimed.events.map(\.time) == [nil, 100])
        let onlyUntimed = AccountSummary(events: [event("ACCOUNT_OFFBOARDED", nil, "a")])
        #expect(onlyUntimed.state == .offboarded && onlyUntimed.since == nil)
    }

    @Test func stateNames() {
        #expect(ConnectionState.allCases.map(\.rawValue) == ["connected", "partner_removed", "offboarded", "reconnected"])
        #expect(ConnectionState.partnerRemoved.words == "partner removed")
        #expect(ConnectionState(event: "PARTNER_ADDED") == .connected)
        #expect(ConnectionState(event: "partner_removed") == nil)
    }
}

@Suite struct ISOTimeTests {
    @Test func knownTimes() {
        #expect(isoTime(0) == "1970-01-01T00:00:00Z")
        #expect(isoTime(-1) == "1969-12-31T23:59:59Z")
        #expect(isoTime(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(isoTime(1_768_521_000) == "2026-01-15T23:50:00Z")
        #expect(isoTime(1_739_212_624) == "2025-02-10T18:37:04Z")
        #expect(isoTime(4_102_444_800) == "2100-01-01T00:00:00Z")
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let t = Int64(x >> 30) % 8_000_000_000 - 2_000_000_000
            #expect(isoTime(t) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(t))), "\(t)")
        }
    }
}

@Suite struct TextLayoutTests {
    @Test func tablesAlignColumnsAndTrimTrailingSpaces() {
        var lines = Lines()
        lines.table(["name", "n", "note"], [["a", "1", ""], ["longer", "1234", "x"]], right: [1])
        #expect(lines.text == """
                name       n  note
                a          1
                longer  1234  x

            """)
        var fields = Lines()
        fields.field("users", "3")
        fields.field("a label longer than the column", "v")
        #expect(fields.text == "  users             3\n  a label longer than the column v\n")
    }

    @Test func gapsText() {
        #expect(ReportText.gapsText([:]) == "-")
        #expect(ReportText.gapsText([0: [2...2], 1: [1...1, 3...5]]) == "phase 1: 1,3-5; phase 0: 2")
        let many = (0..<12).map { ($0 * 3)...($0 * 3) }
        #expect(ReportText.gapsText([2: many]) == "phase 2: 0,3,6,9,12,15,18,21,24,27 and 2 more")
    }
}

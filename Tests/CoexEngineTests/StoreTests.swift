import CoexEngine
import CoexIO
import CoexKit
import CoexTestSupport
import Testing

@Suite("ExternalSorter and RecordSpool")
struct StoreTests {
    /// Keys with many equal ones, so that stability shows.
    func entries(_ n: Int) -> [(key: [UInt8], line: [UInt8])] {
        (0..<n).map { i in (Array("k\((i * 7919) % 97)".utf8), Array("line \(i) ".utf8) + Array(repeating: 0x41, count: 200)) }
    }

    func sorted(_ sorter: ExternalSorter, _ input: [(key: [UInt8], line: [UInt8])]) throws -> [[UInt8]] {
        for e in input {
            try e.key.withBytes { k throws(IOError) in try e.line.withBytes { l throws(IOError) in try sorter.add(key: k, line: l) } }
        }
        var out: [[UInt8]] = []
        try sorter.finish { _, line throws(IOError) in out.append(Array(line)) }
        return out
    }

    @Test("sorts by key, equal keys in input order, in memory and through spilled runs")
    func stableAndSpilling() throws {
        let dir = try TempDir()
        let input = entries(5000)
        let expected = input.enumerated().sorted { a, b in
            a.element.key.lexicographicallyPrecedes(b.element.key) || (a.element.key == b.element.key && a.offset < b.offset)
        }.map(\.element.line)
        let roomy = ExternalSorter(stage: "t", settings(1 << 30, in: dir.path))
        #expect(try sorted(roomy, input) == expected)
        #expect(roomy.spilledRuns == 0)
        let small = ExternalSorter(stage: "t", settings(64 << 10, in: dir.path))
        #expect(try sorted(small, input) == expected)
        #expect(small.spilledRuns > 2)
    }

    @Test("a spool gives its records back in order, in memory and from its file")
    func spoolReplays() throws {
        let dir = try TempDir()
        // More than a store's own floor (256 KB), so that the small budget spills.
        let records = generatedRecords(businesses: 2, messages: 1500)
        for budget in [1 << 30, 64 << 10] {
            let spool = RecordSpool(stage: .apply, settings(budget, in: dir.path))
            for r in records { try spool.append(r) }
            #expect(spool.spilled == (budget < 1 << 20))
            var back: [Record] = []
            try spool.replay { r throws(IOError) in back.append(r) }
            #expect(back == records)
        }
    }

    @Test("the pool: a store that cannot take more spills, and gives back what it took")
    func pool() throws {
        let pool = MemoryPool(capacity: 10 << 20)
        #expect(pool.take(8 << 20))
        #expect(!pool.take(4 << 20))
        pool.give(8 << 20)
        #expect(pool.inUse == 0)
    }
}

@Suite("ChatSequencer")
struct ChatSequencerTests {
    @Test("seq restarts per business; a report follows each phone number's chunks")
    func numbering() throws {
        var sequencer = ChatSequencer()
        let out = CollectingOutlet()
        var chunk = Record(kind: .historyChunk, wabaID: "100", provenance: Provenance(source: "t", line: 1))
        chunk.phoneNumberID = "555"
        chunk.phase = 0
        chunk.chunkOrder = 1
        try sequencer.process(chunk, out)
        try sequencer.process(message("wamid.A", at: 1), out)
        try sequencer.process(message("wamid.B", at: 2), out)
        try sequencer.process(message("wamid.C", waba: "200", at: 1), out)
        try sequencer.finish(out)
        #expect(out.records.map(\.kind) == [.historyChunk, .historyChunk, .message, .message, .message])
        #expect(out.records[1].extra?.text.contains("\"report\":true") == true)
        #expect(out.records.compactMap(\.seq) == [1, 2, 1])
        #expect(sequencer.reports.count == 1)
        #expect(sequencer.recordsOut == 5)
    }
}

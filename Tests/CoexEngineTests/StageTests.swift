import CoexEngine
import CoexKit
import CoexTestSupport
import Testing

@Suite("DedupeStage")
struct DedupeStageTests {
    @Test("a redelivered message is kept once, with the arrival of its first sighting")
    func redelivery() throws {
        let dir = try TempDir()
        let a = message("wamid.A", at: 10, line: 1)
        let b = message("wamid.B", at: 11, line: 2)
        var again = a
        again.line = 7
        let out = try run(DedupeStage(settings(64 << 20, in: dir.path)), [a, b, again])
        #expect(out.records.map(\.wamid) == ["wamid.A", "wamid.B"])
        #expect(out.records.map(\.arrival) == [0, 1])
        #expect(out.records[0].line == 1)
    }

    @Test("a placeholder sighting and its content merge into one message")
    func placeholderResolved() throws {
        let dir = try TempDir()
        var placeholder = message("wamid.A", at: 10)
        placeholder.type = "media_placeholder"
        placeholder.body = nil
        placeholder.content = nil
        var image = message("wamid.A", at: 10, line: 2)
        image.type = "image"
        image.body = "caption"
        let stage = DedupeStage(settings(64 << 20, in: dir.path))
        let out = try run(stage, [placeholder, image])
        #expect(out.records.count == 1)
        #expect(out.records[0].type == "image")
        #expect(stage.counts.merged == 1)
    }

    @Test("facts that are not held pass at their first sighting, before the held ones")
    func passesFirst() throws {
        let dir = try TempDir()
        var contact = Record(kind: .contact, wabaID: "100", provenance: Provenance(source: "t", line: 3))
        contact.phoneNumberID = "555"
        contact.contactWaID = "49"
        contact.action = "add"
        let stage = DedupeStage(settings(64 << 20, in: dir.path))
        let out = CollectingOutlet()
        try stage.take(message("wamid.A", at: 1), out)
        try stage.take(contact, out)
        #expect(out.records.map(\.kind) == [.contact])
        var copy = contact
        copy.line = 9
        try stage.take(copy, out)
        try stage.finish(out)
        #expect(out.records.map(\.kind) == [.contact, .message])
        #expect(stage.counts.duplicates == 1)
    }

    @Test("past its budget the stage spills and emits the same records, in an order coex-order makes equal")
    func spillingGivesTheSameRecords() throws {
        let dir = try TempDir()
        let records = generatedRecords(businesses: 2, messages: 400)
        let inMemory = DedupeStage(settings(1 << 30, in: dir.path))
        let memoryOut = try run(inMemory, records)
        let spilling = DedupeStage(settings(64 << 10, in: dir.path))
        let spillOut = try run(spilling, records)
        #expect(!inMemory.spilled)
        #expect(spilling.spilled)
        #expect(spillOut.lines.sorted() == memoryOut.lines.sorted())
        #expect(spilling.counts == inMemory.counts)
    }
}

@Suite("OrderStage")
struct OrderStageTests {
    @Test("messages in chat order, numbered per business, other facts after them")
    func chatOrder() throws {
        let dir = try TempDir()
        var status = Record(kind: .status, wabaID: "100", provenance: Provenance(source: "t", line: 1))
        status.wamid = "wamid.B"
        status.status = "read"
        status.timestamp = 1
        status.arrival = 0
        var late = message("wamid.B", at: 20)
        late.arrival = 1
        var early = message("wamid.A", at: 10)
        early.arrival = 2
        var other = message("wamid.C", waba: "200", at: 5)
        other.arrival = 3
        let out = try run(OrderStage(settings(64 << 20, in: dir.path)), [status, late, early, other])
        #expect(out.records.map(\.wamid) == ["wamid.A", "wamid.B", "wamid.B", "wamid.C"])
        #expect(out.records.map(\.kind) == [.message, .message, .status, .message])
        #expect(out.records.map(\.seq) == [1, 2, nil, 1])
    }

    @Test("a phone number's chunks are followed by its history report; an earlier report is dropped")
    func historyReport() throws {
        let dir = try TempDir()
        func chunk(_ order: Int?, phase: Int?) -> Record {
            var r = Record(kind: .historyChunk, wabaID: "100", provenance: Provenance(source: "t", line: 1))
            r.phoneNumberID = "555"
            r.phase = phase
            r.chunkOrder = order
            r.progress = 50
            return r
        }
        let stage = OrderStage(settings(64 << 20, in: dir.path))
        let out = try run(stage, [chunk(3, phase: 0), chunk(1, phase: 0), chunk(nil, phase: nil), message("wamid.A", at: 1)])
        #expect(out.records.map(\.kind) == [.historyChunk, .historyChunk, .historyChunk, .message])
        #expect(out.records.map(\.chunkOrder) == [1, 3, nil, nil])
        #expect(stage.reports.count == 1)
        #expect(stage.reports[0].gaps == [0: [2...2]])
        #expect(out.notes.count == 1)
    }

    @Test("sorted runs spilled past the budget merge into the same output")
    func spilling() throws {
        let dir = try TempDir()
        let records = try run(DedupeStage(settings(1 << 30, in: dir.path)), generatedRecords(businesses: 2, messages: 400)).records
        let memory = try run(OrderStage(settings(1 << 30, in: dir.path)), records)
        let small = OrderStage(settings(64 << 10, in: dir.path))
        let spilled = try run(small, records)
        #expect(small.summary(InputCounts()).joined().contains("sorted runs spilled"))
        #expect(spilled.lines == memory.lines)
    }
}

@Suite("ApplyStage")
struct ApplyStageTests {
    @Test("an edit changes its message and adds versions; a change without its message is pending")
    func editsAndPending() throws {
        let dir = try TempDir()
        var edit = Record(kind: .edit, wabaID: "100", provenance: Provenance(source: "t", line: 5))
        edit.wamid = "wamid.E"
        edit.originalMessageID = "wamid.A"
        edit.timestamp = 30
        edit.type = "text"
        edit.body = "changed"
        var orphan = edit
        orphan.wamid = "wamid.F"
        orphan.originalMessageID = "wamid.missing"
        let out = try run(ApplyStage(settings(64 << 20, in: dir.path)), [message("wamid.A", at: 10), edit, orphan])
        #expect(out.records.map(\.kind) == [.message, .messageVersion, .messageVersion, .edit])
        #expect(out.records[0].body == "changed")
        #expect(out.records[0].editCount == 1)
        #expect(out.records[3].pending)
    }

    @Test("the spool spilled past the budget replays the same records")
    func spooling() throws {
        let dir = try TempDir()
        let deduped = try run(DedupeStage(settings(1 << 30, in: dir.path)), generatedRecords(businesses: 2, messages: 400)).records
        let ordered = try run(OrderStage(settings(1 << 30, in: dir.path)), deduped).records
        let memory = try run(ApplyStage(settings(1 << 30, in: dir.path)), ordered)
        let small = ApplyStage(settings(64 << 10, in: dir.path))
        let spooled = try run(small, ordered)
        #expect(small.summary(InputCounts()).joined().contains("spooled to disk"))
        #expect(spooled.lines == memory.lines)
    }
}

@Suite("StageLink")
struct StageLinkTests {
    @Test("a chain gives what the stages give one after another")
    func chainEqualsSteps() throws {
        let dir = try TempDir()
        let records = generatedRecords(businesses: 2, messages: 200)
        let s = settings(1 << 30, in: dir.path)
        let stepwise = try run(ApplyStage(s), try run(OrderStage(s), try run(DedupeStage(s), records).records).records)
        let end = CollectingOutlet()
        let chain = StageLink(DedupeStage(s), then: StageLink(OrderStage(s), then: StageLink(ApplyStage(s), then: end)))
        for record in records { try chain.put(record) }
        try chain.finish()
        #expect(end.finished)
        #expect(end.lines == stepwise.lines)
        #expect(chain.taken == records.count)
    }
}

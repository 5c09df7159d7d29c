import CoexKit
import Testing

@Suite("MessageMerge and EditApplier")
struct MessageMergeTests {
    func message(_ type: String, body: String?, origin: Origin, time: Int64, line: Int) -> Record {
        var r = Record(kind: .message, wabaID: "100", provenance: Provenance(source: "t", line: line))
        r.wamid = "wamid.A"
        r.type = type
        r.body = body
        r.origin = origin
        r.timestamp = time
        r.phase = origin == .history ? 1 : nil
        r.chunkOrder = origin == .history ? 2 : nil
        return r
    }

    @Test("real content beats a placeholder, history keeps its place, whatever the order")
    func mergeIsOrderFree() {
        let placeholder = message("media_placeholder", body: nil, origin: .history, time: 10, line: 1)
        let asset = message("image", body: "caption", origin: .live, time: 12, line: 2)
        let ab = MessageMerge.merge(placeholder, asset)
        let ba = MessageMerge.merge(asset, placeholder)
        #expect(ab == ba)
        #expect(ab.type == "image")
        #expect(ab.body == "caption")
        #expect(ab.origin == .history)
        #expect(ab.timestamp == 10)
        #expect(ab.line == 1)
        #expect(MessageMerge.isPlaceholder("media_placeholder"))
        #expect(!MessageMerge.isPlaceholder("text"))
    }

    @Test("edits apply in edit-time order and keep every version; a revoke keeps the earliest time")
    func editsInTimeOrder() {
        var applier = EditApplier()
        func edit(_ wamid: String, at time: Int64, body: String) -> Record {
            var e = Record(kind: .edit, wabaID: "100", provenance: Provenance(source: "t", line: 9))
            e.wamid = wamid
            e.originalMessageID = "wamid.A"
            e.timestamp = time
            e.type = "text"
            e.body = body
            return e
        }
        var revoke = Record(kind: .revoke, wabaID: "100", provenance: Provenance(source: "t", line: 10))
        revoke.wamid = "wamid.R"
        revoke.originalMessageID = "wamid.A"
        revoke.timestamp = 50
        var later = revoke
        later.wamid = "wamid.R2"
        later.timestamp = 70
        // Arrival order is not edit order.
        let held1 = applier.hold(edit("wamid.E2", at: 40, body: "second"))
        #expect(held1)
        let held2 = applier.hold(edit("wamid.E1", at: 30, body: "first"))
        #expect(held2)
        let held3 = applier.hold(edit("wamid.E1", at: 30, body: "first"))
        #expect(held3)
        let held4 = applier.hold(later)
        #expect(held4)
        let held5 = applier.hold(revoke)
        #expect(held5)
        #expect(applier.hasChanges(waba: "100", wamid: "wamid.A"))
        var out: [Record] = []
        applier.apply(to: message("text", body: "original", origin: .live, time: 5, line: 1), into: &out)
        #expect(out.map(\.kind) == [.message, .messageVersion, .messageVersion, .messageVersion])
        #expect(out[0].body == "second")
        #expect(out[0].editCount == 2)
        #expect(out[0].revoked)
        #expect(out[0].revokedAt == 50)
        #expect(out[1...].map(\.body) == ["original", "first", "second"])
        let pending = applier.pending()
        #expect(pending.isEmpty)
    }
}

import CoexJSON
import Testing

@testable import CoexKit

@Suite("Record")
struct RecordTests {
    static func roundTrip(_ record: Record) throws -> Record {
        var w = JSONWriter()
        record.write(to: &w)
        let parser = JSONParser()
        return try Record(json: try parser.parse(w.bytes))
    }

    static func decode(_ json: String) throws -> Record {
        let parser = JSONParser()
        return try Record(json: try parser.parse(json))
    }

    static let allBodies = Unit.referenceBodies + Unit.variantBodies

    @Test("every record the fixtures give reads back equal to itself", arguments: allBodies)
    func fixtureRecordsRoundTrip(name: String) throws {
        let records = try Unit.normalizeFixture(name).records
        for record in records {
            let back = try Self.roundTrip(record)
            Unit.expectRecord(back, record)
            // Writing again gives the same bytes.
            #expect(back.jsonLine == record.jsonLine)
        }
    }

    @Test("a record of every kind with every field set reads back equal", arguments: RecordKind.allCases)
    func everyField(kind: RecordKind) throws {
        var r = Record(kind: kind, wabaID: "102290129340398", provenance: Provenance(source: "night 1/ä.ndjson", line: 123_456))
        r.phoneNumberID = "106540352242922"
        r.displayPhoneNumber = "+1 555-078-3881"
        r.wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
        r.originalMessageID = "wamid.O=="
        r.contactWaID = "16505551234"
        r.contactUserID = "US.27730594418265039921"
        r.username = "green.thumb"
        r.countryCode = "US"
        r.direction = .outbound
        r.origin = .echo
        r.timestamp = 1_778_576_400
        r.type = "text"
        r.body = "quote \" backslash \\ newline \n tab \t nul \u{0} ctrl \u{1} é 😀 中"
        r.status = "read"
        r.replyTo = "M0"
        r.phase = 2
        r.chunkOrder = 17
        r.threadIndex = 3
        r.messageIndex = 0
        r.historyAsset = true
        r.content = RawJSON(Array(#"{"body":"x\"y","n":[1,-2,3.5,true,null],"o":{}}"#.utf8))
        r.extra = RawJSON(Array(#"{"referral":{"source_type":"ad"},"x":"😀"}"#.utf8))
        r.errors = RawJSON(Array(#"[{"code":131060,"title":"This message is unavailable"}]"#.utf8))
        r.recipientID = "16505551234"
        r.recipientUserID = "US.1"
        r.action = "add"
        r.fullName = "Sheena Nelson"
        r.firstName = "Sheena"
        r.profileName = "Sheena 🌵"
        r.event = "PARTNER_REMOVED"
        r.reason = "PRIMARY_INACTIVITY"
        r.initiatedBy = "SYSTEM"
        r.ownerBusinessID = "2093847561029384"
        r.entryID = "1187346502918374"
        r.phoneNumber = "15550783881"
        r.progress = 100
        r.threadCount = 2
        r.messageCount = 4
        r.code = 2_593_109
        r.title = "History sync is turned off"
        r.message = "History sync is turned off by the business"
        r.details = "History sharing is turned off by the business"
        r.previousUserID = "US.0"
        r.groupID = "Y2FwaV9ncm91cDo"
        Unit.expectRecord(try Self.roundTrip(r), r)
    }

    @Test("pipeline fields (arrival, seq, edits, revokes, versions, pending) read back too")
    func pipelineFields() throws {
        var r = Record(kind: .message, wabaID: "1", provenance: Provenance(source: "s", line: 1))
        r.arrival = 7
        r.seq = 3
        r.editCount = 2
        r.revoked = true
        r.revokedAt = 1_778_576_820
        r.version = 1
        r.editWamid = "wamid.E"
        r.pending = true
        #expect(try Self.roundTrip(r) == r)
        var plain = Record(kind: .message, wabaID: "1", provenance: Provenance(source: "s", line: 1))
        plain.revoked = false
        #expect(try Self.roundTrip(plain) == plain)
    }

    @Test("extreme integers and an empty record read back")
    func extremes() throws {
        var r = Record(kind: .error, wabaID: "w", provenance: Provenance(source: "-", line: 0))
        r.timestamp = 0
        r.code = Int64.min
        r.phase = Int.max
        r.progress = -1
        #expect(try Self.roundTrip(r) == r)
        r.code = Int64.max
        r.timestamp = Int64.max
        #expect(try Self.roundTrip(r) == r)
        let empty = Record(kind: .contact, wabaID: "", provenance: Provenance(source: "", line: 1))
        #expect(try Self.roundTrip(empty) == empty)
    }

    @Test("the written form: kind and waba_id first, provenance last, absent members left out")
    func writtenForm() throws {
        var r = Record(kind: .historyChunk, wabaID: "102290129340398", provenance: Provenance(source: "n.ndjson", line: 27))
        r.phase = 0
        r.chunkOrder = 1
        r.progress = 55
        r.threadCount = 2
        r.messageCount = 4
        #expect(r.jsonLine
            == #"{"kind":"history_chunk","waba_id":"102290129340398","phase":0,"chunk_order":1,"progress":55,"threads":2,"messages":4,"source":"n.ndjson","line":27}"#)
        var w = JSONWriter()
        r.write(to: &w, includeProvenance: false)
        #expect(Unit.text(w.bytes)
            == #"{"kind":"history_chunk","waba_id":"102290129340398","phase":0,"chunk_order":1,"progress":55,"threads":2,"messages":4}"#)
        var asset = Record(kind: .message, wabaID: "1", provenance: Provenance(source: "s", line: 1))
        #expect(!asset.jsonLine.contains("history_asset"))
        asset.historyAsset = true
        #expect(asset.jsonLine.contains(#""history_asset":true"#))
    }

    @Test("unknown members are ignored, null members are absent")
    func lenientReading() throws {
        let r = try Self.decode(#"{"kind":"message","waba_id":"1","wamid":null,"body":null,"content":null,"future_column":[1],"source":"s","line":2}"#)
        #expect(r.kind == .message)
        #expect(r.wamid == nil)
        #expect(r.body == nil)
        #expect(r.content == nil)
        #expect(r.line == 2)
        #expect(r.historyAsset == false)
        // Member order does not matter.
        let reordered = try Self.decode(#"{"line":5,"source":"x","timestamp":9,"waba_id":"w","kind":"status"}"#)
        #expect(reordered.kind == .status)
        #expect(reordered.timestamp == 9)
        #expect(reordered.source == "x")
    }

    static let decodingErrors: [(String, RecordDecodingError)] = [
        ("[]", .notObject),
        (#""message""#, .notObject),
        ("{}", .missing("kind")),
        (#"{"waba_id":"1","source":"s","line":1}"#, .missing("kind")),
        (#"{"kind":"nope","waba_id":"1","source":"s","line":1}"#, .unknownKind("nope")),
        (#"{"kind":"message","source":"s","line":1}"#, .missing("waba_id")),
        (#"{"kind":"message","waba_id":"1","line":1}"#, .missing("source")),
        (#"{"kind":"message","waba_id":"1","source":"s"}"#, .missing("line")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":"1"}"#, .missing("line")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"wamid":5}"#, .wrongType("wamid", expected: "a string")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"body":{}}"#, .wrongType("body", expected: "a string")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"contact_wa_id":16505551234}"#, .wrongType("contact_wa_id", expected: "a string")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"timestamp":"1778576400"}"#, .wrongType("timestamp", expected: "an integer")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"timestamp":1.5}"#, .wrongType("timestamp", expected: "an integer")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"phase":true}"#, .wrongType("phase", expected: "an integer")),
        (#"{"kind":"error","waba_id":"1","source":"s","line":1,"code":"131060"}"#, .wrongType("code", expected: "an integer")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"direction":"sideways"}"#, .wrongType("direction", expected: "inbound or outbound")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"direction":1}"#, .wrongType("direction", expected: "a string")),
        (#"{"kind":"message","waba_id":"1","source":"s","line":1,"origin":"api"}"#, .wrongType("origin", expected: "history, live or echo")),
    ]

    @Test("records of the wrong shape are errors that say what is wrong", arguments: decodingErrors)
    func decodingError(json: String, expected: RecordDecodingError) {
        #expect(throws: expected) { try Self.decode(json) }
    }

    @Test func decodingErrorDescriptions() {
        #expect(RecordDecodingError.notObject.description == "record must be a JSON object")
        #expect(RecordDecodingError.missing("kind").description == #"record has no "kind""#)
        #expect(RecordDecodingError.wrongType("timestamp", expected: "an integer").description
            == #"record "timestamp" must be an integer"#)
        #expect(RecordDecodingError.unknownKind("nope").description == #"unknown record kind "nope""#)
    }

    @Test("kind names are the documented snake_case names")
    func kindNames() {
        #expect(RecordKind.accountEvent.rawValue == "account_event")
        #expect(RecordKind.historyChunk.rawValue == "history_chunk")
        #expect(RecordKind.syncError.rawValue == "sync_error")
        #expect(RecordKind.userIDChange.rawValue == "user_id_change")
        for kind in RecordKind.allCases { #expect(RecordKind(rawValue: kind.rawValue) == kind) }
    }

    @Test("RawJSON keeps bytes as they are")
    func rawJSON() throws {
        let parser = JSONParser()
        let value = try parser.parse(#"{ "a" : [ 1 , "é" ] }"#)
        let raw = RawJSON(value)
        #expect(raw.text == #"{"a":[1,"é"]}"#)
        #expect(RawJSON(Array("[1]".utf8)).bytes == Array("[1]".utf8))
        #expect(RawJSON(Array("[1]".utf8)) == RawJSON(Array("[1]".utf8)))
    }
}

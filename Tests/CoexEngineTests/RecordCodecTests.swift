import CoexEngine
import CoexKit
import Testing

@Suite("RecordCodec")
struct RecordCodecTests {
    @Test("every record of a generated capture reads back equal")
    func generatedRecordsRoundTrip() throws {
        let records = generatedRecords()
        #expect(records.count > 1000)
        var bytes: [UInt8] = []
        for record in records {
            bytes.removeAll(keepingCapacity: true)
            RecordCodec.encode(record, into: &bytes)
            let back = bytes.withUnsafeBytes { RecordCodec.decode($0) }
            #expect(back == record)
        }
    }

    @Test("every member, flags and negative numbers survive")
    func everyMember() throws {
        var r = Record(kind: .messageVersion, wabaID: "w", provenance: Provenance(source: "s", line: -3))
        r.phoneNumberID = "p"; r.displayPhoneNumber = "d"; r.wamid = "wamid.é"; r.originalMessageID = "o"
        r.contactWaID = "c"; r.contactUserID = "u"; r.username = "n"; r.countryCode = "DE"; r.direction = .outbound
        r.origin = .echo; r.timestamp = -1; r.type = "t"; r.body = ""; r.status = "read"; r.replyTo = "r"
        r.phase = 2; r.chunkOrder = Int.max; r.threadIndex = 0; r.messageIndex = 9; r.historyAsset = true
        r.content = RawJSON(Array("{\"a\":[1,2]}".utf8)); r.extra = RawJSON(Array("{}".utf8)); r.errors = RawJSON(Array("[]".utf8))
        r.recipientID = "ri"; r.recipientUserID = "ru"; r.action = "add"; r.fullName = "f"; r.firstName = "g"
        r.profileName = "h"; r.event = "e"; r.reason = "why"; r.initiatedBy = "i"; r.ownerBusinessID = "ob"
        r.entryID = "en"; r.phoneNumber = "pn"; r.progress = 100; r.threadCount = 3; r.messageCount = 4
        r.code = Int64.min; r.title = "ti"; r.message = "m"; r.details = "de"; r.previousUserID = "pu"
        r.groupID = "gr"; r.arrival = 12; r.seq = 13; r.editCount = 2; r.revoked = true; r.revokedAt = 99
        r.version = 1; r.editWamid = "ew"; r.pending = true
        var bytes: [UInt8] = []
        RecordCodec.encode(r, into: &bytes)
        #expect(bytes.withUnsafeBytes { RecordCodec.decode($0) } == r)
    }

    @Test("truncated bytes are not a record")
    func truncated() {
        var bytes: [UInt8] = []
        RecordCodec.encode(message("wamid.A", at: 5), into: &bytes)
        for cut in [0, 5, 10, bytes.count / 2, bytes.count - 1] {
            #expect(Array(bytes[..<cut]).withUnsafeBytes { RecordCodec.decode($0) } == nil, "cut at \(cut)")
        }
    }
}

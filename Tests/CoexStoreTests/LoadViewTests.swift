import CoexJSON
import CoexKit
import CoexSamples
import Testing

@testable import CoexStore

/// coex import's first look at a record in place must agree with coex-load's look at the
/// decoded `Record`: the same load-order key, the same identity fact, and no record taken in
/// place that `LoadCheck` would refuse.
@Suite("LoadOrder.keyInPlace")
struct LoadViewTests {
    /// Records of a generated capture with users known by phone and BSUID, as coex-normalize
    /// writes them, each with an arrival (and a seq on messages, as later stages add).
    static let lines: [[UInt8]] = {
        var stage = NormalizeStage()
        var records: [Record] = []
        var rejects: [Reject] = []
        var options = CaptureOptions(seed: 23, businesses: 3, messagesPerBusiness: 300)
        options.bsuidShare = 0.5
        for (index, (_, body)) in CaptureGenerator(options).enumerated() {
            body.withUnsafeBytes {
                stage.process($0, padded: false, provenance: Provenance(source: "cap.ndjson", line: index + 1),
                              records: &records, rejects: &rejects)
            }
        }
        return records.enumerated().map { arrival, record in
            var r = record
            r.arrival = arrival
            if r.kind == .message { r.seq = arrival + 1 }
            var w = JSONWriter()
            r.write(to: &w)
            return w.bytes
        }
    }()

    static func check(_ line: [UInt8]) throws -> (inPlace: Bool, agrees: Bool, pair: Bool) {
        let parser = JSONParser()
        let value = try parser.parse(line)
        let view = try #require(RecordView(value))
        var key: [UInt8] = []
        var pair: (UserIDPair, SeenSpan)?
        let record = try Record(json: value)
        let inPlace = LoadOrder.keyInPlace(view, wabaIsSafe: BusinessFile.isSafe(record.wabaID), ordinal: 0,
                                           into: &key, pair: &pair)
        guard inPlace else { return (false, true, false) }
        var expected: [UInt8] = []
        LoadOrder.key(of: record, ordinal: 0, into: &expected)
        var facts = IdentityFacts()
        facts.add(record)
        var mine = IdentityFacts()
        if let pair { mine.addPair(pair.0, pair.1) }
        return (true, key == expected && mine == facts && LoadCheck.problem(with: record) == nil, pair != nil)
    }

    @Test("every record taken in place gets coex-load's key and identity fact")
    func generatedRecords() throws {
        var inPlace = 0
        var pairs = 0
        for line in Self.lines {
            let (taken, agrees, pair) = try Self.check(line)
            #expect(agrees, "\(String(decoding: line, as: UTF8.self))")
            if taken { inPlace += 1 }
            if pair { pairs += 1 }
        }
        // All but user_id_change records are taken in place, and users known by BSUID occur.
        #expect(inPlace > Self.lines.count * 9 / 10)
        #expect(pairs > 100)
    }

    @Test("records coex-load may refuse, and user id changes, are left to the decoded record", arguments: [
        #"{"kind":"contact","waba_id":"1","contact_wa_id":"15550001","action":"add","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"contact","waba_id":"1","phone_number_id":"9","action":"add","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"status","waba_id":"1","wamid":"wamid.A","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"message","waba_id":"1","wamid":"","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"message_version","waba_id":"1","wamid":"wamid.A","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"edit","waba_id":"1","wamid":"wamid.E","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"message","waba_id":"../x","wamid":"wamid.A","source":"c","line":1,"arrival":1}"#,
        #"{"kind":"user_id_change","waba_id":"1","contact_user_id":"US.2","previous_user_id":"US.1","source":"c","line":1,"arrival":1}"#,
    ])
    func leftToTheRecord(line: String) throws {
        #expect(try Self.check(Array(line.utf8)).inPlace == false)
    }

    @Test("a group record names no user, even with both ids")
    func groupRecord() throws {
        let line = #"{"kind":"message","waba_id":"1","wamid":"wamid.G","contact_wa_id":"1555","contact_user_id":"US.1","group_id":"G1","timestamp":5,"source":"c","line":1,"arrival":1}"#
        let (inPlace, agrees, pair) = try Self.check(Array(line.utf8))
        #expect(inPlace && agrees && !pair)
    }
}

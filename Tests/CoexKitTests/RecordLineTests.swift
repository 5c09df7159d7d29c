import CoexJSON
@testable import CoexSamples
import Testing

@testable import CoexKit

/// `RecordLine.content(of:)` stands for `RecordView.contentDigest` where coex import keys
/// the lines it wrote itself: the two must tell the same records apart.
@Suite("RecordLine")
struct RecordLineTests {
    /// Every record of a generated capture as coex-normalize writes it, with its arrival.
    static let lines: [[UInt8]] = {
        var stage = NormalizeStage()
        var records: [Record] = []
        var rejects: [Reject] = []
        let capture = CaptureGenerator(CaptureOptions(seed: 17, businesses: 3, messagesPerBusiness: 300))
        for (index, (_, body)) in capture.enumerated() {
            body.withUnsafeBytes {
                stage.process($0, padded: false, provenance: Provenance(source: "cap.ndjson", line: index + 1),
                              records: &records, rejects: &rejects)
            }
        }
        return records.enumerated().map { arrival, record in
            var w = JSONWriter()
            record.write(to: &w)
            var line: [UInt8] = []
            w.bytes.withUnsafeBytes { RecordLine.append($0, member: "arrival", value: arrival, to: &line) }
            return line
        }
    }()

    @Test("the content before the provenance tells records apart as their content digest does")
    func contentMatchesDigest() throws {
        let parser = JSONParser()
        var writer = JSONWriter()
        var byContent: [Digest128: Digest128] = [:]
        var byDigest: [Digest128: Digest128] = [:]
        var repeats = 0
        for line in Self.lines {
            let content = try #require(line.withUnsafeBytes { RecordLine.content(of: $0).map { Array($0) } })
            // The content is the line up to its provenance: the same members, in order.
            let value = try parser.parse(line)
            let view = try #require(RecordView(value))
            let digest = view.contentDigest(scratch: &writer)
            #expect(content + [UInt8(ascii: "}")] == writer.bytes)
            let key = Digest128(bytes: content)
            if let seen = byContent[key] {
                #expect(seen == digest)
                repeats += 1
            }
            byContent[key] = digest
            if let seen = byDigest[digest] { #expect(seen == key) }
            byDigest[digest] = key
        }
        #expect(Self.lines.count > 2000)
        // Redeliveries make equal contents: the test saw both sides of the equivalence.
        #expect(repeats > 10)
    }

    @Test("a member named source inside content or extra is not the provenance")
    func nestedSource() throws {
        let line = #"{"kind":"contact","waba_id":"1","extra":{"source":"ad","x":{"source":"y"}},"body":"\",\"source\":","source":"cap","line":3,"arrival":7}"#
        let content = Array(line.utf8).withUnsafeBytes { RecordLine.content(of: $0).map { String(decoding: $0, as: UTF8.self) } }
        #expect(content == #"{"kind":"contact","waba_id":"1","extra":{"source":"ad","x":{"source":"y"}},"body":"\",\"source\":""#)
        #expect(Array("{\"kind\":\"contact\"}".utf8).withUnsafeBytes { RecordLine.content(of: $0) } == nil)
    }
}

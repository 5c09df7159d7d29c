import CoexIO
import CoexJSON
import CoexEngine
import Testing

@testable import CoexKit

/// Runs ValidateStage and NormalizeStage over lines held in memory.
fileprivate struct Run {
    var validate = ValidateStage()
    var normalize = NormalizeStage()
    var envelopes: [[UInt8]] = []
    var validateRejects: [Reject] = []
    var records: [Record] = []
    var normalizeRejects: [Reject] = []

    /// coex-validate over `lines`, numbered from 1.
    mutating func validate(_ lines: [[UInt8]], source: String) {
        var output = JSONWriter()
        for (i, line) in lines.enumerated() {
            line.withUnsafeBytes { bytes in
                validate.process(bytes, padded: false, provenance: Provenance(source: source, line: i + 1),
                                 output: &output, rejects: &validateRejects)
            }
        }
        envelopes = Unit.splitLines(output.bytes)
    }

    /// coex-normalize over `lines` (envelopes or raw bodies), numbered from 1.
    mutating func normalize(_ lines: [[UInt8]], source: String) {
        for (i, line) in lines.enumerated() {
            line.withUnsafeBytes { bytes in
                normalize.process(bytes, padded: false, provenance: Provenance(source: source, line: i + 1),
                                  records: &records, rejects: &normalizeRejects)
            }
        }
    }
}

@Suite("ValidateStage and NormalizeStage")
struct StageTests {
    static let samples = ["night1.ndjson", "night2.ndjson", "malformed.ndjson", "malformed-bytes.ndjson"]

    // MARK: ValidateStage

    @Test("lines read = valid + rejected + blank", arguments: samples)
    func validateCounts(name: String) throws {
        let lines = try Unit.sampleLines(name)
        var run = Run()
        run.validate(lines, source: name)
        let c = run.validate.counts
        #expect(c.lines == lines.count)
        #expect(c.lines == c.valid + c.rejected + c.blank)
        #expect(run.envelopes.count == c.valid)
        #expect(run.validateRejects.count == c.rejected + c.rejectedRecords)
    }

    @Test("the sample captures' counts")
    func sampleCounts() throws {
        var night1 = Run()
        night1.validate(try Unit.sampleLines("night1.ndjson"), source: "night1.ndjson")
        #expect(night1.validate.counts.lines == 64)
        #expect(night1.validate.counts.valid == 64)
        #expect(night1.validateRejects.isEmpty)

        var malformed = Run()
        malformed.validate(try Unit.sampleLines("malformed.ndjson"), source: "malformed.ndjson")
        var expected = ValidateCounts()
        expected.lines = 27
        expected.valid = 1
        expected.rejected = 26
        expected.rejectedRecords = 1
        #expect(malformed.validate.counts == expected)
        #expect(malformed.validateRejects.map(\.provenance.line) == Array(1...27))

        var bytes = Run()
        bytes.validate(try Unit.sampleLines("malformed-bytes.ndjson"), source: "malformed-bytes.ndjson")
        expected = ValidateCounts()
        expected.lines = 10
        expected.valid = 3
        expected.rejected = 5
        expected.blank = 2
        #expect(bytes.validate.counts == expected)
        #expect(bytes.validateRejects.map(\.provenance.line) == [3, 5, 7, 8, 9])
    }

    @Test("an envelope parses and carries source, line and the body as it came", arguments: ["night1.ndjson", "night2.ndjson"])
    func envelopes(name: String) throws {
        let lines = try Unit.sampleLines(name)
        var run = Run()
        run.validate(lines, source: name)
        try #require(run.envelopes.count == lines.count)
        let parser = JSONParser()
        for (i, envelope) in run.envelopes.enumerated() {
            let root = try parser.parse(envelope)
            #expect(root.members.map(\.key) == ["source", "line", "body"])
            let read = try #require(Envelope.read(root))
            #expect(read.provenance == Provenance(source: name, line: i + 1))
            #expect(read.dropped == 0)
            #expect(read.body.jsonString == (try Unit.minified(lines[i])))
            // The body's bytes are the line's bytes.
            #expect(Unit.text(envelope) == #"{"source":"\#(name)","line":\#(i + 1),"body":"# + Unit.text(lines[i]) + "}")
        }
    }

    @Test("a line with dropped records says how many; blank lines give nothing; spaces around a body go")
    func envelopeDetails() throws {
        let malformed = try Unit.sampleLines("malformed.ndjson")
        let body = try Unit.body("reference/account-offboarded.json")
        let lines: [[UInt8]] = [malformed[13], [], Array("  \t".utf8), Array("  ".utf8) + body + Array(" \t\r".utf8)]
        var run = Run()
        run.validate(lines, source: "in")
        try #require(run.envelopes.count == 2)
        let parser = JSONParser()
        let first = try #require(Envelope.read(try parser.parse(run.envelopes[0])))
        #expect(first.dropped == 1)
        #expect(first.provenance.line == 1)
        #expect(Unit.text(run.envelopes[0]).hasPrefix(#"{"source":"in","line":1,"dropped":1,"body":{"#))
        #expect(Unit.text(run.envelopes[1]) == #"{"source":"in","line":4,"body":"# + Unit.text(body) + "}")
        #expect(run.validate.counts.blank == 2)
        #expect(run.validate.counts.lines == 4)
    }

    @Test("validation in place (padded, from LineReader) and on copies agree")
    func paddedValidation() throws {
        let url = Unit.sampleURL("night2.ndjson")
        let reader = LineReader(source: try FileSource(path: url.path), blockSize: 4096)
        var stage = ValidateStage()
        var output = JSONWriter()
        var rejects: [Reject] = []
        while let line = try reader.next() {
            stage.process(line.bytes, padded: true, provenance: Provenance(source: "night2.ndjson", line: line.number),
                          output: &output, rejects: &rejects)
        }
        var run = Run()
        run.validate(try Unit.sampleLines("night2.ndjson"), source: "night2.ndjson")
        #expect(Unit.splitLines(output.bytes) == run.envelopes)
        #expect(rejects.isEmpty)
    }

    // MARK: NormalizeStage

    @Test("normalizing envelopes or the raw lines gives the same records", arguments: samples)
    func envelopesOrRaw(name: String) throws {
        let lines = try Unit.sampleLines(name)
        var piped = Run()
        piped.validate(lines, source: name)
        piped.normalize(piped.envelopes, source: "envelopes")
        var raw = Run()
        raw.normalize(lines, source: name)
        #expect(piped.records.count == raw.records.count)
        for (a, b) in zip(piped.records, raw.records) where a != b {
            Unit.expectRecord(a, b)
            break
        }
        #expect(piped.records == raw.records)
        #expect(piped.normalize.normalizer.counts.skippedFields == raw.normalize.normalizer.counts.skippedFields)
        #expect(piped.normalize.normalizer.counts.unknownTypes == raw.normalize.normalizer.counts.unknownTypes)
        #expect(piped.normalize.normalizer.counts.records == raw.normalize.normalizer.counts.records)
        // What validation rejected, normalization of the raw lines rejects too.
        #expect(raw.normalizeRejects.map(\.provenance) == piped.validateRejects.map(\.provenance))
        #expect(raw.normalizeRejects.map(\.path) == piped.validateRejects.map(\.path))
        #expect(raw.normalizeRejects.map(\.reason) == piped.validateRejects.map(\.reason))
        #expect(raw.normalize.counts.rejected == piped.validate.counts.rejected)
        #expect(raw.normalize.counts.normalized == piped.validate.counts.valid)
        #expect(raw.normalize.counts.blank == piped.validate.counts.blank)
        #expect(raw.normalize.counts.rejectedRecords == piped.validate.counts.rejectedRecords)
        #expect(piped.normalize.counts.droppedUpstream == piped.validate.counts.rejectedRecords)
        #expect(piped.normalizeRejects.isEmpty)
        for c in [piped.normalize.counts, raw.normalize.counts] {
            #expect(c.lines == c.normalized + c.rejected + c.blank)
        }
    }

    @Test("night1 normalizes completely; every record knows its line")
    func night1() throws {
        let lines = try Unit.sampleLines("night1.ndjson")
        var run = Run()
        run.normalize(lines, source: "night1.ndjson")
        #expect(run.normalizeRejects.isEmpty)
        #expect(run.normalize.counts.normalized == 64)
        #expect(run.records.allSatisfy { $0.source == "night1.ndjson" && (1...64).contains($0.line) })
        #expect(run.normalize.normalizer.counts.skippedFields == ["user_preferences": 1])
        // Every line but the skipped field gives at least one record.
        #expect(Set(run.records.map(\.line)) == Set(1...64).subtracting([18]))
    }

    @Test("the summary counts only the records that are output, not those of rejected lines", arguments: samples)
    func recordCountsMatchOutput(name: String) throws {
        var raw = Run()
        raw.normalize(try Unit.sampleLines(name), source: name)
        let counts = raw.normalize.normalizer.counts
        #expect(counts.recordTotal == raw.records.count)
        var byKind: [RecordKind: Int] = [:]
        for r in raw.records { byKind[r.kind, default: 0] += 1 }
        #expect(counts.records == byKind)
    }

    @Test("a raw line with one bad message keeps its good records and yields one reject with the path")
    func rawLineWithBadRecord() throws {
        let line = try Unit.sampleLines("malformed.ndjson")[13]
        var run = Run()
        run.normalize([line], source: "m")
        #expect(run.records.map(\.kind) == [.message, .contact])
        #expect(run.records[0].wamid == "wamid.HBgNNDkxNTc5ODc2NTQzMhUCABIYFDNBQjg5NkRGNzk5MTE5NzBBQjMwAA==")
        #expect(run.records[0].body == "Guten Morgen")
        try #require(run.normalizeRejects.count == 1)
        let reject = run.normalizeRejects[0]
        #expect(reject.path == "$.entry[0].changes[0].value.messages[1]")
        #expect(reject.stage == "coex-normalize")
        #expect(reject.provenance == Provenance(source: "m", line: 1))
        #expect(reject.raw == line)
        var expected = NormalizeStageCounts()
        expected.lines = 1
        expected.normalized = 1
        expected.rejectedRecords = 1
        #expect(run.normalize.counts == expected)
    }

    @Test("lines whose only record is bad give no record at all (samples/README.md, malformed lines 15-20)",
          arguments: Array(15...20))
    func onlyRecordBad(number: Int) throws {
        let line = try Unit.sampleLines("malformed.ndjson")[number - 1]
        var raw = Run()
        raw.normalize([line], source: "m")
        #expect(raw.records.isEmpty, "\(raw.records.map(\.jsonLine))")
        #expect(raw.normalizeRejects.count == 1)
        var piped = Run()
        piped.validate([line], source: "m")
        piped.normalize(piped.envelopes, source: "m")
        #expect(piped.records.isEmpty, "\(piped.records.map(\.jsonLine))")
    }

    @Test("every line of malformed.ndjson is rejected (line 14 as a record) and never crashes")
    func malformedRaw() throws {
        let lines = try Unit.sampleLines("malformed.ndjson")
        var run = Run()
        run.normalize(lines, source: "malformed.ndjson")
        #expect(run.normalizeRejects.map(\.provenance.line) == Array(1...27))
        #expect(Set(run.records.map(\.line)) == [14])
        #expect(run.normalize.counts.rejected == 26)
        #expect(run.normalize.counts.normalized == 1)
    }

    @Test("an envelope with dropped records counts them upstream and rejects nothing again")
    func envelopeDropped() throws {
        let line = try Unit.sampleLines("malformed.ndjson")[13]
        var run = Run()
        run.validate([line], source: "m")
        run.normalize(run.envelopes, source: "ignored")
        #expect(run.normalize.counts.droppedUpstream == 1)
        #expect(run.normalize.counts.normalized == 1)
        #expect(run.normalizeRejects.isEmpty)
        // Provenance comes from the envelope, not from the line of the envelope file.
        #expect(run.records.allSatisfy { $0.source == "m" && $0.line == 1 })
        #expect(run.records.count == 2)
    }

    @Test("blank and unparsable lines in normalize")
    func normalizeBlankAndBad() {
        var run = Run()
        run.normalize([[], Array("   ".utf8), Array("{".utf8), Array("[]".utf8), [0xFF]], source: "in")
        var expected = NormalizeStageCounts()
        expected.lines = 5
        expected.blank = 2
        expected.rejected = 3
        #expect(run.normalize.counts == expected)
        #expect(run.normalizeRejects.map(\.provenance.line) == [3, 4, 5])
        #expect(run.normalizeRejects.allSatisfy { $0.path == nil && $0.stage == "coex-normalize" })
        #expect(run.normalizeRejects.last?.reason == "not valid UTF-8")
    }

    @Test("a message error without an integer code is never dropped silently")
    func messageErrorWithoutCode() throws {
        let message = #"{"from":"16505551234","id":"wamid.U1","timestamp":"1778577000","type":"unsupported","errors":[{"title":"This message is unavailable"}]}"#
        let line = Array(Unit.messagesBody("[\(message)]").utf8)
        var raw = Run()
        raw.normalize([line], source: "in")
        let errorRecords = raw.records.filter { $0.kind == .error }
        #expect(raw.records.contains { $0.kind == .message && $0.wamid == "wamid.U1" })
        // Either the error becomes a record, or it is reported as a bad record: never neither.
        #expect(errorRecords.count + raw.normalizeRejects.count == 1,
                "records \(raw.records.map(\.kind)), rejects \(raw.normalizeRejects.map(\.message))")
        // Validation and normalization agree on it.
        var piped = Run()
        piped.validate([line], source: "in")
        #expect(piped.validateRejects.count == raw.normalizeRejects.count)
    }
}

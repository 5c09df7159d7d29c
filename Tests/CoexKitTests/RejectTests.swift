import CoexJSON
import Foundation
import CoexEngine
import Testing

@testable import CoexKit

@Suite("Reject")
struct RejectTests {
    static func written(_ reject: Reject) -> String {
        var w = JSONWriter()
        reject.write(to: &w)
        return Unit.text(w.bytes)
    }

    @Test("a UTF-8 line is kept as text in raw, escaped so that it reads back exactly")
    func rawText() throws {
        let line = Array("{\"a\":\"x\\\"y\"}\ttab \u{1} é 😀".utf8)
        let reject = Reject(provenance: Provenance(source: "night1.ndjson", line: 3), stage: "coex-validate",
                            reason: "not valid JSON (x)", raw: line)
        let text = Self.written(reject)
        #expect(text.hasPrefix(#"{"source":"night1.ndjson","line":3,"stage":"coex-validate","reason":"not valid JSON (x)","raw":"#))
        #expect(!text.contains("raw_base64"))
        #expect(!text.contains(#""path""#))
        let parser = JSONParser()
        let v = try parser.parse(Array(text.utf8))
        #expect(v["raw"]?.stringBytes.map(Array.init) == line)
        #expect(v["line"]?.int64 == 3)
        #expect(v.members.map(\.key) == ["source", "line", "stage", "reason", "raw"])
    }

    static let notUTF8: [[UInt8]] = [
        [0x00, 0x9C, 0x13, 0xFE, 0x7B, 0x00, 0x00, 0x22, 0xB5, 0x01, 0xFF, 0x2F, 0x0D, 0x8F],
        Array(#"{"text":"Kaffee "#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8),
        [0xC0, 0xAE, 0xC0, 0xAE],
        [0xED, 0xA0, 0xBD],
        [0xC3],
    ]

    @Test("a line that is not UTF-8 is kept as raw_base64 of its exact bytes", arguments: notUTF8)
    func rawBase64(bytes: [UInt8]) throws {
        let reject = Reject(provenance: Provenance(source: "b.ndjson", line: 5), stage: "coex-validate",
                            reason: "not valid UTF-8", raw: bytes)
        let parser = JSONParser()
        let v = try parser.parse(Array(Self.written(reject).utf8))
        #expect(v["raw"] == nil)
        let encoded = try #require(v["raw_base64"]?.string)
        #expect(Data(base64Encoded: encoded).map(Array.init) == bytes)
    }

    @Test("path is written when set, after the reason")
    func path() throws {
        let reject = Reject(provenance: Provenance(source: "m.ndjson", line: 14), stage: "coex-validate",
                            reason: #"message has no string "id" (missing)"#,
                            path: "$.entry[0].changes[0].value.messages[1]", raw: Array("{}".utf8))
        let parser = JSONParser()
        let v = try parser.parse(Array(Self.written(reject).utf8))
        #expect(v.members.map(\.key) == ["source", "line", "stage", "reason", "path", "raw"])
        #expect(v["path"]?.string == "$.entry[0].changes[0].value.messages[1]")
        #expect(v["raw"]?.string == "{}")
    }

    @Test("message: SOURCE:LINE: error: [PATH: ]REASON, the path never twice")
    func message() {
        let provenance = Provenance(source: "samples/malformed.ndjson", line: 14)
        #expect(Reject(provenance: provenance, stage: "s", reason: "not valid JSON (x)", raw: []).message
            == "samples/malformed.ndjson:14: error: not valid JSON (x)")
        #expect(Reject(provenance: provenance, stage: "s", reason: "message has no id", path: "$.entry[0]", raw: []).message
            == "samples/malformed.ndjson:14: error: $.entry[0]: message has no id")
        #expect(Reject(provenance: provenance, stage: "s", reason: "$.entry[0]: message has no id", path: "$.entry[0]", raw: []).message
            == "samples/malformed.ndjson:14: error: $.entry[0]: message has no id")
        #expect(Reject(provenance: Provenance(source: "-", line: 1), stage: "s", reason: "r", raw: []).message
            == "-:1: error: r")
    }

    @Test("rejects of the validate stage: raw for text lines, raw_base64 for bytes, path only for records")
    func fromTheStage() throws {
        var stage = ValidateStage()
        var output = JSONWriter()
        var rejects: [Reject] = []
        let lines = try Unit.sampleLines("malformed-bytes.ndjson") + Unit.sampleLines("malformed.ndjson")
        for (i, line) in lines.enumerated() {
            line.withUnsafeBytes { bytes in
                stage.process(bytes, padded: false, provenance: Provenance(source: "x", line: i + 1),
                              output: &output, rejects: &rejects)
            }
        }
        let parser = JSONParser()
        for reject in rejects {
            #expect(reject.stage == "coex-validate")
            #expect(!reject.reason.isEmpty)
            let line = lines[reject.provenance.line - 1]
            #expect(reject.raw == line)
            let v = try parser.parse(Array(Self.written(reject).utf8))
            if let text = String(validating: line, as: UTF8.self) {
                #expect(v["raw"]?.string == text)
                #expect(v["raw_base64"] == nil)
            } else {
                #expect(v["raw"] == nil)
                #expect(Data(base64Encoded: v["raw_base64"]?.string ?? "").map(Array.init) == line)
            }
            // Lines that do not parse, or fail before any record, have no path.
            if reject.reason.hasPrefix("not valid") || reject.reason.hasPrefix("number out of range")
                || reject.reason.hasPrefix("JSON nested") || reject.reason.hasPrefix("body ")
                || reject.reason.hasPrefix("\"object\"")
            {
                #expect(reject.path == nil, "\(reject.message)")
            }
            #expect(reject.message.hasPrefix("x:\(reject.provenance.line): error: "))
        }
        let bytesRejects = rejects.filter { $0.provenance.line <= 10 }
        #expect(bytesRejects.map(\.provenance.line) == [3, 5, 7, 8, 9])
        #expect(bytesRejects.allSatisfy { $0.path == nil })
        // Line 5 (binary) may fail as JSON before its UTF-8 is looked at; the others are UTF-8 errors.
        #expect(bytesRejects.filter { $0.provenance.line != 5 }.allSatisfy { $0.reason == "not valid UTF-8" })
        // malformed.ndjson line 14 (line 24 here): a record reject with its path.
        let record = try #require(rejects.first { $0.provenance.line == 24 })
        #expect(record.path == "$.entry[0].changes[0].value.messages[1]")
        #expect(record.message == #"x:24: error: $.entry[0].changes[0].value.messages[1]: message has no string "id" (missing)"#)
    }
}

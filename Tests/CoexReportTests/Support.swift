import CoexKit
import CoexReport
import CoexSQLite
import CoexStore
import CoexTestSupport
import Foundation
import Testing

extension Tools {
    /// The whole pipe of `captures` (paths relative to the repository) loaded into `dir`.
    static func importNight(_ captures: [String], into dir: String) throws {
        let files = captures.map(quote).joined(separator: " ")
        try bash("coex-validate \(files) | coex-normalize | coex-dedupe | coex-order | coex-apply | coex-load --out-dir \(quote(dir))")
    }
}

// MARK: Hand-made records

let testWaba = "111000111"
let testPhone = "555000"

func record(_ kind: RecordKind, line: Int = 1, phone: String? = testPhone, _ fill: (inout Record) -> Void) -> Record {
    var r = Record(kind: kind, wabaID: testWaba, provenance: Provenance(source: "t.ndjson", line: line))
    r.phoneNumberID = phone
    fill(&r)
    return r
}

func message(_ wamid: String, ts: Int64, wa: String? = "100", user: String? = nil, type: String = "text",
             body: String? = "hi", origin: Origin = .live, direction: Direction = .inbound, arrival: Int) -> Record {
    record(.message) {
        $0.wamid = wamid
        $0.timestamp = ts
        $0.contactWaID = wa
        $0.contactUserID = user
        $0.direction = direction
        $0.origin = origin
        $0.type = type
        $0.body = body
        if let body { $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8)) }
        $0.arrival = arrival
    }
}

func change(_ kind: RecordKind, _ wamid: String, of original: String, ts: Int64, wa: String? = "100",
            body: String? = nil) -> Record {
    record(kind) {
        $0.wamid = wamid
        $0.originalMessageID = original
        $0.timestamp = ts
        $0.contactWaID = wa
        $0.direction = .inbound
        $0.origin = .live
        if let body {
            $0.type = "text"
            $0.body = body
            $0.content = RawJSON(Array("{\"body\":\"\(body)\"}".utf8))
        }
    }
}

func chunk(phase: Int, order: Int, progress: Int, messages: Int = 1, phone: String = testPhone, time: Int64? = nil) -> Record {
    record(.historyChunk, phone: phone) {
        $0.phase = phase
        $0.chunkOrder = order
        $0.progress = progress
        $0.threadCount = 1
        $0.messageCount = messages
        $0.timestamp = time
    }
}

func accountEvent(_ event: String, time: Int64?, reason: String? = nil) -> Record {
    record(.accountEvent, phone: nil) {
        $0.event = event
        $0.timestamp = time
        $0.reason = reason
    }
}

/// Loads `records` into a fresh database DIR/111000111.sqlite and returns its path.
@discardableResult
func load(_ records: [Record], into dir: TempDir, time: Int64 = 1_768_000_000) throws -> String {
    let path = dir.file("\(testWaba).sqlite")
    _ = try BusinessLoad.load(records, path: path, wabaID: testWaba, inputs: ["night.ndjson"], time: time)
    return path
}

/// The JSON report parsed by Foundation (an independent reader of what JSONWriter wrote).
func parsedJSON(_ report: BusinessReport) throws -> [String: Any] {
    let bytes = ReportJSON.render(report)
    guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
        throw TestError("the JSON report is not an object")
    }
    return object
}

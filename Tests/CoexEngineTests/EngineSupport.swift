import CoexEngine
import CoexIO
import CoexJSON
import CoexKit
import CoexSamples
import Foundation

/// Collects what a stage emits, as the NDJSON lines a stage executable would write.
final class CollectingOutlet: RecordOutlet {
    var records: [Record] = []
    var rejects: [Reject] = []
    var notes: [String] = []
    var failures: [String] = []
    var finished = false

    func put(_ record: Record) throws(IOError) { records.append(record) }
    func reject(_ reject: Reject) throws(IOError) { rejects.append(reject) }
    func note(_ line: String, stage: StageName) { notes.append("\(stage.command): \(line)") }
    func fail(_ line: String, stage: StageName) { failures.append("\(stage.command): \(line)") }
    func finish() throws(IOError) { finished = true }

    var lines: [String] { records.map(\.jsonLine) }
}

/// Every record of a generated capture, as coex-normalize emits them.
func generatedRecords(seed: UInt64 = 17, businesses: Int = 3, messages: Int = 300) -> [Record] {
    var stage = NormalizeStage()
    var records: [Record] = []
    var rejects: [Reject] = []
    let capture = CaptureGenerator(CaptureOptions(seed: seed, businesses: businesses, messagesPerBusiness: messages))
    for (index, (_, body)) in capture.enumerated() {
        body.withUnsafeBytes {
            stage.process($0, padded: false, provenance: Provenance(source: "cap.ndjson", line: index + 1),
                          records: &records, rejects: &rejects)
        }
    }
    return records
}

/// Runs `records` through a stage and returns what it emitted.
func run(_ stage: some RecordStage, _ records: [Record]) throws -> CollectingOutlet {
    let out = CollectingOutlet()
    for record in records { try stage.take(record, out) }
    try stage.finish(out)
    return out
}

/// A roomy budget (nothing spills) or the smallest one (everything that can spill does).
func settings(_ budget: Int, in dir: String) -> SpillSettings {
    SpillSettings(budget: budget, temporaryDirectory: dir, label: "--memory test")
}

func message(_ wamid: String, waba: String = "100", at time: Int64, body: String? = nil, line: Int = 1) -> Record {
    var r = Record(kind: .message, wabaID: waba, provenance: Provenance(source: "t.ndjson", line: line))
    r.wamid = wamid
    r.phoneNumberID = "555"
    r.contactWaID = "4915550001"
    r.direction = .inbound
    r.origin = .live
    r.timestamp = time
    r.type = "text"
    r.body = body ?? "hello \(wamid)"
    r.content = RawJSON(Array("{\"body\":\"\(r.body!)\"}".utf8))
    return r
}

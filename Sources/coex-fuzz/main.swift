// libFuzzer target: a capture (usually one line) through what coex-validate and
// coex-normalize do to each of its lines, checking what must hold for any input.
// Built only with `--sanitize=fuzzer` (fuzz/run.sh); a plain build links it too,
// as an executable that does nothing, so it cannot rot unseen.
// No top-level code: libFuzzer's main calls LLVMFuzzerTestOneInput.
import CoexEngine
import CoexJSON
import CoexKit
import Foundation

/// A broken invariant is a finding: abort so libFuzzer saves the input.
func fail(_ what: String, line: [UInt8]) -> Never {
    let shown = String(decoding: line.prefix(400), as: UTF8.self)
    let message = Array("coex-fuzz: invariant broken: \(what)\n  line: \(shown)\n".utf8)
    _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// The lines LineReader would hand the stages: split on LF, a CR before it dropped,
/// a BOM on line 1 dropped. A final LF does not start a line.
func physicalLines(_ data: [UInt8]) -> [[UInt8]] {
    var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
    if data.last == 0x0A { lines.removeLast() }
    for i in lines.indices where lines[i].last == 0x0D { lines[i].removeLast() }
    if let first = lines.first, first.starts(with: [0xEF, 0xBB, 0xBF]) { lines[0].removeFirst(3) }
    return lines
}

/// The line in a buffer with `JSONParser.padding` zeroed bytes after it, as LineReader
/// guarantees, so the stages take their no-copy path as in production.
func withPadded<R>(_ line: [UInt8], _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: line.count + JSONParser.padding, alignment: 64)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    line.withUnsafeBytes { buffer.copyMemory(from: $0) }
    return body(UnsafeRawBufferPointer(rebasing: buffer[..<line.count]))
}

/// A reject must be written as JSON that gives back its line's bytes exactly.
func checkReject(_ r: Reject, raw: [UInt8], stage: String, provenance: Provenance, parser: JSONParser, line: [UInt8]) {
    guard r.raw == raw else { fail("\(stage) reject does not carry the line's raw bytes", line: line) }
    guard r.stage == stage else { fail("reject of \(stage) names stage \(r.stage)", line: line) }
    guard r.provenance == provenance else { fail("\(stage) reject has provenance \(r.provenance.description)", line: line) }
    _ = r.message
    var w = JSONWriter()
    r.write(to: &w)
    let written = w.bytes
    let value: JSONValue
    do { value = try parser.parse(written) } catch { fail("reject JSON does not parse: \(error)", line: line) }
    guard value["reason"]?.string == r.reason, value["stage"]?.string == stage,
        value["line"]?.int64 == Int64(provenance.line), value["source"]?.string == provenance.source
    else { fail("reject JSON loses its fields", line: line) }
    if let text = value["raw"]?.stringBytes {
        guard Array(text) == raw else { fail("reject \"raw\" differs from the line", line: line) }
    } else if let base64 = value["raw_base64"]?.string {
        guard let decoded = Data(base64Encoded: base64), Array(decoded) == raw else {
            fail("reject \"raw_base64\" differs from the line", line: line)
        }
    } else {
        fail("reject JSON has neither raw nor raw_base64", line: line)
    }
}

/// Each record is written as one JSON line that reads back as the same record.
func checkRecords(_ records: ArraySlice<Record>, parser: JSONParser, line: [UInt8]) {
    for record in records {
        var w = JSONWriter()
        record.write(to: &w)
        if w.bytes.contains(0x0A) { fail("record JSON spans lines", line: line) }
        let value: JSONValue
        do { value = try parser.parse(w.bytes) } catch { fail("record JSON does not parse: \(error)", line: line) }
        let back: Record
        do { back = try Record(json: value) } catch { fail("record JSON does not read back: \(error)", line: line) }
        if back != record { fail("record reads back different: \(String(decoding: w.bytes, as: UTF8.self))", line: line) }
    }
}

enum Outcome: Equatable { case blank, rejected, kept }

/// coex-normalize on one line; checks its counts and returns its outcome and the records it made.
func normalize(
    _ stage: inout NormalizeStage, _ line: [UInt8], padded: Bool, provenance: Provenance,
    rejects: inout [Reject], parser: JSONParser, original: [UInt8]
) -> (Outcome, [Record], rejectedRecords: Int, droppedUpstream: Int) {
    let before = stage.counts
    let totalBefore = stage.normalizer.counts.recordTotal
    let rejectsBefore = rejects.count
    var records: [Record] = []
    if padded {
        withPadded(line) {
            stage.process($0, padded: true, provenance: provenance, records: &records, rejects: &rejects)
        }
    } else {
        line.withUnsafeBytes {
            stage.process($0, padded: false, provenance: provenance, records: &records, rejects: &rejects)
        }
    }
    let after = stage.counts
    guard after.lines == before.lines + 1 else { fail("normalize did not count the line", line: original) }
    let outcome = lineOutcome("normalize", blank: after.blank - before.blank, rejected: after.rejected - before.rejected,
                              kept: after.normalized - before.normalized, line: original)
    let rejectedRecords = after.rejectedRecords - before.rejectedRecords
    let droppedUpstream = after.droppedUpstream - before.droppedUpstream
    let newRejects = rejects.count - rejectsBefore
    guard stage.normalizer.counts.badRecords == 0 else { fail("normalizer left bad records counted", line: original) }
    guard stage.normalizer.counts.recordTotal - totalBefore == records.count else {
        fail("normalize counted \(stage.normalizer.counts.recordTotal - totalBefore) records, made \(records.count)",
             line: original)
    }
    switch outcome {
    case .blank:
        guard records.isEmpty, newRejects == 0 else { fail("a blank line produced output", line: original) }
    case .rejected:
        guard records.isEmpty else { fail("a rejected line produced records", line: original) }
        guard newRejects == 1 else { fail("a rejected line has \(newRejects) rejects", line: original) }
    case .kept:
        guard newRejects == rejectedRecords else {
            fail("normalize counted \(rejectedRecords) bad records, wrote \(newRejects) rejects", line: original)
        }
    }
    checkRecords(records[...], parser: parser, line: original)
    return (outcome, records, rejectedRecords, droppedUpstream)
}

/// The one outcome a stage's counts say a line had; two or none is a finding.
func lineOutcome(_ stage: String, blank: Int, rejected: Int, kept: Int, line: [UInt8]) -> Outcome {
    let outcomes = [blank, rejected, kept]
    guard outcomes.sorted() == [0, 0, 1] else { fail("\(stage) gave the line outcomes \(outcomes)", line: line) }
    return blank == 1 ? .blank : rejected == 1 ? .rejected : .kept
}

func fuzzOne(_ data: [UInt8]) {
    let parser = JSONParser()
    var validate = ValidateStage()
    var validateHuge = ValidateStage()
    var normalizeEnvelopes = NormalizeStage()
    var normalizeRaw = NormalizeStage()
    for (index, line) in physicalLines(data).enumerated() {
        let provenance = Provenance(source: "fuzz.ndjson", line: index + 1)

        // coex-validate, as ValidateWorker calls it for a line of ordinary size.
        let before = validate.counts
        var output = JSONWriter()
        var rejects: [Reject] = []
        withPadded(line) {
            validate.process($0, padded: true, provenance: provenance, output: &output, rejects: &rejects)
        }
        let after = validate.counts
        guard after.lines == before.lines + 1 else { fail("validate did not count the line", line: line) }
        let outcome = lineOutcome("validate", blank: after.blank - before.blank, rejected: after.rejected - before.rejected,
                                  kept: after.valid - before.valid, line: line)
        let dropped = after.rejectedRecords - before.rejectedRecords
        for r in rejects {
            checkReject(r, raw: line, stage: ValidateStage.name.command, provenance: provenance, parser: parser, line: line)
        }
        switch outcome {
        case .blank:
            guard output.bytes.isEmpty, rejects.isEmpty else { fail("a blank line produced output", line: line) }
        case .rejected:
            guard output.bytes.isEmpty else { fail("a rejected line produced an envelope", line: line) }
            guard rejects.count == 1 else { fail("a rejected line has \(rejects.count) rejects", line: line) }
        case .kept:
            guard rejects.count == dropped else { fail("\(dropped) records dropped, \(rejects.count) rejects", line: line) }
            guard output.bytes.last == 0x0A, output.bytes.firstIndex(of: 0x0A) == output.bytes.count - 1 else {
                fail("the envelope is not one line", line: line)
            }
        }

        // The same line as a huge one: head, the body from the caller's bytes, tail.
        var headOutput = JSONWriter()
        var hugeRejects: [Reject] = []
        var body: [UInt8]?
        withPadded(line) {
            validateHuge.process($0, padded: true, provenance: provenance, output: &headOutput, rejects: &hugeRejects,
                                 bodyOut: { body = Array($0) })
        }
        if hugeRejects != rejects { fail("the huge-line path rejects differently", line: line) }
        if let body {
            if headOutput.bytes + body + Envelope.tail != output.bytes {
                fail("the huge-line path writes a different envelope", line: line)
            }
        } else if !headOutput.bytes.isEmpty || outcome == .kept {
            fail("the huge-line path keeps the line differently", line: line)
        }

        // coex-normalize on the raw line: it validates it itself, to the same verdict.
        var rawRejects: [Reject] = []
        let raw = normalize(&normalizeRaw, line, padded: false, provenance: provenance, rejects: &rawRejects,
                            parser: parser, original: line)
        for r in rawRejects {
            // An envelope-shaped line is read as an envelope: its rejects name the envelope's provenance.
            if r.provenance == provenance {
                checkReject(r, raw: line, stage: NormalizeStage.name.command, provenance: provenance, parser: parser, line: line)
            }
        }
        let isEnvelope = (try? parser.parse(line)).flatMap(Envelope.read) != nil
        if !isEnvelope {
            if raw.0 != outcome { fail("validate says \(outcome), normalize of the raw line \(raw.0)", line: line) }
            if raw.rejectedRecords != dropped {
                fail("validate dropped \(dropped) records, normalize of the raw line \(raw.rejectedRecords)", line: line)
            }
        }

        // coex-normalize on the envelope: it trusts what coex-validate found, and makes the
        // same records as from the raw line.
        guard outcome == .kept else { continue }
        let envelope = Array(output.bytes.dropLast())
        let value: JSONValue
        do { value = try parser.parse(envelope) } catch { fail("the envelope does not parse: \(error)", line: line) }
        guard let read = Envelope.read(value) else { fail("the envelope does not read as one", line: line) }
        guard read.provenance == provenance, read.dropped == dropped else {
            fail("the envelope says \(read.provenance.description), dropped \(read.dropped)", line: line)
        }
        var envelopeRejects: [Reject] = []
        let normalized = normalize(&normalizeEnvelopes, envelope, padded: true, provenance: provenance,
                                   rejects: &envelopeRejects, parser: parser, original: line)
        guard normalized.0 == .kept else { fail("normalize rejects a validated envelope", line: line) }
        guard envelopeRejects.isEmpty, normalized.rejectedRecords == 0, normalized.droppedUpstream == dropped else {
            fail("normalize of the envelope rejects \(envelopeRejects.count) records again "
                + "(dropped upstream \(normalized.droppedUpstream) of \(dropped))", line: line)
        }
        if !isEnvelope && normalized.1 != raw.1 {
            fail("the envelope makes other records than the raw line", line: line)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

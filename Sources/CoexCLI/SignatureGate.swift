import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

/// `--app-secret-file`: each capture line is checked again against the signature
/// `coex capture` recorded for it in the signature file beside the capture, before the
/// stage sees it. A line that does not verify is rejected (file and line named) and
/// goes no further. Reads the signature file alongside the capture, in line order, so
/// memory does not grow with the capture.
public final class SignatureGate {
    let secrets: AppSecrets
    let stage: String
    private let parser = JSONParser()
    private var source: String?
    private var reader: LineReader?
    private var readerName = ""
    private var next: SignatureRecord?
    public private(set) var verified = 0
    public private(set) var rejected = 0
    /// Verified deliveries whose body was empty or only whitespace: stored as a blank line,
    /// which a stage would skip as blank, they are rejected here instead.
    public private(set) var emptyBodies = 0
    /// Lines the gate kept from the stage: not verified, or verified but empty.
    public var refused: Int { rejected + emptyBodies }

    /// What the gate did, for the stage's summary on stderr.
    public var summary: String {
        var text = "\(plural(verified, "signature")) verified, \(rejected) did not verify"
        if emptyBodies > 0 { text += "; \(emptyBodies) verified \(emptyBodies == 1 ? "body" : "bodies") empty, rejected" }
        return text
    }

    public init(secrets: AppSecrets, stage: String) {
        self.secrets = secrets
        self.stage = stage
    }

    /// The signature file of a capture: `NAME.sig` or `NAME.sig.zst` for `NAME.ndjson`
    /// or `NAME.ndjson.zst` (the receiver compresses both when it finishes a file).
    public static func signatureFile(for capture: String) -> String? {
        candidates(for: capture).first { access($0, R_OK) == 0 }
    }

    public static func candidates(for capture: String) -> [String] {
        var base = capture
        for suffix in [".zst", ".ndjson", ".jsonl"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
        return [base + ".sig", base + ".sig.zst"]
    }

    /// Whether `line` of `source` verifies; a line that does not is reported as a reject.
    func admit(_ line: Line, source: String, io: StageIO) throws(IOError) -> Bool {
        if source != self.source { open(source, io: io) }
        let record = recordFor(line.number, io: io)
        let reason: String
        if let problem = problem(line, record) {
            rejected += 1
            reason = problem
        } else {
            verified += 1
            guard line.isBlank else { return true }
            emptyBodies += 1
            reason = "the delivery's body is empty or only whitespace (\(record?.bytes ?? 0) bytes): not a webhook"
        }
        var rejects = [Reject(provenance: Provenance(source: source, line: line.number), stage: stage,
                              reason: reason, raw: Array(line.bytes))]
        try io.report(&rejects)
        return false
    }

    private func problem(_ line: Line, _ record: SignatureRecord?) -> String? {
        guard let record else { return "no signature recorded for this line in \(readerName)" }
        var bytes = line.bytes
        // The line reader drops a byte order mark from a file's first line; the body had it.
        var withMark: [UInt8] = []
        if line.number == 1 && record.bytes == bytes.count + 3 {
            withMark = [0xEF, 0xBB, 0xBF] + Array(bytes)
        }
        return withMark.withUnsafeBytes { marked in
            if !withMark.isEmpty { bytes = marked }
            guard record.bytes == bytes.count else {
                return "line is \(bytes.count) bytes but \(record.bytes) were received and signed"
            }
            guard let body = CapturedBody.restore(bytes, breaks: record.breaks) else {
                return "the recorded line breaks do not fit the line (changed after capture?)"
            }
            switch secrets.check(header: record.signature, body: body) {
            case .valid: return nil
            case .missing, .malformed: return "recorded signature is not sha256=<64 hex digits>"
            case .mismatch: return "signature does not verify under any app secret (body changed, or another app's secret?)"
            }
        }
    }

    private func open(_ source: String, io: StageIO) {
        self.source = source
        reader = nil
        next = nil
        guard source != "-", let path = Self.signatureFile(for: source) else {
            readerName = Self.candidates(for: source).joined(separator: " or ") + " (missing)"
            return
        }
        readerName = path
        do {
            reader = LineReader(source: try openInput(path))
        } catch {
            io.fail(error.description)
        }
    }

    /// The record for capture line `number`: records are in line order, so earlier ones
    /// are passed over (those of lines a part of the capture does not hold).
    private func recordFor(_ number: Int, io: StageIO) -> SignatureRecord? {
        while true {
            if let next {
                if next.line == number { return next }
                if next.line > number { return nil }
            }
            guard let reader else { return nil }
            do {
                guard let line = try reader.next() else {
                    self.reader = nil
                    next = nil
                    return nil
                }
                if line.isBlank { continue }
                guard let value = try? parser.parse(line.bytes), let record = SignatureRecord(value) else {
                    io.fail("\(readerName):\(line.number): not a signature record; skipped")
                    continue
                }
                next = record
            } catch {
                io.fail(error.description)
                self.reader = nil
                return nil
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

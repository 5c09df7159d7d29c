import ArgumentParser
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit
import Synchronization

/// Stdout, rejects and stderr for one run of a stage, and whether the run failed.
public final class StageIO {
    public let stage: String
    public let output: OutputSink
    private let rejectsPath: String?
    /// Opened at the first reject: a run that rejects nothing leaves the file as it was.
    private var rejectSink: OutputSink?
    private let errors = OutputSink.standardError()
    public private(set) var failed = false
    /// Rejects reported so far (lines and records), for --max-rejects.
    public private(set) var rejectCount = 0
    /// Bytes read from all inputs so far (after decompression).
    public private(set) var bytesRead = 0
    /// Bytes and lines read so far, for a progress display on another thread.
    public let progress = ReadProgress()
    /// Written before each message: erases a progress line drawn on the terminal.
    var messagePrefix = ""
    /// The streams this stage reads; the first non-blank line of another shape stops the run.
    var accepts: StreamExpectation?
    private var shapeChecked = false
    /// What standard input is a part of: its lines are named after that capture file and
    /// numbered from its first line (a part of a large capture, read by a distributed job).
    public var standardInputPart: (source: String, firstLine: Int)?
    /// Re-verifies every line's recorded signature before the stage sees it (--app-secret-file).
    public var signatureGate: SignatureGate?

    init(stage: String, rejectsPath: String?, output: OutputSink = .standardOutput()) throws(IOError) {
        self.stage = stage
        self.output = output
        self.rejectsPath = rejectsPath
        // Checked now, opened later: an unwritable rejects file is reported before any work.
        if let rejectsPath { try WritableCheck.file(rejectsPath) }
    }

    /// Writes rejects to the rejects file, or as error lines on stderr (which fails the run).
    public func report(_ rejects: inout [Reject]) throws(IOError) {
        guard !rejects.isEmpty else { return }
        rejectCount += rejects.count
        if let rejectsPath {
            if rejectSink == nil { rejectSink = try OutputSink.appending(to: rejectsPath) }
            guard let rejectSink else { return }
            // One at a time: rejects of a huge line each carry it, and must not pile up here.
            var w = JSONWriter(capacity: 4096)
            for reject in rejects {
                w.reset()
                reject.write(to: &w)
                w.newline()
                try rejectSink.write(w.bytes)
            }
        } else {
            failed = true
            for reject in rejects { error(reject.message) }
        }
        rejects.removeAll(keepingCapacity: true)
    }

    /// A one-line message on stderr prefixed with the stage name.
    public func error(_ message: String) {
        try? errors.write("\(messagePrefix)\(stage): \(message)\n")
    }

    public func fail(_ message: String) {
        failed = true
        error(message)
    }

    /// A summary or remark: the same line as an error, without failing the run.
    public func note(_ message: String) {
        error(message)
    }

    /// A summary on behalf of another stage of the same run (`coex import` runs several in one).
    public func note(_ message: String, as stage: String) {
        try? errors.write("\(messagePrefix)\(stage): \(message)\n")
    }

    /// A failure on behalf of another stage of the same run.
    public func fail(_ message: String, as stage: String) {
        failed = true
        note(message, as: stage)
    }

    /// Calls `body` for each physical line of each input in order. An input that
    /// cannot be opened or read fails the run but not the other inputs.
    public func forEachLine(_ inputs: [String], _ body: (Line, _ source: String) throws(IOError) -> Void) throws(IOError) {
        for path in inputs {
            let reader: LineReader
            do {
                reader = LineReader(source: try openInput(path))
            } catch {
                fail(error.description)
                continue
            }
            // A read error ends this input (the run fails, the next input is read); an
            // error of the stage itself (output, spill files) ends the run.
            while true {
                let line: Line?
                do {
                    line = try reader.next()
                } catch {
                    fail(error.description)
                    break
                }
                guard let line else { break }
                if !shapeChecked, let accepts { try check(line, source: path, against: accepts) }
                progress.advance(to: bytesRead + reader.bytesRead)
                var named = (line: line, source: path)
                if path == "-", let part = standardInputPart {
                    named = (Line(bytes: line.bytes, number: line.number + part.firstLine - 1), part.source)
                }
                if let signatureGate, try !signatureGate.admit(named.line, source: named.source, io: self) {
                    reader.shrinkIfLarge()
                    continue
                }
                try body(named.line, named.source)
                // One huge history chunk must not keep its buffer for the rest of the run.
                reader.shrinkIfLarge()
            }
            bytesRead += reader.bytesRead
        }
    }

    /// The first line that shows what the stream is decides whether this stage can read it.
    private func check(_ line: Line, source: String, against expected: StreamExpectation) throws(IOError) {
        guard let shape = StreamShape.of(line: line.bytes, parser: JSONParser()) else { return }
        shapeChecked = true
        guard shape != .unknown, !expected.shapes.contains(shape) else { return }
        throw .wrongStream("\(source) line \(line.number) is \(shape), but \(stage) reads \(expected.reads); "
                           + shape.nextStage)
    }

    func finish() throws(IOError) {
        try output.flush()
        try rejectSink?.flush()
    }
}

/// Bytes and lines a stage has read, readable from any thread.
public final class ReadProgress: Sendable {
    private let bytesSeen = Atomic<Int>(0)
    private let linesSeen = Atomic<Int>(0)

    public init() {}

    public var bytes: Int { bytesSeen.load(ordering: .relaxed) }
    public var lines: Int { linesSeen.load(ordering: .relaxed) }

    /// Counts one more unit of work done (for stages that report progress in other units).
    public func count() {
        linesSeen.add(1, ordering: .relaxed)
    }

    func advance(to bytes: Int) {
        bytesSeen.store(bytes, ordering: .relaxed)
        linesSeen.add(1, ordering: .relaxed)
    }
}

/// "user_preferences 3, calls 2": largest first, then by name, so summaries are stable.
public func tally(_ counts: [String: Int]) -> String {
    counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
}


/// The streams a stage reads, and how its messages name them.
public struct StreamExpectation: Sendable {
    public let shapes: [StreamShape]
    public let reads: String

    public init(_ shapes: [StreamShape], reads: String) {
        self.shapes = shapes
        self.reads = reads
    }

    public static let captures = StreamExpectation([.webhook], reads: "captures (raw webhook bodies)")
    public static let capturesOrEnvelopes = StreamExpectation(
        [.webhook, .envelope], reads: "captures or coex-validate's envelopes")
    public static func records(from previous: StageName) -> StreamExpectation {
        StreamExpectation([.record], reads: "coex records (\(previous.command)'s output)")
    }
}

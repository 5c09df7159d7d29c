import ArgumentParser
import CoexIO
import CoexJSON
import CoexKit
import Synchronization

/// Stdout, rejects and stderr for one run of a stage, and whether the run failed.
public final class StageIO {
    public let stage: String
    public let output: OutputSink
    private let rejectSink: OutputSink?
    private let errors = OutputSink.standardError()
    public private(set) var failed = false
    /// Bytes read from all inputs so far (after decompression).
    public private(set) var bytesRead = 0
    /// Bytes and lines read so far, for a progress display on another thread.
    public let progress = ReadProgress()
    /// Written before each message: erases a progress line drawn on the terminal.
    var messagePrefix = ""

    init(stage: String, rejectsPath: String?, output: OutputSink = .standardOutput()) throws(IOError) {
        self.stage = stage
        self.output = output
        rejectSink = try rejectsPath.map { path throws(IOError) in try OutputSink.appending(to: path) }
    }

    /// Writes rejects to the rejects file, or as error lines on stderr (which fails the run).
    public func report(_ rejects: inout [Reject]) throws(IOError) {
        guard !rejects.isEmpty else { return }
        if let rejectSink {
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
                progress.advance(to: bytesRead + reader.bytesRead)
                try body(line, path)
                // One huge history chunk must not keep its buffer for the rest of the run.
                reader.shrinkIfLarge()
            }
            bytesRead += reader.bytesRead
        }
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

/// Runs a stage body with the shared error handling: a closed stdout ends the
/// run quietly with 0; a failed run exits 1 after its summary.
public func runStage(_ stage: String, input: InputOptions, _ body: (StageIO) throws(IOError) -> Void) throws {
    ignoreBrokenPipeSignal()
    for (fd, name) in [(Int32(1), "stdout"), (Int32(2), "stderr")] where !descriptorIsOpen(fd) {
        if descriptorIsOpen(2) { try? OutputSink.standardError().write("\(stage): \(name) is closed\n") }
        throw ExitCode.failure
    }
    if input.inputs.contains("-") && !descriptorIsOpen(0) {
        try? OutputSink.standardError().write("\(stage): stdin is closed (no input files given)\n")
        throw ExitCode.failure
    }
    guard let io = makeStageIO(stage, rejects: input.rejects, output: .standardOutput()) else { throw ExitCode.failure }
    switch run(body, io) {
    case .outputClosed: throw ExitCode.success
    case .ended: if io.failed { throw ExitCode.failure }
    }
}

/// Runs a stage body inside a larger run (`coex import`): its output goes to `output`
/// (closed at the end, so that the next stage sees the end of its input), its rejects
/// are appended to `rejects`. A closed output ends the stage quietly, as with a pipe.
/// Returns whether the stage succeeded.
public func runStage(_ stage: String, rejects: String?, output: OutputSink, progress: ((ReadProgress) -> Void)? = nil,
                     erasingProgressLine: Bool = false, _ body: (StageIO) throws(IOError) -> Void) -> Bool {
    defer { output.close() }
    guard let io = makeStageIO(stage, rejects: rejects, output: output) else { return false }
    progress?(io.progress)
    if erasingProgressLine { io.messagePrefix = "\r\u{1B}[K" }
    switch run(body, io) {
    case .outputClosed: return true
    case .ended: return !io.failed
    }
}

private func makeStageIO(_ stage: String, rejects: String?, output: OutputSink) -> StageIO? {
    do {
        return try StageIO(stage: stage, rejectsPath: rejects, output: output)
    } catch {
        try? OutputSink.standardError().write("\(stage): --rejects \(error.description)\n")
        return nil
    }
}

/// Runs the body and flushes: a closed output (the reader went away) ends a stage
/// quietly; any other error fails the run.
private func run(_ body: (StageIO) throws(IOError) -> Void, _ io: StageIO) -> StageEnd {
    do {
        try body(io)
        try io.finish()
    } catch .brokenPipe {
        return .outputClosed
    } catch {
        io.fail(error.description)
    }
    return .ended
}

private enum StageEnd {
    case ended
    case outputClosed
}

/// "user_preferences 3, calls 2": largest first, then by name, so summaries are stable.
public func tally(_ counts: [String: Int]) -> String {
    counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
}

/// "1 history report", "3 history reports".
public func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

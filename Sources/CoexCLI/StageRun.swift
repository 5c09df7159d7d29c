import ArgumentParser
import CoexIO

/// Runs a stage executable's body with the shared checks and error handling. Before any
/// input is read: the standard descriptors, stdin not a terminal (unless asked for),
/// `preflight` (the stage's outputs) and the rejects file. After: the exit policy of
/// `RunVerdict` (a closed stdout ends the run quietly with 0).
public func runStage(_ stage: String, input: InputOptions, accepts: StreamExpectation? = nil,
                     preflight: () throws(IOError) -> Void = {}, _ body: (StageIO) throws(IOError) -> Void) throws {
    ignoreBrokenPipeSignal()
    for (fd, name) in [(Int32(1), "stdout"), (Int32(2), "stderr")] where !descriptorIsOpen(fd) {
        if descriptorIsOpen(2) { try? OutputSink.standardError().write("\(stage): \(name) is closed\n") }
        throw ExitCode.failure
    }
    if input.inputs.contains("-") && !descriptorIsOpen(0) {
        try? OutputSink.standardError().write("\(stage): stdin is closed (no input files given)\n")
        throw ExitCode.failure
    }
    try refuseTerminalStdin(stage, files: input.files)
    do {
        try preflight()
    } catch {
        try? OutputSink.standardError().write("\(stage): \(error.description)\n")
        throw ExitCode.failure
    }
    guard let io = makeStageIO(stage, rejects: input.rejects, output: .standardOutput()) else { throw ExitCode.failure }
    io.accepts = accepts
    switch run(body, io) {
    case .outputClosed: throw ExitCode.success
    case .ended:
        let verdict = RunVerdict.judge(failed: io.failed, lines: io.progress.lines, rejects: io.rejectCount,
                                       limit: input.limit.maxRejects, rejectsFile: input.rejects, inputs: input.inputs)
        if let message = verdict.message { io.note(message) }
        if verdict.status != .success { throw verdict.status.exitCode }
    }
}

/// How a stage run inside a larger one ended.
public struct StageOutcome: Sendable {
    public var succeeded: Bool
    /// Lines the stage read, and rejects it reported.
    public var lines: Int
    public var rejects: Int

    public init(succeeded: Bool, lines: Int, rejects: Int) {
        self.succeeded = succeeded
        self.lines = lines
        self.rejects = rejects
    }
}

/// Runs a stage body inside a larger run (`coex import`): its output goes to `output`
/// (closed at the end, so that the next stage sees the end of its input), its rejects
/// are appended to `rejects`. A closed output ends the stage quietly, as with a pipe.
@discardableResult
public func runStage(_ stage: String, rejects: String?, output: OutputSink, accepts: StreamExpectation? = nil,
                     progress: ((ReadProgress) -> Void)? = nil, erasingProgressLine: Bool = false,
                     _ body: (StageIO) throws(IOError) -> Void) -> StageOutcome {
    defer { output.close() }
    guard let io = makeStageIO(stage, rejects: rejects, output: output) else {
        return StageOutcome(succeeded: false, lines: 0, rejects: 0)
    }
    io.accepts = accepts
    progress?(io.progress)
    if erasingProgressLine { io.messagePrefix = "\r\u{1B}[K" }
    let end = run(body, io)
    return StageOutcome(succeeded: end == .outputClosed || !io.failed, lines: io.progress.lines, rejects: io.rejectCount)
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

import CoexCLI
import CoexIO
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Stages run at once in one process, each on its own thread, each one's output piped
/// into the next one's input (a pipe(2) per link, as a shell would make): the stages run
/// exactly the code of their executables, so the result is the pipe's.
final class StageChain {
    private struct Stage {
        var name: String
        var command: any ChainableStage
        var output: OutputSink
        /// The read end of the pipe from the stage before, closed when this stage ends (so
        /// that a stage that stops early does not leave the one before blocked on a full pipe).
        var inputDescriptor: Int32?
    }

    private let captures: [String]
    private var stages: [Stage] = []
    private var pendingCommands: [(name: String, make: ([String]) throws -> any ChainableStage)] = []

    init(captures: [String]) {
        self.captures = captures
    }

    /// Adds a stage reading the previous stage's output (the first reads the captures).
    func add<C: ChainableStage>(_ name: String, _ type: C.Type, _ arguments: [String]) {
        pendingCommands.append((name, { inputs in try C.parse(arguments + ["--"] + inputs) }))
    }

    /// Runs every stage to its end; false when any stage failed (its messages are on stderr).
    /// `announce`: end with a line of how much was read and how fast.
    func run(totalBytes: Int?, announce: Bool = true) throws -> StageOutcome {
        try wire()
        let started = Date()
        let progress = ImportProgress(totalBytes: totalBytes, stages: stages.map(\.name))
        let results = StageResults(count: stages.count)
        let group = DispatchGroup()
        // Every stage runs on its own thread: they exchange data through pipes and would
        // deadlock on a pool smaller than the chain.
        for (index, stage) in stages.enumerated() {
            let box = UncheckedBox(stage)
            group.enter()
            let thread = Thread {
                let outcome = Self.run(box.value, index: index, progress: progress)
                if let fd = box.value.inputDescriptor { close(fd) }
                results.set(index, outcome)
                group.leave()
            }
            // Records are parsed recursively: give the threads a main thread's stack.
            thread.stackSize = 8 << 20
            thread.start()
        }
        progress.start()
        group.wait()
        progress.stop()
        guard announce else { return results.outcome }
        let seconds = Date().timeIntervalSince(started)
        let bytes = progress.bytesRead
        try? OutputSink.standardError().write(
            "coex import: \(ImportProgress.megabytes(bytes)) read in \(String(format: "%.1f", seconds)) s "
                + "(\(ImportProgress.megabytes(Int(Double(bytes) / max(seconds, 0.001))))/s)"
                + (results.outcome.succeeded ? "" : "; failed") + "\n")
        return results.outcome
    }

    private static func run(_ stage: Stage, index: Int, progress: ImportProgress) -> StageOutcome {
        let command = stage.command
        func execute(_ io: StageIO) throws(IOError) { try command.execute(io) }
        func watch(_ read: ReadProgress) { progress.watch(read, stage: index) }
        return runStage(stage.name, rejects: command.input.rejects, output: stage.output, progress: watch,
                        erasingProgressLine: progress.isShown, execute)
    }

    /// Parses each stage's flags with the previous pipe's read end as its input.
    private func wire() throws {
        var inputs = captures
        var inputDescriptor: Int32? = nil
        for (index, pending) in pendingCommands.enumerated() {
            var stage = Stage(name: pending.name, command: try pending.make(inputs), output: .standardOutput(),
                              inputDescriptor: inputDescriptor)
            if index < pendingCommands.count - 1 {
                var fds: [Int32] = [0, 0]
                guard pipe(&fds) == 0 else { throw IOError.cannotOpen(path: "pipe", reason: String(cString: strerror(errno))) }
                // A larger pipe means fewer context switches between the stages.
                _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, 1 << 20)
                stage.output = .owning(descriptor: fds[1], name: "the pipe to \(pendingCommands[index + 1].name)")
                inputDescriptor = fds[0]
                inputs = ["/dev/fd/\(fds[0])"]
            }
            stages.append(stage)
        }
    }
}

/// How each stage ended, written from the stages' threads.
private final class StageResults: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [StageOutcome?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ outcome: StageOutcome) {
        lock.withLock { outcomes[index] = outcome }
    }

    /// Succeeded when every stage did; the first stage's lines, every stage's rejects.
    var outcome: StageOutcome {
        lock.withLock {
            StageOutcome(succeeded: outcomes.allSatisfy { $0?.succeeded == true }, lines: outcomes.first??.lines ?? 0,
                         rejects: outcomes.reduce(0) { $0 + ($1?.rejects ?? 0) })
        }
    }
}

/// Hands a value that is used by one thread at a time to that thread.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

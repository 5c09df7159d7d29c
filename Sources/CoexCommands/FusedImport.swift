import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `coex import`: normalize on every thread, its records handed as values to chains of the
/// very stage objects the stage executables run (dedupe, then order, then apply, then
/// load), the way miller chains verbs with `then`: one chain per thread, each with its
/// share of the businesses. No JSON between the stages; each store spills past its share
/// of --memory; the chains finish at the same time, each loading its businesses.
///
/// Each stage's summary is the one its executable prints.
final class FusedImport {
    let captures: [String]
    let outDirectory: String
    let rejects: String?
    let memory: MemoryOptions
    let threads: Int
    let gate: SignatureGate?

    init(captures: [String], outDirectory: String, rejects: String?, memory: MemoryOptions, threads: Int,
         gate: SignatureGate? = nil) {
        self.gate = gate
        self.captures = captures
        self.outDirectory = outDirectory
        self.rejects = rejects
        self.memory = memory
        self.threads = threads
    }

    /// Runs the import (its outputs were checked before): whether anything failed (the
    /// messages are on stderr), the capture lines read and the rejects of every stage.
    func run() -> StageOutcome {
        let started = Date()
        let progress = ImportProgress(totalBytes: ImportProgress.totalBytes(of: captures),
                                      stages: [StageName.normalize.command, ""], countLabel: "businesses loaded")
        progress.start()
        let output = ChainOutput()
        // Businesses are independent: each chain sees exactly the records of its own
        // businesses, in input order, as one chain of all would.
        let count = max(1, threads)
        // One pool for every store of every chain: --memory is the budget of the run.
        let spill = memory.spill
        let chains = (0..<count).map { _ in makeChain(output, spill.share(4 * count), threadsEach: max(1, threads / count)) }
        let router = ChainRouter(chains)
        let normalized = runStage(StageName.normalize.command, rejects: rejects, output: Self.nowhere(),
                                  accepts: .capturesOrEnvelopes, progress: { progress.watch($0, stage: 0) },
                                  erasingProgressLine: progress.isShown)
        { io throws(IOError) in
            output.io = io
            io.signatureGate = gate
            let workers = (0..<threads).map { _ in ChainingNormalizeWorker(router: router) }
            try io.forEachLineInParallel(captures, workers: workers)
            try router.flush()
            if let gate {
                io.note(gate.summary)
            }
            io.note(NormalizeCommand.summary(of: workers.map(\.stage), unverified: gate?.refused ?? 0))
        }
        let loaded = runStage(StageName.load.command, rejects: rejects, output: Self.nowhere(),
                              progress: { progress.watch($0, stage: 1) }, erasingProgressLine: progress.isShown)
        { io throws(IOError) in
            output.io = io
            // A failed read of the captures leaves the chains unfinished: nothing is loaded.
            guard normalized.succeeded || normalized.lines > 0 else { return }
            try router.finish()
            output.printNotes(chains)
        }
        progress.stop()
        let seconds = Date().timeIntervalSince(started)
        let bytes = progress.bytesRead
        try? OutputSink.standardError().write(
            "coex import: \(ImportProgress.megabytes(bytes)) read in \(String(format: "%.1f", seconds)) s "
                + "(\(ImportProgress.megabytes(Int(Double(bytes) / max(seconds, 0.001))))/s)"
                + (normalized.succeeded && loaded.succeeded ? "" : "; failed") + "\n")
        return StageOutcome(succeeded: normalized.succeeded && loaded.succeeded, lines: normalized.lines,
                            rejects: normalized.rejects + loaded.rejects)
    }

    /// dedupe → order → apply → load, their stores drawing on the run's one pool.
    private func makeChain(_ output: ChainOutput, _ share: SpillSettings, threadsEach: Int) -> StageChain {
        let settings = LoadSettings(outDirectory: outDirectory, inputs: captures,
                                    time: Int64(Date().timeIntervalSince1970), threads: threadsEach)
        return StageChain(dedupe: DedupeStage(share), order: OrderStage(share), apply: ApplyStage(share),
                           load: LoadStage(settings, spill: share), tail: ChainTail(output))
    }

    /// The stages' output where nothing reads it: records pass in memory instead.
    private static func nowhere() -> OutputSink {
        .owning(descriptor: open("/dev/null", O_WRONLY), name: "/dev/null")
    }
}

/// What the chains share of the run's output: the stage's I/O, used under one lock.
final class ChainOutput: @unchecked Sendable {
    var io: StageIO?
    let lock = NSLock()

    /// Each stage's notes, then its summary over all the chains, as one stage would print them.
    func printNotes(_ chains: [StageChain]) {
        guard let io else { return }
        for (stage, lines) in StageChain.report(chains) {
            for line in lines { io.note(line, as: stage.command) }
        }
    }
}

/// The end of one chain: rejects go to the run's rejects file as they come, notes wait
/// for the end so that each stage's lines come before its summary, as in the pipe.
final class ChainTail: NoteCollectingOutlet {
    private let output: ChainOutput
    private var notes: [(line: String, stage: StageName)] = []

    init(_ output: ChainOutput) { self.output = output }

    func put(_ record: Record) throws(IOError) {}

    func reject(_ reject: Reject) throws(IOError) {
        var rejects = [reject]
        output.lock.lock()
        defer { output.lock.unlock() }
        try output.io?.report(&rejects)
    }

    func note(_ line: String, stage: StageName) {
        notes.append((line, stage))
        if stage == .load { output.lock.withLock { output.io?.progress.count() } }
    }

    func fail(_ line: String, stage: StageName) {
        output.lock.withLock { output.io?.fail(line, as: stage.command) }
    }

    func finish() throws(IOError) {}

    func notes(of stage: StageName) -> [String] { notes.filter { $0.stage == stage }.map(\.line) }
}

/// coex-normalize's worker, its records handed to the chain (in input order, on the
/// driving thread) instead of written out.
final class ChainingNormalizeWorker: LineWorker {
    var stage = NormalizeStage()
    private var records: [Record] = []
    private var rejects: [Reject] = []
    private let router: ChainRouter

    init(router: ChainRouter) {
        self.router = router
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        stage.process(bytes, padded: true, provenance: provenance, records: &records, rejects: &rejects)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        for record in records { try router.add(record) }
        records.removeAll(keepingCapacity: true)
    }
}

import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `coex import`: normalize on every thread, its records handed as values to one chain of
/// the very stage objects the stage executables run (dedupe, then order, then apply, then
/// load), the way miller chains verbs with `then`. No JSON between the stages; each store
/// spills past its share of --memory; businesses load in parallel at the end.
///
/// Each stage's summary is the one its executable prints.
final class FusedImport {
    let captures: [String]
    let outDirectory: String
    let rejects: String?
    let memory: MemoryOptions
    let threads: Int

    init(captures: [String], outDirectory: String, rejects: String?, memory: MemoryOptions, threads: Int) {
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
        let tail = ChainTail()
        let chain = makeChain(tail)
        let normalized = runStage(StageName.normalize.command, rejects: rejects, output: Self.nowhere(),
                                  accepts: .capturesOrEnvelopes, progress: { progress.watch($0, stage: 0) },
                                  erasingProgressLine: progress.isShown)
        { io throws(IOError) in
            tail.io = io
            let workers = (0..<threads).map { _ in ChainingNormalizeWorker(chain: chain.head) }
            try io.forEachLineInParallel(captures, workers: workers)
            io.note(NormalizeCommand.summary(of: workers.map(\.stage)))
        }
        let loaded = runStage(StageName.load.command, rejects: rejects, output: Self.nowhere(),
                              progress: { progress.watch($0, stage: 1) }, erasingProgressLine: progress.isShown)
        { io throws(IOError) in
            tail.io = io
            // A failed read of the captures leaves the chain unfinished: nothing is loaded.
            guard normalized.succeeded || normalized.lines > 0 else { return }
            try chain.head.finish()
            tail.printNotes(chain)
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

    /// dedupe → order → apply → load. The stores hold state at the same time (a stage's
    /// store fills while the one before it drains), so each gets a quarter of --memory.
    private func makeChain(_ tail: ChainTail) -> ImportChain {
        let share = memory.spill.share(4)
        let settings = LoadSettings(outDirectory: outDirectory, inputs: captures,
                                    time: Int64(Date().timeIntervalSince1970), threads: threads)
        let load = StageLink(LoadStage(settings, spill: share), then: tail)
        let apply = StageLink(ApplyStage(share), then: load)
        let order = StageLink(OrderStage(share), then: apply)
        let dedupe = StageLink(DedupeStage(share), then: order)
        return ImportChain(links: [dedupe, order, apply, load])
    }

    /// The stages' output where nothing reads it: records pass in memory instead.
    private static func nowhere() -> OutputSink {
        .owning(descriptor: open("/dev/null", O_WRONLY), name: "/dev/null")
    }
}

/// The chained stages, first to last.
struct ImportChain {
    let links: [StageLink]
    var head: StageLink { links[0] }
}

/// The end of the chain: rejects go to the run's rejects file as they come, notes wait
/// for the end so that each stage's lines come before its summary, as in the pipe.
final class ChainTail: RecordOutlet {
    var io: StageIO?
    private var notes: [(line: String, stage: StageName)] = []

    func put(_ record: Record) throws(IOError) {}

    func reject(_ reject: Reject) throws(IOError) {
        var rejects = [reject]
        try io?.report(&rejects)
    }

    func note(_ line: String, stage: StageName) {
        notes.append((line, stage))
        if stage == .load { io?.progress.count() }
    }

    func fail(_ line: String, stage: StageName) {
        io?.fail(line, as: stage.command)
    }

    func finish() throws(IOError) {}

    /// Each stage's notes, then its summary over the records the stage before handed it.
    func printNotes(_ chain: ImportChain) {
        guard let io else { return }
        for link in chain.links {
            let name = type(of: link.stage).name
            for note in notes where note.stage == name { io.note(note.line, as: name.command) }
            for line in link.stage.summary(InputCounts(lines: link.taken)) { io.note(line, as: name.command) }
        }
        notes = []
    }
}

/// coex-normalize's worker, its records handed to the chain (in input order, on the
/// driving thread) instead of written out.
final class ChainingNormalizeWorker: LineWorker {
    var stage = NormalizeStage()
    private var records: [Record] = []
    private var rejects: [Reject] = []
    private let chain: RecordOutlet

    init(chain: RecordOutlet) {
        self.chain = chain
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        stage.process(bytes, padded: true, provenance: provenance, records: &records, rejects: &rejects)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        for record in records { try chain.put(record) }
        records.removeAll(keepingCapacity: true)
    }
}

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
            let workers = (0..<threads).map { _ in ChainingNormalizeWorker(router: router) }
            try io.forEachLineInParallel(captures, workers: workers)
            try router.flush()
            io.note(NormalizeCommand.summary(of: workers.map(\.stage)))
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
    private func makeChain(_ output: ChainOutput, _ share: SpillSettings, threadsEach: Int) -> ImportChain {
        let settings = LoadSettings(outDirectory: outDirectory, inputs: captures,
                                    time: Int64(Date().timeIntervalSince1970), threads: threadsEach)
        return ImportChain(dedupe: DedupeStage(share), order: OrderStage(share), apply: ApplyStage(share),
                           load: LoadStage(settings, spill: share), tail: ChainTail(output))
    }

    /// The stages' output where nothing reads it: records pass in memory instead.
    private static func nowhere() -> OutputSink {
        .owning(descriptor: open("/dev/null", O_WRONLY), name: "/dev/null")
    }
}

/// One chain of stage objects, first to last, and the end that collects its notes.
final class ImportChain: @unchecked Sendable {
    let dedupe: DedupeStage
    let order: OrderStage
    let apply: ApplyStage
    let load: LoadStage
    let tail: ChainTail
    let links: [StageLink]
    var head: StageLink { links[0] }

    init(dedupe: DedupeStage, order: OrderStage, apply: ApplyStage, load: LoadStage, tail: ChainTail) {
        self.dedupe = dedupe
        self.order = order
        self.apply = apply
        self.load = load
        self.tail = tail
        let loadLink = StageLink(load, then: tail)
        let applyLink = StageLink(apply, then: loadLink)
        let orderLink = StageLink(order, then: applyLink)
        links = [StageLink(dedupe, then: orderLink), orderLink, applyLink, loadLink]
    }
}

/// Hands each record to the chain of its business, a batch at a time, the chains taking
/// their batches at the same time on threads of their own.
final class ChainRouter: @unchecked Sendable {
    let chains: [ImportChain]
    private var batches: [[Record]]
    private var buffered = 0
    /// The chain of each business seen so far, and the records each chain was given.
    private var chainOf: [String: Int] = [:]
    private var routed: [Int]

    init(_ chains: [ImportChain]) {
        self.chains = chains
        batches = Array(repeating: [], count: chains.count)
        routed = Array(repeating: 0, count: chains.count)
    }

    /// On the driving thread, in input order. A business new to the run goes to the
    /// chain given the fewest records so far (the input decides, never the timing).
    func add(_ record: Record) throws(IOError) {
        let chain: Int
        if let known = chainOf[record.wabaID] {
            chain = known
        } else {
            chain = routed.indices.min { routed[$0] < routed[$1] } ?? 0
            chainOf[record.wabaID] = chain
        }
        routed[chain] += 1
        batches[chain].append(record)
        buffered += 1
        if buffered >= 8192 { try flush() }
    }

    func flush() throws(IOError) {
        let work = batches
        batches = Array(repeating: [], count: chains.count)
        buffered = 0
        try inParallel { i throws(IOError) in
            for record in work[i] { try self.chains[i].head.put(record) }
        }
    }

    /// The end of input: every chain's stages finish, at the same time.
    func finish() throws(IOError) {
        try flush()
        try inParallel { i throws(IOError) in try self.chains[i].head.finish() }
    }

    private func inParallel(_ body: @escaping (Int) throws(IOError) -> Void) throws(IOError) {
        if chains.count == 1 {
            try body(0)
            return
        }
        let errors = ChainErrors(count: chains.count)
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: chains.count) { i in
            do throws(IOError) { try box.value(i) } catch { errors.set(i, error) }
        }
        if let error = errors.first { throw error }
    }
}

private final class ChainErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [IOError?]
    init(count: Int) { errors = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ error: IOError) { lock.withLock { errors[i] = error } }
    var first: IOError? { lock.withLock { errors.compactMap { $0 }.first } }
}

private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// What the chains share of the run's output: the stage's I/O, used under one lock.
final class ChainOutput: @unchecked Sendable {
    var io: StageIO?
    let lock = NSLock()

    /// Each stage's notes, then its summary over all the chains, as one stage would print them.
    func printNotes(_ chains: [ImportChain]) {
        guard let io, let first = chains.first else { return }
        for chain in chains.dropFirst() {
            first.dedupe.absorb(chain.dedupe)
            first.order.absorb(chain.order)
            first.apply.absorb(chain.apply)
            first.load.absorb(chain.load)
        }
        for (index, link) in first.links.enumerated() {
            let name = type(of: link.stage).name
            // Within a stage, by business (each business is in one chain, in order there).
            let notes = chains.flatMap { $0.tail.notes(of: name) }.sorted()
            for note in notes { io.note(note, as: name.command) }
            let taken = chains.reduce(0) { $0 + $1.links[index].taken }
            for line in link.stage.summary(InputCounts(lines: taken)) { io.note(line, as: name.command) }
        }
    }
}

/// The end of one chain: rejects go to the run's rejects file as they come, notes wait
/// for the end so that each stage's lines come before its summary, as in the pipe.
final class ChainTail: RecordOutlet {
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

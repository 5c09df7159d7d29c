import CoexCLI
import CoexIO
import CoexJSON
import CoexKit
import CoexStore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `coex import`: coex-normalize on all cores, its records split by business; then each
/// business through dedupe, order, apply and load in memory (`BusinessImport`), as many
/// businesses at once as threads and memory allow. A business whose load would not fit in
/// two thirds of --memory on its own goes through the stage commands themselves (which
/// spill), chained in this process.
///
/// Each stage's summary is the one its executable prints, summed over the businesses.
final class FusedImport: @unchecked Sendable {
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
                                      stages: ["coex-normalize", ""], countLabel: "businesses loaded")
        progress.start()
        // Records in memory wait for the end of the input: a third of the budget, the rest
        // for the businesses being loaded.
        let router = RecordRouter(budget: memory.memoryBytes / 3, temporaryDirectory: memory.temporaryDirectory)
        let normalized = runStage(NormalizeStage.name, rejects: rejects, output: Self.nowhere(),
                                  accepts: .capturesOrEnvelopes, progress: { progress.watch($0, stage: 0) }, erasingProgressLine: progress.isShown)
        { io throws(IOError) in
            let workers = (0..<threads).map { _ in RoutingNormalizeWorker(router: router) }
            try io.forEachLineInParallel(captures, workers: workers)
            io.note(NormalizeCommand.summary(of: workers.map(\.stage)))
        }
        let loaded = runStage("coex-load", rejects: rejects, output: Self.nowhere(),
                              progress: { progress.watch($0, stage: 1) }, erasingProgressLine: progress.isShown)
        { io throws(IOError) in try load(router, io) }
        progress.stop()
        let seconds = Date().timeIntervalSince(started)
        let bytes = progress.bytesRead
        try? OutputSink.standardError().write(
            "coex import: \(ImportProgress.megabytes(bytes)) read in \(String(format: "%.1f", seconds)) s "
                + "(\(ImportProgress.megabytes(Int(Double(bytes) / max(seconds, 0.001))))/s)"
                + (normalized.succeeded && loaded.succeeded ? "" : "; failed") + "\n")
        return StageOutcome(succeeded: normalized.succeeded && loaded.succeeded, lines: normalized.lines,
                            rejects: normalized.rejects + loaded.rejects + stagedRejects.load(ordering: .relaxed))
    }

    /// Rejects of the businesses loaded through the stage commands (their own StageIOs).
    private let stagedRejects = Atomic<Int>(0)

    /// The stages' output where nothing reads it: records pass in memory instead.
    private static func nowhere() -> OutputSink {
        .owning(descriptor: open("/dev/null", O_WRONLY), name: "/dev/null")
    }

    private func load(_ router: RecordRouter, _ io: StageIO) throws(IOError) {
        let settings = LoadSettings(outDirectory: outDirectory, inputs: captures, time: Int64(Date().timeIntervalSince1970))
        let businesses = router.businesses
        // Businesses load in memory within the other two thirds of the budget (the first may
        // still hold the businesses waiting their turn), as many at once as fit: a load takes
        // at most about three times its lines (measured: under 100 MB for 36 MB). One that
        // cannot fit alone goes through the stage commands.
        let gate = MemoryGate(capacity: memory.memoryBytes * 2 / 3)
        let inMemory = businesses.indices.filter { Self.cost(businesses[$0]) <= gate.capacity }
        let results = BusinessResults(count: businesses.count)
        let box = UncheckedSendable((router, businesses, io))
        DispatchQueue.concurrentPerform(iterations: min(threads, inMemory.count)) { _ in
            let (router, businesses, io) = box.value
            while let index = results.next(of: inMemory) {
                let business = businesses[index]
                let job = BusinessImport(wabaID: business.wabaID)
                // Taken now: the business's lines leave the router below.
                let cost = Self.cost(business)
                gate.acquire(cost)
                do throws(IOError) {
                    let lines = try results.locked { () throws(IOError) in try router.take(business) }
                    job.run(lines, settings: settings)
                } catch {
                    job.fail(error.description)
                }
                gate.release(cost)
                // Rejects go out as each business ends (in the order they end), not all at once.
                do throws(IOError) {
                    try results.locked { () throws(IOError) in try io.report(&job.rejects) }
                } catch {
                    results.noteFailure("--rejects: \(error.description)")
                }
                results.set(index, job.result)
                io.progress.count()
            }
        }
        var total = StageTallies()
        var loads: [(String, BusinessOutcome)] = []
        var unloadedRejects: [String: Int] = [:]
        var rejectedLines = (dedupe: 0, order: 0, apply: 0, load: 0)
        for failure in results.failures { io.fail(failure) }
        for (index, business) in businesses.enumerated() {
            guard let job = results.result(index) else {
                // One business failing here (its file, a stage) does not stop the others.
                do throws(IOError) {
                    try loadThroughStages(business, router: router, io: io)
                } catch {
                    io.fail("\(business.wabaID): \(error.description)")
                }
                io.progress.count()
                continue
            }
            total.add(job.tallies)
            for reject in job.rejectCounts {
                switch reject.key {
                case "coex-dedupe": rejectedLines.dedupe += reject.value
                case "coex-order": rejectedLines.order += reject.value
                case "coex-apply": rejectedLines.apply += reject.value
                default: rejectedLines.load += reject.value
                }
            }
            if let outcome = job.outcome {
                loads.append((business.wabaID, outcome))
            } else {
                for (kind, n) in job.tallies.loadRejected { unloadedRejects[kind, default: 0] += n }
            }
        }
        if inMemory.count < businesses.count {
            let n = inMemory.count
            io.note(n == 0 ? "no business was loaded in memory: the counts below are zero"
                    : "the counts below are those of the \(n) \(n == 1 ? "business" : "businesses") loaded in memory")
        }
        io.note(DedupeCommand.summary(lines: total.dedupeLines, total.dedupe, rejected: rejectedLines.dedupe, blank: 0),
                as: "coex-dedupe")
        for report in total.reports { io.note("history \(report.wabaID) \(report.summary)", as: "coex-order") }
        io.note(OrderCommand.summary(lines: total.orderLines, sorted: total.orderLines - rejectedLines.order,
                                     reports: total.reports.count, out: total.orderOut, rejected: rejectedLines.order,
                                     blank: 0), as: "coex-order")
        io.note(ApplyCommand.summary(lines: total.applyLines, held: total.held, edits: total.appliedEdits,
                                     edited: total.editedMessages, versions: total.versionsOut,
                                     revokes: total.appliedRevokes, pending: total.pending, out: total.applyOut,
                                     rejected: rejectedLines.apply, blank: 0), as: "coex-apply")
        var counts = LoadCounts()
        var databases = 0
        var failures = 0
        for (business, outcome) in loads {
            switch outcome {
            case .loaded(let c):
                counts.add(c)
                databases += 1
                io.note("\(business).sqlite: \(c.summary); \(c.effects)")
            case .failed(let message):
                failures += 1
                io.fail("\(business): \(message)")
            }
        }
        for (kind, n) in unloadedRejects { counts.reject(kind, count: n) }
        var summary = "\(plural(total.loadLines, "line")) read: \(counts.summary); "
            + "\(plural(databases, "database")) written to \(outDirectory); "
            + "\(plural(rejectedLines.load, "line")) rejected, 0 blank"
        if failures > 0 { summary += "; \(failures) \(failures == 1 ? "business" : "businesses") failed" }
        io.note(summary)
    }

    /// The memory a business's load takes, about: three times its lines.
    private static func cost(_ business: RecordRouter.Business) -> Int { business.byteCount * 3 }

    /// A business whose load would not fit in memory: its records (on file) go through the
    /// stage commands, which spill past --memory, chained in this process.
    private func loadThroughStages(_ business: RecordRouter.Business, router: RecordRouter, io: StageIO) throws(IOError) {
        let file = try router.file(of: business)
        defer { unlink(file) }
        io.note("\(business.wabaID): \(ImportProgress.megabytes(business.byteCount)) of records, too many to load in "
                + "two thirds of --memory \(memory.memory): loaded through the spilling stages")
        // The router may still hold other such businesses' lines, up to a third of the budget:
        // each of the four stages gets an eighth.
        let share = "\(max(1, (memory.memoryBytes / 8) >> 20))MB"
        var shared = ["--memory", share, "--temp-dir", memory.temporaryDirectory, "--threads", "\(threads)"]
        if let rejects { shared += ["--rejects", rejects] }
        let chain = StageChain(captures: [file])
        chain.add("coex-dedupe", DedupeCommand.self, shared)
        chain.add("coex-order", OrderCommand.self, shared)
        chain.add("coex-apply", ApplyCommand.self, shared)
        chain.add("coex-load", LoadCommand.self, shared + ["--out-dir", outDirectory] + captures.map { "--recorded-input=\($0)" })
        do {
            let outcome = try chain.run(totalBytes: nil, announce: false)
            stagedRejects.add(outcome.rejects, ordering: .relaxed)
            if !outcome.succeeded { io.fail("\(business.wabaID): a stage failed") }
        } catch {
            io.fail("\(business.wabaID): \(error)")
        }
    }
}

/// coex-normalize's worker, its record lines handed to the router (in input order, on the
/// driving thread) instead of written out.
final class RoutingNormalizeWorker: LineWorker {
    var stage = NormalizeStage()
    private var records: [Record] = []
    private var rejects: [Reject] = []
    private var output = JSONWriter(capacity: 1 << 20)
    private var routes: [(end: Int, wabaID: String)] = []
    private let router: RecordRouter

    init(router: RecordRouter) {
        self.router = router
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        stage.process(bytes, padded: true, provenance: provenance, records: &records, rejects: &rejects)
        for i in records.indices {
            records[i].write(to: &output)
            routes.append((output.bytes.count, records[i].wabaID))
            // The newline also ends the writer's top-level value (no comma before the next).
            output.newline()
        }
        records.removeAll(keepingCapacity: true)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try output.bytes.withBytes { all throws(IOError) in
            var start = 0
            for route in routes {
                try router.add(UnsafeRawBufferPointer(rebasing: all[start..<route.end]), wabaID: route.wabaID)
                start = route.end + 1
            }
        }
        routes.removeAll(keepingCapacity: true)
        output.reset()
    }
}

/// Memory shared by the businesses loading at once: a business waits until its share fits
/// beside the others' (one alone always goes).
private final class MemoryGate: @unchecked Sendable {
    let capacity: Int
    private var inUse = 0
    private let condition = NSCondition()

    init(capacity: Int) { self.capacity = capacity }

    func acquire(_ bytes: Int) {
        condition.lock()
        while inUse > 0 && inUse + bytes > capacity { condition.wait() }
        inUse += bytes
        condition.unlock()
    }

    func release(_ bytes: Int) {
        condition.lock()
        inUse -= bytes
        condition.broadcast()
        condition.unlock()
    }
}

/// The businesses' results as they finish, and which business a free thread takes next.
private final class BusinessResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [BusinessResult?]
    private var taken = 0
    /// Failures that belong to no business (the rejects file).
    private(set) var failures: [String] = []

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next(of indices: [Int]) -> Int? {
        lock.withLock {
            guard taken < indices.count else { return nil }
            taken += 1
            return indices[taken - 1]
        }
    }

    /// Runs `body` under the lock (the router is not shared between threads otherwise).
    func locked<T>(_ body: () throws(IOError) -> T) throws(IOError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    func set(_ index: Int, _ result: BusinessResult) { lock.withLock { results[index] = result } }
    func result(_ index: Int) -> BusinessResult? { lock.withLock { results[index] } }
    func noteFailure(_ message: String) { lock.withLock { failures.append(message) } }
}

private struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

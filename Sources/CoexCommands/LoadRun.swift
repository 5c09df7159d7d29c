import CoexCLI
import CoexIO
import CoexJSON
import CoexKit
import CoexStore
import Foundation

/// One run of coex-load: pass 1 sorts the input's lines by (business, load order) and
/// collects identity facts; pass 2 loads each business in one transaction.
final class LoadRun {
    let io: StageIO
    let outDirectory: String
    let inputs: [String]
    let sorter: ExternalSorter
    let memory: MemoryOptions
    var identity: [String: IdentityFacts] = [:]
    var arrivals: [String: [Int]] = [:]
    var rejectedKinds: [String: [String: Int]] = [:]
    var total = LoadCounts()
    var databases = 0
    var failedBusinesses = 0

    init(io: StageIO, outDirectory: String, inputs: [String], memory: MemoryOptions) {
        self.io = io
        self.outDirectory = outDirectory
        self.inputs = inputs
        self.memory = memory
        sorter = ExternalSorter(stage: "coex-load", budget: memory.memoryBytes,
                                temporaryDirectory: memory.temporaryDirectory, prefixStart: LoadOrder.prefixStart)
    }

    func take(_ worker: LoadWorker) throws(IOError) {
        var start = 0
        for i in worker.lines.indices {
            let end = worker.keyEnds[i]
            let key = Array(worker.keys[start..<end])
            try key.withBytes { key throws(IOError) in try sorter.add(key: key, line: worker.lines[i]) }
            start = end
        }
        for (waba, facts) in worker.identity { identity[waba, default: IdentityFacts()].merge(facts) }
        for (waba, list) in worker.arrivals { arrivals[waba, default: []].append(contentsOf: list) }
        for (waba, kinds) in worker.rejectedKinds {
            for (kind, n) in kinds { rejectedKinds[waba, default: [:]][kind, default: 0] += n }
        }
    }

    func finish(reader: RecordReader, threads: Int) throws(IOError) {
        let time = Int64(Date().timeIntervalSince1970)
        // Businesses are independent databases: each is parsed and loaded on its own
        // thread, up to `threads` at once. Records come sorted by business; a business's
        // lines are gathered (spilled to a file past its share of --memory) and handed over
        // whole. Reports come out in business order whatever order the loads end in.
        let loader = ParallelBusinessLoader(threads: threads, budget: memory.memoryBytes / (2 * (threads + 1)),
                                            temporaryDirectory: memory.temporaryDirectory)
        var gathering: BusinessLines?
        func handOver() {
            guard let lines = gathering else { return }
            gathering = nil
            let waba = lines.wabaID
            let identity = identity.removeValue(forKey: waba) ?? IdentityFacts()
            let arrivals = Array(Set(arrivals.removeValue(forKey: waba) ?? [])).sorted()
            let rejected = rejectedKinds.removeValue(forKey: waba) ?? [:]
            do throws(StoreError) {
                let job = BusinessJob(lines: lines, path: try BusinessFile.path(for: waba, in: outDirectory), inputs: inputs,
                                      time: time, identity: identity, arrivals: arrivals, rejected: rejected)
                loader.submit(waba) { job.run() }
            } catch {
                let message = error.description
                loader.submit(waba) { .failed(message) }
            }
            loader.reportFinished(into: self)
        }
        do {
            try sorter.finish { key, line throws(IOError) in
                let waba = LoadOrder.business(key)
                if let current = gathering, current.key.withUnsafeBytes({ equalBytes($0, waba) }) {
                    try current.add(line)
                    return
                }
                handOver()
                let lines = BusinessLines(wabaID: waba, budget: loader.budget, temporaryDirectory: loader.temporaryDirectory)
                gathering = lines
                try lines.add(line)
            }
            handOver()
        } catch {
            // Loads already started finish (and report) before the run ends with the error.
            loader.finish(into: self)
            throw error
        }
        loader.finish(into: self)
        // Businesses all of whose records were rejected have no database to note them in.
        for kinds in rejectedKinds.values {
            for (kind, n) in kinds { total.reject(kind, count: n) }
        }
        let lineRejects = reader.rejected
        var summary = "\(plural(reader.lines, "line")) read: \(total.summary); \(plural(databases, "database")) written to \(outDirectory)"
        summary += "; \(plural(lineRejects, "line")) rejected, \(reader.blank) blank"
        if failedBusinesses > 0 { summary += "; \(failedBusinesses) \(failedBusinesses == 1 ? "business" : "businesses") failed" }
        if sorter.spilledRuns > 0 { summary += "; \(sorter.spilledRuns) sorted runs spilled past --memory \(memory.memory)" }
        io.note(summary)
    }

    /// The outcome of one business's load, reported on the stage's thread.
    func take(_ outcome: BusinessOutcome, business: String) {
        switch outcome {
        case .loaded(let counts):
            report(counts, business: business)
            databases += 1
        case .failed(let message):
            failedBusinesses += 1
            io.fail("\(business): \(message)")
        }
    }

    func report(_ counts: LoadCounts, business: String) {
        total.add(counts)
        io.note("\(business).sqlite: \(counts.summary); \(counts.effects)")
    }
}

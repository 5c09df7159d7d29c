import CoexCLI
import CoexIO
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

    func finish(reader: RecordReader) throws(IOError) {
        let time = Int64(Date().timeIntervalSince1970)
        var current: BusinessLoad?
        var currentID: String?
        var skipping = false
        func close() {
            guard let load = current else { return }
            current = nil
            do {
                report(try load.finish(), business: load.wabaID)
                databases += 1
            } catch {
                failedBusinesses += 1
                io.fail("\(load.wabaID): \(error.description); nothing of this run was written to \(load.path)")
            }
        }
        func open(_ waba: String) {
            close()
            currentID = waba
            skipping = false
            do throws(StoreError) {
                let path = try BusinessFile.path(for: waba, in: outDirectory)
                let load = try BusinessLoad(path: path, wabaID: waba, inputs: inputs, time: time,
                                            identity: identity.removeValue(forKey: waba) ?? IdentityFacts(),
                                            messageArrivals: Array(Set(arrivals.removeValue(forKey: waba) ?? [])).sorted())
                for (kind, n) in rejectedKinds.removeValue(forKey: waba) ?? [:] { load.noteRejected(kind: kind, count: n) }
                current = load
            } catch {
                failedBusinesses += 1
                io.fail("\(waba): \(error.description)")
                skipping = true
            }
        }
        // Records come sorted by business: each business is one load, one transaction.
        let pipeline = RecordPipeline { [self] parsed throws(IOError) in
            guard case .success(let record) = parsed else {
                // Every line parsed in pass 1; failing now means the spill files were damaged.
                if case .failure(let error) = parsed { io.fail("cannot read a sorted record again: \(error)") }
                return
            }
            if record.wabaID != currentID { open(record.wabaID) }
            guard !skipping, let load = current else { return }
            do throws(StoreError) {
                try load.add(record)
            } catch {
                failedBusinesses += 1
                io.fail("\(load.wabaID): \(error.description); nothing of this run was written to \(load.path)")
                current = nil
                skipping = true
            }
        }
        try sorter.finish { _, line throws(IOError) in try pipeline.add(line) }
        try pipeline.finish()
        close()
        // Businesses all of whose records were rejected have no database to note them in.
        for kinds in rejectedKinds.values {
            for (kind, n) in kinds { total.reject(kind, count: n) }
        }
        let lineRejects = reader.rejected
        var summary = "\(reader.lines) lines read: \(total.summary); \(databases) databases written to \(outDirectory)"
        summary += "; \(lineRejects) lines rejected, \(reader.blank) blank"
        if failedBusinesses > 0 { summary += "; \(failedBusinesses) businesses failed" }
        if sorter.spilledRuns > 0 { summary += "; \(sorter.spilledRuns) sorted runs spilled past --memory \(memory.memory)" }
        io.note(summary)
    }

    func report(_ counts: LoadCounts, business: String) {
        total.add(counts)
        io.note("\(business).sqlite: \(counts.summary); \(counts.effects)")
    }
}

import CoexCLI
import CoexIO
import CoexJSON
import CoexKit
import CoexStore
import Foundation

/// How one business's load ended.
enum BusinessOutcome {
    case loaded(LoadCounts)
    case failed(String)
}

/// The sorted lines of one business, gathered in memory up to `budget` bytes and in a
/// temporary file past it, then read back by the thread that loads the business.
final class BusinessLines: @unchecked Sendable {
    let wabaID: String
    let key: [UInt8]
    private let budget: Int
    private let temporaryDirectory: String
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var spill: (path: String, sink: OutputSink)?

    init(wabaID key: UnsafeRawBufferPointer, budget: Int, temporaryDirectory: String) {
        self.key = Array(key)
        wabaID = String(decoding: key, as: UTF8.self)
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    deinit {
        if let spill { unlink(spill.path) }
    }

    func add(_ line: UnsafeRawBufferPointer) throws(IOError) {
        if let spill {
            try spill.sink.write(line)
            try spill.sink.write([0x0A])
            return
        }
        bytes.append(contentsOf: line)
        ends.append(bytes.count)
        if bytes.count > budget { try spillToFile() }
    }

    private func spillToFile() throws(IOError) {
        let path = "\(temporaryDirectory)/coex-load-\(getpid())-\(UUID().uuidString).ndjson"
        let sink = try OutputSink.creating(path)
        spill = (path, sink)
        var start = 0
        for end in ends {
            try bytes.withBytes { all throws(IOError) in try sink.write(UnsafeRawBufferPointer(rebasing: all[start..<end])) }
            try sink.write([0x0A])
            start = end
        }
        bytes = []
        ends = []
    }

    /// Calls `body` with each line, followed by at least `JSONParser.padding` readable bytes.
    func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let spill {
            try spill.sink.flush()
            spill.sink.close()
            let reader = LineReader(source: try FileSource(path: spill.path))
            while let line = try reader.next() { try body(line.bytes) }
            return
        }
        bytes.append(contentsOf: repeatElement(0, count: JSONParser.padding))
        try bytes.withUnsafeBytes { all in
            var start = 0
            for end in ends {
                try body(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }
}

/// Everything one business's load needs, run on a thread of its own.
final class BusinessJob: @unchecked Sendable {
    let lines: BusinessLines
    let path: String
    let inputs: [String]
    let time: Int64
    let identity: IdentityFacts
    let arrivals: [Int]
    let rejected: [String: Int]

    init(lines: BusinessLines, path: String, inputs: [String], time: Int64, identity: IdentityFacts,
         arrivals: [Int], rejected: [String: Int]) {
        self.lines = lines
        self.path = path
        self.inputs = inputs
        self.time = time
        self.identity = identity
        self.arrivals = arrivals
        self.rejected = rejected
    }

    /// One transaction: a failure anywhere rolls the whole business back.
    func run() -> BusinessOutcome {
        let load: BusinessLoad
        do {
            load = try BusinessLoad(path: path, wabaID: lines.wabaID, inputs: inputs, time: time,
                                    identity: identity, messageArrivals: arrivals)
        } catch {
            return .failed(error.description)
        }
        for (kind, n) in rejected { load.noteRejected(kind: kind, count: n) }
        let parser = JSONParser()
        do {
            try lines.forEach { line in
                let record: Record
                do {
                    record = try Record(json: try parser.parse(line, padded: true))
                } catch {
                    // Every line parsed in the first pass: failing now means the spill files were damaged.
                    throw UnreadableSortedRecord(reason: "\(error)")
                }
                try load.add(record)
            }
            return .loaded(try load.finish())
        } catch let error as StoreError {
            return .failed("\(error.description); nothing of this run was written to \(path)")
        } catch {
            return .failed("\(error); nothing of this run was written to \(path)")
        }
    }
}

/// A line the first pass read but the second cannot: the spill files were damaged.
struct UnreadableSortedRecord: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot read a sorted record again: \(reason)" }
}

/// Runs business loads on up to `threads` threads, and hands their outcomes back in the
/// order the businesses were submitted.
final class ParallelBusinessLoader: @unchecked Sendable {
    /// Bytes of lines one business may gather in memory before they go to a file.
    let budget: Int
    let temporaryDirectory: String
    private let queue = DispatchQueue(label: "coex-load.businesses", attributes: .concurrent)
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var names: [String] = []
    private var outcomes: [Int: BusinessOutcome] = [:]
    private var reported = 0

    init(threads: Int, budget: Int, temporaryDirectory: String) {
        slots = DispatchSemaphore(value: max(1, threads))
        self.budget = max(1 << 20, budget)
        self.temporaryDirectory = temporaryDirectory
    }

    /// Starts `job` when a thread is free (waiting for one).
    func submit(_ business: String, _ job: @escaping @Sendable () -> BusinessOutcome) {
        slots.wait()
        let index = names.count
        names.append(business)
        group.enter()
        queue.async { [self] in
            let outcome = job()
            lock.withLock { outcomes[index] = outcome }
            slots.signal()
            group.leave()
        }
    }

    /// Reports the outcomes that are next in order and done.
    func reportFinished(into run: LoadRun) {
        while let outcome = lock.withLock({ outcomes.removeValue(forKey: reported) }) {
            run.take(outcome, business: names[reported])
            reported += 1
        }
    }

    func finish(into run: LoadRun) {
        group.wait()
        reportFinished(into: run)
    }
}

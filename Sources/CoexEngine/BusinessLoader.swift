import CoexIO
import CoexKit
import CoexStore
import Foundation

/// How one business's load ended.
public enum BusinessOutcome: Sendable {
    case loaded(LoadCounts)
    case failed(String)
}

/// Everything one business's load needs, run on a thread of its own: its records in
/// load order, and the identity facts of the whole run.
final class BusinessJob: @unchecked Sendable {
    let wabaID: String
    let records: RecordSpool
    let settings: LoadSettings
    let identity: IdentityFacts
    let arrivals: [Int]
    let rejected: [String: Int]

    init(wabaID: String, records: RecordSpool, settings: LoadSettings, identity: IdentityFacts, arrivals: [Int],
         rejected: [String: Int]) {
        self.wabaID = wabaID
        self.records = records
        self.settings = settings
        self.identity = identity
        self.arrivals = arrivals
        self.rejected = rejected
    }

    /// One transaction: a failure anywhere rolls the whole business back.
    func run() -> BusinessOutcome {
        let path: String
        let load: BusinessLoad
        do {
            path = try BusinessFile.path(for: wabaID, in: settings.outDirectory)
            load = try BusinessLoad(path: path, wabaID: wabaID, inputs: settings.inputs, time: settings.time,
                                    identity: identity, messageArrivals: arrivals)
        } catch {
            return .failed(error.description)
        }
        for (kind, n) in rejected { load.noteRejected(kind: kind, count: n) }
        var failure: StoreError?
        do throws(IOError) {
            try records.replay { record throws(IOError) in
                guard failure == nil else { return }
                do throws(StoreError) { try load.add(record) } catch { failure = error }
            }
        } catch {
            return .failed("\(error.description); nothing of this run was written to \(path)")
        }
        do throws(StoreError) {
            if let failure { throw failure }
            return .loaded(try load.finish())
        } catch {
            return .failed("\(error.description); nothing of this run was written to \(path)")
        }
    }
}

/// Runs business loads on up to `threads` threads, and hands their outcomes back in the
/// order the businesses were submitted.
final class BusinessLoader: @unchecked Sendable {
    private let queue = DispatchQueue(label: "coex-load.businesses", attributes: .concurrent)
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var names: [String] = []
    private var outcomes: [Int: BusinessOutcome] = [:]
    private var reported = 0

    init(threads: Int) {
        slots = DispatchSemaphore(value: max(1, threads))
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
    func reportFinished(_ report: (String, BusinessOutcome) -> Void) {
        while let outcome = lock.withLock({ outcomes.removeValue(forKey: reported) }) {
            report(names[reported], outcome)
            reported += 1
        }
    }

    func finish(_ report: (String, BusinessOutcome) -> Void) {
        group.wait()
        reportFinished(report)
    }
}

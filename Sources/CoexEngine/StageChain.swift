import CoexIO
import CoexKit
import Foundation

/// The end of a chain that keeps each stage's notes for the end of the run.
public protocol NoteCollectingOutlet: RecordOutlet {
    func notes(of stage: StageName) -> [String]
}

/// dedupe → order → apply → load as one chain of stage objects, and the end that collects
/// its notes: what `coex import` runs after normalize, one chain per share of businesses.
public final class StageChain: @unchecked Sendable {
    public let dedupe: DedupeStage
    public let order: OrderStage
    public let apply: ApplyStage
    public let load: LoadStage
    public let tail: NoteCollectingOutlet
    public let links: [StageLink]
    public var head: StageLink { links[0] }

    public init(dedupe: DedupeStage, order: OrderStage, apply: ApplyStage, load: LoadStage, tail: NoteCollectingOutlet) {
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

    /// Each stage's notes (by business: each business is in one chain, in order there),
    /// then its summary over all the chains, as one stage alone would give them.
    public static func report(_ chains: [StageChain]) -> [(StageName, [String])] {
        guard let first = chains.first else { return [] }
        for chain in chains.dropFirst() {
            first.dedupe.absorb(chain.dedupe)
            first.order.absorb(chain.order)
            first.apply.absorb(chain.apply)
            first.load.absorb(chain.load)
        }
        return first.links.indices.map { index in
            let stage = first.links[index].stage
            let name = type(of: stage).name
            let taken = chains.reduce(0) { $0 + $1.links[index].taken }
            let notes = chains.flatMap { $0.tail.notes(of: name) }.sorted()
            return (name, notes + stage.summary(InputCounts(lines: taken)))
        }
    }
}

/// Hands each record to the chain of its business, a batch at a time, the chains taking
/// their batches at the same time on threads of their own.
public final class ChainRouter: @unchecked Sendable {
    public let chains: [StageChain]
    private var batches: [[Record]]
    private var buffered = 0
    /// The chain of each business seen so far, and the records each chain was given.
    private var chainOf: [String: Int] = [:]
    private var routed: [Int]

    public init(_ chains: [StageChain]) {
        self.chains = chains
        batches = Array(repeating: [], count: chains.count)
        routed = Array(repeating: 0, count: chains.count)
    }

    /// On the driving thread, in input order. A business new to the run goes to the
    /// chain given the fewest records so far (the input decides, never the timing).
    public func add(_ record: Record) throws(IOError) {
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

    public func flush() throws(IOError) {
        let work = batches
        batches = Array(repeating: [], count: chains.count)
        buffered = 0
        try inParallel { i throws(IOError) in
            for record in work[i] { try self.chains[i].head.put(record) }
        }
    }

    /// The end of input: every chain's stages finish, at the same time.
    public func finish() throws(IOError) {
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

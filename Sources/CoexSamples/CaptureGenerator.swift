import CoexJSON

/// A deterministic, seedable generator of captured Coexistence webhooks: one raw webhook body
/// per line (no newline), in delivery order, each assigned to a night.
///
///     for (night, line) in CaptureGenerator(options) { ... }
///
/// Pure (no I/O) and streaming: businesses generate side by side in time order and only lines
/// whose delivery time has not come yet are held, so a capture of any size runs in bounded memory.
/// Same options (seed included) → byte-identical lines on every platform.
public struct CaptureGenerator: Sequence {
    public let options: CaptureOptions

    public init(_ options: CaptureOptions) {
        precondition(options.problem == nil, options.problem ?? "")
        self.options = options
    }

    public func makeIterator() -> CaptureIterator { CaptureIterator(options) }

    /// Runs the whole generation and returns its ground truth (the lines are dropped).
    public func truth() -> CaptureTruth {
        var it = makeIterator()
        while it.next() != nil {}
        return it.truth
    }

    /// First second of night 1 (Unix ms); night n covers [start + (n-1) days, start + n days).
    public var captureStartMs: Int64 { CaptureIterator.captureStart(options) }
}

public struct CaptureIterator: IteratorProtocol {
    public typealias Element = (night: Int, line: [UInt8])

    let options: CaptureOptions
    let startMs: Int64
    var businesses: [BusinessStream]
    /// Current head line of each business, merged by (key, business index).
    var heads: [Pending?]
    var order: [(key: Int64, seq: UInt64, business: Int)] = []
    var linesPerNight: [Int]
    var emittedLines = 0
    var emittedBytes = 0

    static func captureStart(_ options: CaptureOptions) -> Int64 {
        // Night 1 starts at 02:00 UTC on a day between 2025-07-01 and 2026-03-01, so history
        // (up to 180 days back) and live traffic both fall in 2025-2026.
        var r = Xoshiro256(seed: options.seed, stream: 0)
        let day = Int64(r.below(243))
        return (1_751_328_000 + day * 86_400 + 2 * 3_600) * 1_000
    }

    init(_ options: CaptureOptions) {
        self.options = options
        startMs = Self.captureStart(options)
        businesses = (0..<options.businesses).map { BusinessStream(index: $0, options: options, baseMs: Self.captureStart(options)) }
        heads = Array(repeating: nil, count: options.businesses)
        linesPerNight = Array(repeating: 0, count: options.nights)
        for i in 0..<businesses.count {
            if let p = businesses[i].next() {
                heads[i] = p
                push((p.key, p.seq, i))
            }
        }
    }

    private mutating func push(_ e: (key: Int64, seq: UInt64, business: Int)) {
        order.append(e)
        var i = order.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !Self.less(order[i], order[parent]) { break }
            order.swapAt(i, parent)
            i = parent
        }
    }

    @inline(__always)
    private static func less(_ a: (key: Int64, seq: UInt64, business: Int), _ b: (key: Int64, seq: UInt64, business: Int)) -> Bool {
        a.key < b.key || (a.key == b.key && a.business < b.business)
    }

    private mutating func popOrder() -> (key: Int64, seq: UInt64, business: Int)? {
        guard !order.isEmpty else { return nil }
        let top = order[0]
        let last = order.removeLast()
        if !order.isEmpty {
            order[0] = last
            var i = 0
            let n = order.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < n && Self.less(order[l], order[m]) { m = l }
                if r < n && Self.less(order[r], order[m]) { m = r }
                if m == i { break }
                order.swapAt(i, m)
                i = m
            }
        }
        return top
    }

    public mutating func next() -> Element? {
        guard let top = popOrder() else { return nil }
        let b = top.business
        let line = heads[b]!
        if let p = businesses[b].next() {
            heads[b] = p
            push((p.key, p.seq, b))
        } else {
            heads[b] = nil
        }
        let night = nightOf(line.key)
        linesPerNight[night - 1] += 1
        emittedLines += 1
        emittedBytes += line.bytes.count + 1
        return (night, line.bytes)
    }

    func nightOf(_ key: Int64) -> Int {
        let n = (key - startMs) / dayMs + 1
        return Int(max(1, min(Int64(options.nights), n)))
    }

    /// Ground truth of what has been generated; complete once `next()` has returned nil.
    public var truth: CaptureTruth {
        var t = CaptureTruth()
        t.businesses = businesses.map { $0.finishTruth() }
        t.linesPerNight = linesPerNight
        t.lines = emittedLines
        t.bytes = emittedBytes
        t.redeliveredLines = t.businesses.reduce(0) { $0 + $1.redeliveredLines }
        return t
    }
}

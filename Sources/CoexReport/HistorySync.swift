/// How far the history sync of one business phone number got: Meta shares the history
/// once per onboarding (phase 0 = the last day, 1 = days 1-90, 2 = days 90-180, each in
/// chunks numbered by chunk_order, with an overall progress up to 100) and never resends
/// it, so an operator must see within the 24-hour window whether it is complete.
public struct HistorySync: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Progress 100 was reached and no chunk is missing.
        case complete
        /// Chunks arrived, but progress 100 was not reached or chunks are missing.
        case incomplete
        /// The business declined to share its history (sync error 2593109).
        case declined
        /// Neither a chunk nor a sync error: no history sync in these captures.
        case none
    }

    /// One chunk as stored (`history_chunks` row).
    public struct Chunk: Sendable, Equatable {
        public var phase: Int?
        public var chunkOrder: Int?
        public var progress: Int?
        public var threads: Int?
        public var messages: Int?
        public var time: Int64?

        public init(phase: Int?, chunkOrder: Int?, progress: Int?, threads: Int? = nil, messages: Int? = nil,
                    time: Int64? = nil) {
            self.phase = phase
            self.chunkOrder = chunkOrder
            self.progress = progress
            self.threads = threads
            self.messages = messages
            self.time = time
        }
    }

    /// One `sync_errors` row.
    public struct SyncError: Sendable, Equatable {
        public var code: Int64?
        public var timestamp: Int64?

        public init(code: Int64?, timestamp: Int64?) {
            self.code = code
            self.timestamp = timestamp
        }
    }

    /// The error code of "history sharing declined by the business".
    public static let declinedCode: Int64 = 2_593_109

    public var phoneNumberID: String
    public var displayPhoneNumber: String?
    /// Phases seen, highest first (2, 1, 0: the order coex-order reports them in).
    public var phases: [Int] = []
    /// Chunk rows per phase (a phase's distinct chunk_order values plus repeats).
    public var chunksByPhase: [Int: Int] = [:]
    /// All chunk rows of the phone number (also those without a phase).
    public var chunks = 0
    /// Missing chunk_order numbers per phase, as ranges: chunks count from 1, or from 0
    /// when a chunk 0 was seen; chunks past the highest one seen cannot be told missing
    /// (the rule of coex-order's history report, docs/records.md).
    public var gaps: [Int: [ClosedRange<Int>]] = [:]
    /// (phase, chunk_order) stored more than once with different content, in order.
    public var repeated: [[Int]] = []
    /// The highest progress seen (100 = the whole history was sent); nil without chunks.
    public var progress: Int?
    /// Threads and messages the chunks announced.
    public var threads = 0
    public var messages = 0
    /// The latest `entry.time` of a chunk (history webhooks often have none).
    public var lastChunkTime: Int64?
    /// The earliest `entry.time` of a chunk with progress 100 (the last chunk Meta sends).
    public var completedAt: Int64?
    /// A 2593109 sync error was received.
    public var declined = false
    /// Its earliest time, when it had one.
    public var declinedAt: Int64?
    /// Other sync errors.
    public var otherSyncErrors = 0

    public init(phoneNumberID: String, displayPhoneNumber: String? = nil) {
        self.phoneNumberID = phoneNumberID
        self.displayPhoneNumber = displayPhoneNumber
    }

    /// The summary of `chunks` and `errors` (rows of this phone number, any order).
    public init(phoneNumberID: String, displayPhoneNumber: String? = nil, chunks: [Chunk], errors: [SyncError]) {
        self.init(phoneNumberID: phoneNumberID, displayPhoneNumber: displayPhoneNumber)
        var orders: [Int: [Int]] = [:]
        for c in chunks {
            self.chunks += 1
            threads += c.threads ?? 0
            messages += c.messages ?? 0
            if let p = c.progress { progress = max(progress ?? p, p) }
            if let t = c.time { lastChunkTime = max(lastChunkTime ?? t, t) }
            if let t = c.time, (c.progress ?? 0) >= 100 { completedAt = min(completedAt ?? t, t) }
            guard let phase = c.phase else { continue }
            chunksByPhase[phase, default: 0] += 1
            if let order = c.chunkOrder { orders[phase, default: []].append(order) }
        }
        phases = chunksByPhase.keys.sorted(by: >)
        for (phase, list) in orders {
            let missing = Self.missing(list)
            if !missing.isEmpty { gaps[phase] = missing }
            var seen: [Int: Int] = [:]
            for order in list { seen[order, default: 0] += 1 }
            for (order, n) in seen where n > 1 { repeated.append([phase, order]) }
        }
        repeated.sort { a, b in a[0] != b[0] ? a[0] > b[0] : a[1] < b[1] }
        for e in errors {
            if e.code == Self.declinedCode {
                declined = true
                if let t = e.timestamp { declinedAt = min(declinedAt ?? t, t) }
            } else {
                otherSyncErrors += 1
            }
        }
    }

    /// Missing numbers of `orders` as ranges (see `gaps`).
    public static func missing(_ orders: [Int]) -> [ClosedRange<Int>] {
        let present = Array(Set(orders)).sorted()
        var missing: [ClosedRange<Int>] = []
        var expected = present.contains(0) ? 0 : 1
        for order in present where order >= expected {
            if order > expected { missing.append(expected...(order - 1)) }
            if order == Int.max { break }
            expected = order + 1
        }
        return missing
    }

    /// How many chunk_order numbers the gaps leave out.
    public var missingChunks: Int {
        gaps.values.joined().reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range.count)
            return overflow ? Int.max : sum
        }
    }

    public var state: State {
        if declined { return .declined }
        if chunks == 0 { return .none }
        return (progress ?? 0) >= 100 && gaps.isEmpty ? .complete : .incomplete
    }
}

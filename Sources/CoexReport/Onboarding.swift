import CoexSQLite
import CoexStore

/// When the business was onboarded onto Cloud API, as of the report's time (docs/report.md,
/// "Onboarding"): its latest PARTNER_ADDED event with a time, else its first webhook that is not
/// history. The windows and the 24-hour sync deadline count from it.
public struct Onboarding: Sendable, Equatable {
    public enum Source: String, Sendable, Equatable {
        /// A PARTNER_ADDED account event (with a time).
        case partnerAdded = "partner_added"
        /// No PARTNER_ADDED with a time: the business's first non-history webhook.
        case firstWebhook = "first_webhook"
        /// PARTNER_ADDED events exist, none at or before the report's time: not onboarded yet then.
        case notYet = "not_yet"
        /// Nothing with a time.
        case unknown
    }

    /// Unix seconds; nil when not onboarded at the report's time or unknown.
    public var time: Int64?
    public var source: Source

    public init(time: Int64?, source: Source) {
        self.time = time
        self.source = source
    }

    /// The onboarding of the database's business as of `at` (nil: no time in the database).
    static func read(_ db: Database, at: Int64?) throws -> Onboarding {
        let s = try db.prepare("SELECT \(ChatWindowsSQL.hasPartnerAdded), \(ChatWindowsSQL.onboarding(at: "?1"))")
        if let at { try s.bind(at, at: 1) } else { try s.bindNull(at: 1) }
        guard try s.step() else { return Onboarding(time: nil, source: .unknown) }
        let partnerAdded = s.int(at: 0) == 1
        let time = s.isNull(at: 1) ? nil : s.int64(at: 1)
        if partnerAdded { return Onboarding(time: time, source: time == nil ? .notYet : .partnerAdded) }
        return Onboarding(time: time, source: time == nil ? .unknown : .firstWebhook)
    }

    /// The latest time the database knows; the report's time when `--at` is not given.
    static func latestTime(_ db: Database) throws -> Int64? {
        let s = try db.prepare("SELECT \(ChatWindowsSQL.latestTime)")
        return try s.step() && !s.isNull(at: 0) ? s.int64(at: 0) : nil
    }
}

/// The source document's 24-hour rule for one business phone number: "you have 24 hours to
/// synchronize their contacts and messaging history, otherwise they must be offboarded".
public struct SyncDeadline: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Finished (progress 100, or declined) within 24 hours of onboarding.
        case onTime = "on_time"
        /// Finished, but more than 24 hours after onboarding.
        case late
        /// Not finished, and the 24 hours are over at the report's time.
        case overdue
        /// Not finished, and the 24 hours are not over yet.
        case pending
        /// The onboarding time, or the time the sync finished, is not known.
        case unknown
    }

    public static let seconds: Int64 = 86_400

    public var phoneNumberID: String
    public var onboardedAt: Int64?
    public var deadline: Int64? { onboardedAt.map { $0 + Self.seconds } }
    /// When progress 100 arrived, or the sync was declined (nil: not finished, or no time).
    public var finishedAt: Int64?
    /// Progress 100 was reached or the sync was declined.
    public var finished: Bool
    /// The history sync's own state (a sync that reached 100 with gaps is still incomplete).
    public var history: HistorySync.State
    public var state: State

    /// Flagged for the operator: late, overdue, or finished with chunks missing.
    public var flagged: Bool { state == .late || state == .overdue || (finished && history == .incomplete) }

    public init(_ h: HistorySync, onboarding: Onboarding, at: Int64?) {
        phoneNumberID = h.phoneNumberID
        onboardedAt = onboarding.time
        history = h.state
        finished = h.declined || (h.progress ?? 0) >= 100
        finishedAt = h.declined ? h.declinedAt : h.completedAt
        let deadline = onboarding.time.map { $0 + Self.seconds }
        switch (finished, deadline) {
        case (_, nil): state = .unknown
        case (true, let deadline?):
            if let finishedAt { state = finishedAt <= deadline ? .onTime : .late } else { state = .unknown }
        case (false, let deadline?):
            if let at { state = at > deadline ? .overdue : .pending } else { state = .unknown }
        }
    }
}

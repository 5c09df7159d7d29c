/// The business's connection to its partner (the Coexistence solution provider).
public enum ConnectionState: String, Sendable, Equatable, CaseIterable {
    case connected
    case partnerRemoved = "partner_removed"
    case offboarded
    case reconnected

    /// The state an account_update event puts the business in; nil for events that
    /// do not change the connection (they are recorded and listed, nothing more).
    public init?(event: String) {
        switch event {
        case "PARTNER_ADDED": self = .connected
        case "PARTNER_REMOVED": self = .partnerRemoved
        case "ACCOUNT_OFFBOARDED": self = .offboarded
        case "ACCOUNT_RECONNECTED": self = .reconnected
        default: return nil
        }
    }

    /// As the text report shows it: "partner removed".
    public var words: String { rawValue.replacingOccurrences(of: "_", with: " ") }

    /// Which of two state-changing events at the same time counts as the later one: a
    /// disconnection wins over a connection (as `remove` wins over `add` in the
    /// contact list), so a tie never reports a business connected that may not be.
    var tieRank: Int {
        switch self {
        case .connected: 0
        case .reconnected: 1
        case .offboarded: 2
        case .partnerRemoved: 3
        }
    }
}

/// One account_events row, and the state the business is in after it.
public struct AccountEvent: Sendable, Equatable {
    public var event: String?
    /// `entry.time`; nil when the webhook had none.
    public var time: Int64?
    public var phoneNumber: String?
    public var reason: String?
    public var initiatedBy: String?
    public var ownerBusinessID: String?
    public var entryID: String?
    /// The row's identity (tiebreak of last resort).
    public var factID: String
    /// The connection state after this event (events in timeline order).
    public var stateAfter: ConnectionState = .connected

    public init(event: String?, time: Int64?, phoneNumber: String? = nil, reason: String? = nil,
                initiatedBy: String? = nil, ownerBusinessID: String? = nil, entryID: String? = nil, factID: String) {
        self.event = event
        self.time = time
        self.phoneNumber = phoneNumber
        self.reason = reason
        self.initiatedBy = initiatedBy
        self.ownerBusinessID = ownerBusinessID
        self.entryID = entryID
        self.factID = factID
    }

    /// Whether this event changes the connection state.
    public var changesState: Bool { event.flatMap(ConnectionState.init(event:)) != nil }
}

/// The connection state and the events it follows from, in time order.
public struct AccountSummary: Sendable, Equatable {
    /// The state after the latest state-changing event; `connected` when there is none
    /// (the business was connected before the captures began).
    public var state: ConnectionState = .connected
    /// The time of the event that set `state` (nil: no such event, or it had no time).
    public var since: Int64?
    /// Every account event, in timeline order, each with the state after it.
    public var events: [AccountEvent] = []

    public init() {}

    /// Orders `events` by time and derives the state after each. Order: time (an event
    /// without a time is older than any with one: it cannot be placed later), then at
    /// equal times connections before disconnections (disconnection wins), then events
    /// that change nothing, then event name and fact id, so the result never depends on
    /// the order the events arrived in.
    public init(events: [AccountEvent]) {
        func key(_ e: AccountEvent) -> (Int64, Int, String, String) {
            let rank = e.event.flatMap(ConnectionState.init(event:))?.tieRank ?? -1
            return (e.time ?? Int64.min, rank, e.event ?? "", e.factID)
        }
        let sorted = events.sorted { a, b in
            let (ka, kb) = (key(a), key(b))
            if a.time == nil && b.time != nil { return true }
            if a.time != nil && b.time == nil { return false }
            return ka < kb
        }
        var state = ConnectionState.connected
        var since: Int64?
        self.events = sorted.map { e in
            var e = e
            if let next = e.event.flatMap(ConnectionState.init(event:)) {
                state = next
                since = e.time
            }
            e.stateAfter = state
            return e
        }
        self.state = state
        self.since = since
    }
}

/// What one business database holds, summarised (docs/report.md describes every field):
/// history sync completeness per phone number, the account's connection state by time,
/// and counts of messages, edits, revokes, pending changes, statuses, errors, contacts
/// and users. A plain value: `ReportReader.read` gathers it, `ReportText` and
/// `ReportJSON` render it.
public struct BusinessReport: Sendable, Equatable {
    /// The business: the database's file name without `.sqlite` (the database itself
    /// does not store its WABA id; coex-load names the file after it).
    public var wabaID: String
    /// The database file as given (or as found in the directory).
    public var path: String
    /// `PRAGMA user_version`.
    public var schemaVersion: Int
    /// The business phone numbers, by phone_number_id.
    public var phoneNumbers: [PhoneNumber] = []
    public var account = AccountSummary()
    /// One entry per phone number known to the database, by phone_number_id.
    public var history: [HistorySync] = []
    public var messages = MessageCounts()
    public var edits = EditCounts()
    /// Messages revoked (revoked = 1).
    public var revokedMessages = 0
    /// `pending_changes` rows by kind (`edit`, `revoke`).
    public var pendingChanges: [String: Int] = [:]
    public var statuses = StatusCounts()
    public var errors = ErrorCounts()
    public var contacts = ContactCounts()
    public var users = UserCounts()
    /// Earliest and latest message timestamp; nil when no message has one.
    public var timeRange: TimeRange?
    public var imports = ImportSummary()
    /// The time the report is as of: `--at`, else the latest time in the database.
    public var at: Int64?
    /// Whether `at` was given (`--at`) rather than taken from the database.
    public var atGiven = false
    public var onboarding = Onboarding(time: nil, source: .unknown)
    /// The 24-hour deadline of each phone number's history sync, as `history` lists them.
    public var syncDeadlines: [SyncDeadline] = []
    /// Echoes, API sends and inbound messages by month.
    public var pricing: [PricingMonth] = []

    public init(wabaID: String, path: String, schemaVersion: Int) {
        self.wabaID = wabaID
        self.path = path
        self.schemaVersion = schemaVersion
    }

    public var pendingTotal: Int { pendingChanges.values.reduce(0, +) }
}

public struct PhoneNumber: Sendable, Equatable {
    public var id: String
    public var display: String?

    public init(id: String, display: String?) {
        self.id = id
        self.display = display
    }
}

/// The first and last time of something, as Unix seconds.
public struct TimeRange: Sendable, Equatable {
    public var first: Int64
    public var last: Int64

    public init(first: Int64, last: Int64) {
        self.first = first
        self.last = last
    }
}

/// Messages by origin and direction, by type.
public struct MessageCounts: Sendable, Equatable {
    public var total = 0
    /// origin → direction → count. A NULL origin or direction counts as "unknown".
    public var byOrigin: [String: [String: Int]] = [:]
    /// type → count.
    public var byType: [String: Int] = [:]
    /// Group messages (they have a group_id and no user).
    public var group = 0
    /// Media assets of field `history` never matched with their history message.
    public var unmatchedHistoryAssets = 0

    public init() {}

    public func count(origin: String, direction: String) -> Int { byOrigin[origin]?[direction] ?? 0 }

    public func total(origin: String) -> Int { byOrigin[origin]?.values.reduce(0, +) ?? 0 }

    public func total(direction: String) -> Int { byOrigin.values.reduce(0) { $0 + ($1[direction] ?? 0) } }

    /// history, live, echo first (always), then any other origin by name.
    public var origins: [String] { Self.ordered(Self.knownOrigins, byOrigin.keys) }

    /// inbound, outbound first (always), then any other direction by name.
    public var directions: [String] {
        Self.ordered(Self.knownDirections, byOrigin.values.flatMap(\.keys))
    }

    public static let knownOrigins = ["history", "live", "echo"]
    public static let knownDirections = ["inbound", "outbound"]

    static func ordered<S: Sequence>(_ known: [String], _ seen: S) -> [String] where S.Element == String {
        known + Set(seen).subtracting(known).sorted()
    }
}

public struct EditCounts: Sendable, Equatable {
    /// Messages with edit_count > 0.
    public var editedMessages = 0
    /// Edits applied: the sum of edit_count.
    public var edits = 0
    /// message_versions rows (version 0, the original, included).
    public var versions = 0

    public init() {}
}

public struct StatusCounts: Sendable, Equatable {
    public var total = 0
    /// status → count.
    public var byStatus: [String: Int] = [:]
    /// Distinct wamids with statuses but no message row (sent through the API).
    public var messagesWithoutRow = 0

    public init() {}
}

public struct ErrorCounts: Sendable, Equatable {
    public var total = 0
    /// Errors of one message (wamid set).
    public var messageErrors = 0
    /// Errors of a whole `messages` value (no wamid).
    public var webhookErrors = 0
    /// code (as text; NULL as "unknown") → count.
    public var byCode: [String: Int] = [:]

    public init() {}
}

public struct ContactCounts: Sendable, Equatable {
    /// contacts rows: one per user per business phone number.
    public var total = 0
    /// In the business's contact list now (latest list action other than remove).
    public var listed = 0
    /// Removed from the list (latest list action remove).
    public var removed = 0
    /// Never in the list: known only from the user's own profile on a message.
    public var neverListed = 0

    public init() {}
}

/// The users of the business (one per person, however many identifiers they have).
public struct UserCounts: Sendable, Equatable {
    public var total: Int { phoneOnly + phoneAndBSUID + bsuidOnly }
    /// Known by phone number (wa_id) only.
    public var phoneOnly = 0
    /// Known by phone number and business-scoped user id.
    public var phoneAndBSUID = 0
    /// Known by business-scoped user id only: no phone number was ever seen for them.
    public var bsuidOnly = 0
    /// `user_id_changes` rows (BSUID changes).
    public var userIDChanges = 0
    /// `user_ids` rows (phone + BSUID pairs seen together).
    public var pairs = 0

    public init() {}
}

public struct ImportSummary: Sendable, Equatable {
    public var count = 0
    public var firstTime: Int64?
    public var lastTime: Int64?
    /// The input names of the last import.
    public var lastInputs: [String] = []

    public init() {}
}

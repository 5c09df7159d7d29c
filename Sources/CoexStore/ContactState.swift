import CoexKit

/// One row of `contacts`: what the business's contact list and the user's own profile
/// say about one user of one phone number, folded from contact records.
///
/// Every field is a "latest wins" value with its own time, and ties are broken by the
/// value itself, so folding is a commutative, associative join: the row is the same
/// whatever order the records (or nightly imports) came in, and two rows of one user
/// (stored under the phone and under the BSUID before the pair was known) join into one.
/// - list (smb_app_state_sync): the action with the latest time; at equal times remove
///   wins over add, and add over any other action.
/// - names: from the latest state_sync record that carries names; a remove omits names,
///   so the last known names stay.
/// - profile_name: from the latest profile (a message's contacts[]), which never touches
///   the list. username: from the latest record that has one.
public struct ContactState: Equatable, Sendable {
    public var phoneNumberID: String
    public var identity: ChatIdentity
    public var listAction: String?
    public var listUpdatedAt: Int64?
    public var fullName: String?
    public var firstName: String?
    public var namesUpdatedAt: Int64?
    public var profileName: String?
    public var profileUpdatedAt: Int64?
    public var username: String?
    public var usernameUpdatedAt: Int64?
    /// The latest time of any contact record of the user.
    public var updatedAt: Int64?

    public init(phoneNumberID: String, identity: ChatIdentity) {
        self.phoneNumberID = phoneNumberID
        self.identity = identity
    }

    public var removed: Bool { listAction == "remove" }

    static func actionRank(_ action: String?) -> Int {
        switch action {
        case "remove": 2
        case "add": 1
        case nil: -1
        default: 0
        }
    }

    /// Orders "absent" below every time (records without a time lose to any with one).
    static func time(_ t: Int64?) -> Int64 { t ?? Int64.min }

    static func newer(_ t1: Int64?, _ v1: [String?], than t2: Int64?, _ v2: [String?]) -> Bool {
        if time(t1) != time(t2) { return time(t1) > time(t2) }
        for (a, b) in zip(v1, v2) where a != b {
            guard let a else { return false }
            guard let b else { return true }
            return a > b
        }
        return false
    }

    /// Folds in one contact record (action add, remove, other state_sync actions, or profile).
    public mutating func add(_ record: Record) {
        var other = ContactState(phoneNumberID: phoneNumberID, identity: identity)
        let t = record.timestamp
        other.updatedAt = t
        if record.action == "profile" {
            if let name = nonEmpty(record.profileName) {
                other.profileName = name
                other.profileUpdatedAt = t
            }
        } else if let action = nonEmpty(record.action) {
            other.listAction = action
            other.listUpdatedAt = t
            if record.fullName != nil || record.firstName != nil {
                other.fullName = record.fullName
                other.firstName = record.firstName
                other.namesUpdatedAt = t
            }
        }
        if let username = nonEmpty(record.username) {
            other.username = username
            other.usernameUpdatedAt = t
        }
        join(other)
    }

    /// Joins another state of the same user (the identity and phone are kept).
    public mutating func join(_ o: ContactState) {
        let hasList = o.listAction != nil
        if hasList, listAction == nil
            || (Self.time(o.listUpdatedAt), Self.actionRank(o.listAction), o.listAction ?? "")
            > (Self.time(listUpdatedAt), Self.actionRank(listAction), listAction ?? "")
        {
            listAction = o.listAction
            listUpdatedAt = o.listUpdatedAt
        }
        if o.namesUpdatedAt != nil || o.fullName != nil || o.firstName != nil,
            (namesUpdatedAt == nil && fullName == nil && firstName == nil)
                || Self.newer(o.namesUpdatedAt, [o.fullName, o.firstName], than: namesUpdatedAt, [fullName, firstName])
        {
            fullName = o.fullName
            firstName = o.firstName
            namesUpdatedAt = o.namesUpdatedAt
        }
        if o.profileName != nil,
            profileName == nil || Self.newer(o.profileUpdatedAt, [o.profileName], than: profileUpdatedAt, [profileName])
        {
            profileName = o.profileName
            profileUpdatedAt = o.profileUpdatedAt
        }
        if o.username != nil,
            username == nil || Self.newer(o.usernameUpdatedAt, [o.username], than: usernameUpdatedAt, [username])
        {
            username = o.username
            usernameUpdatedAt = o.usernameUpdatedAt
        }
        updatedAt = SeenSpan.max(updatedAt, o.updatedAt)
    }
}

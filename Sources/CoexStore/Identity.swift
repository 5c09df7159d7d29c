import CoexKit

/// A (wa_id, user_id) pair seen together on one record, and when.
public struct UserIDPair: Hashable, Sendable {
    public var waID: String
    public var userID: String
    public init(waID: String, userID: String) {
        self.waID = waID
        self.userID = userID
    }
}

/// A user's BSUID changed from `previous` to `current`.
public struct UserIDChange: Hashable, Sendable {
    public var previous: String
    public var current: String
    public init(previous: String, current: String) {
        self.previous = previous
        self.current = current
    }
}

/// The earliest and latest time something was seen (nil: seen without a time).
public struct SeenSpan: Equatable, Sendable {
    public var first: Int64?
    public var last: Int64?

    public init(first: Int64?, last: Int64?) {
        self.first = first
        self.last = last
    }

    public init(_ time: Int64?) { self.init(first: time, last: time) }

    /// The span covering both: a commutative join, so arrival order never matters.
    public func joined(_ other: SeenSpan) -> SeenSpan {
        SeenSpan(first: Self.min(first, other.first), last: Self.max(last, other.last))
    }

    static func min(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    static func max(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.max(a, b)
    }
}

/// What the store keeps of a BSUID change.
public struct UserIDChangeSeen: Equatable, Sendable {
    /// The earliest time the change was reported.
    public var changedAt: Int64?
    public var waID: String?
    /// The system message that announced it, if any.
    public var wamid: String?

    public init(changedAt: Int64?, waID: String?, wamid: String?) {
        self.changedAt = changedAt
        self.waID = waID
        self.wamid = wamid
    }

    public func joined(_ other: Self) -> Self {
        Self(changedAt: SeenSpan.min(changedAt, other.changedAt), waID: maxOptional(waID, other.waID),
             wamid: maxOptional(wamid, other.wamid))
    }
}

func maxOptional(_ a: String?, _ b: String?) -> String? {
    guard let a else { return b }
    guard let b else { return a }
    return a >= b ? a : b
}

/// A non-empty string or nil: no key is ever built from an empty string.
@inline(__always)
func nonEmpty(_ s: String?) -> String? {
    guard let s, !s.isEmpty else { return nil }
    return s
}

/// The identity facts of one run for one business: every pair seen together on one
/// record, and every BSUID change. Collected while reading (before any row is written),
/// so that each row is written with the identity the whole run establishes.
public struct IdentityFacts: Sendable, Equatable {
    public var pairs: [UserIDPair: SeenSpan] = [:]
    public var changes: [UserIDChange: UserIDChangeSeen] = [:]

    public init() {}

    public var isEmpty: Bool { pairs.isEmpty && changes.isEmpty }

    /// Adds what `record` says about identity. A pair is "seen together" on one record
    /// (messages, statuses, contacts, edits, revokes, user_id_change carry the chat's
    /// user in contact_wa_id / contact_user_id; coex-normalize never fills them from a
    /// reply's context). Group records name no user.
    public mutating func add(_ record: Record) {
        guard record.groupID == nil else { return }
        switch record.kind {
        case .message, .status, .contact, .edit, .revoke, .userIDChange:
            break
        default:
            return
        }
        if let wa = nonEmpty(record.contactWaID), let user = nonEmpty(record.contactUserID) {
            addPair(UserIDPair(waID: wa, userID: user), SeenSpan(record.timestamp))
        }
        if record.kind == .userIDChange, let previous = nonEmpty(record.previousUserID),
            let current = nonEmpty(record.contactUserID), previous != current
        {
            addChange(UserIDChange(previous: previous, current: current),
                      UserIDChangeSeen(changedAt: record.timestamp, waID: nonEmpty(record.contactWaID),
                                       wamid: nonEmpty(record.wamid)))
        }
    }

    public mutating func addPair(_ pair: UserIDPair, _ span: SeenSpan) {
        pairs[pair] = pairs[pair].map { $0.joined(span) } ?? span
    }

    public mutating func addChange(_ change: UserIDChange, _ seen: UserIDChangeSeen) {
        changes[change] = changes[change].map { $0.joined(seen) } ?? seen
    }

    public mutating func merge(_ other: IdentityFacts) {
        for (pair, span) in other.pairs { addPair(pair, span) }
        for (change, seen) in other.changes { addChange(change, seen) }
    }
}

/// Who the WhatsApp user of a chat is, as every row shows it: the phone number when
/// known, and the current BSUID when known. `key` names the chat.
public struct ChatIdentity: Hashable, Sendable {
    public var waID: String?
    public var userID: String?

    public init(waID: String?, userID: String?) {
        self.waID = waID
        self.userID = userID
    }

    /// The chat key: wa_id when known, else user_id; nil when neither is (group records).
    public var key: String? { waID ?? userID }
}

/// Every identifier a business has seen, joined into users: wa_ids and user_ids are
/// nodes, and a pair seen together or a BSUID change joins two nodes into one user
/// (union-find). A user shows as `ChatIdentity`:
/// - wa_id: the only phone of the user; if a BSUID was seen with several phones (a
///   number change), the phone of the most recently seen pair (ties: the larger id);
/// - user_id: the BSUID no change superseded (the current one); among several, the one
///   most recently changed to, then most recently seen in a pair, then the larger id.
/// Every choice depends on the set of facts only, never on the order they arrived in.
public final class IdentityGraph {
    enum Node: Hashable {
        case wa(String)
        case user(String)
    }

    private var parent: [Node: Node] = [:]
    public private(set) var pairs: [UserIDPair: SeenSpan] = [:]
    public private(set) var changes: [UserIDChange: UserIDChangeSeen] = [:]
    private var resolved: [Node: ChatIdentity] = [:]
    /// Every joined identifier's user, so that resolving (once per row written) is one lookup.
    private var identityOf: [Node: ChatIdentity] = [:]
    private var membersByRoot: [Node: [Node]] = [:]
    private var resolvedValid = false

    public init() {}

    public func copy() -> IdentityGraph {
        let c = IdentityGraph()
        c.parent = parent
        c.pairs = pairs
        c.changes = changes
        return c
    }

    /// Adds a pair; true when it is new or its span widened (the store must write it).
    @discardableResult
    public func add(_ pair: UserIDPair, _ span: SeenSpan) -> Bool {
        let joined = pairs[pair].map { $0.joined(span) } ?? span
        guard joined != pairs[pair] else { return false }
        pairs[pair] = joined
        union(.wa(pair.waID), .user(pair.userID))
        resolvedValid = false
        return true
    }

    /// Adds a change; true when it is new or what is known of it changed.
    @discardableResult
    public func add(_ change: UserIDChange, _ seen: UserIDChangeSeen) -> Bool {
        let joined = changes[change].map { $0.joined(seen) } ?? seen
        guard joined != changes[change] else { return false }
        changes[change] = joined
        union(.user(change.previous), .user(change.current))
        resolvedValid = false
        return true
    }

    /// The user as rows show it, for a record that names `waID` and/or `userID`.
    public func resolve(waID: String?, userID: String?) -> ChatIdentity {
        let wa = nonEmpty(waID)
        let user = nonEmpty(userID)
        if !resolvedValid { resolveAll() }
        if let wa, let found = identityOf[.wa(wa)] { return found }
        if let user, let found = identityOf[.user(user)] { return found }
        // Never joined to anything: the record's own identifiers.
        return ChatIdentity(waID: wa, userID: user)
    }

    /// The identifiers of the user that `identity` belongs to (itself when never joined).
    public func members(of identity: ChatIdentity) -> (waIDs: [String], userIDs: [String]) {
        let node: Node
        if let wa = identity.waID { node = .wa(wa) } else if let user = identity.userID { node = .user(user) } else {
            return ([], [])
        }
        guard parent[node] != nil else {
            return (identity.waID.map { [$0] } ?? [], identity.userID.map { [$0] } ?? [])
        }
        if !resolvedValid { resolveAll() }
        var was: [String] = []
        var users: [String] = []
        for n in membersByRoot[find(node)] ?? [] {
            switch n {
            case .wa(let w): was.append(w)
            case .user(let u): users.append(u)
            }
        }
        return (was.sorted(), users.sorted())
    }

    func find(_ node: Node) -> Node {
        guard var current = parent[node] else { return node }
        var path: [Node] = [node]
        while let next = parent[current], next != current {
            path.append(current)
            current = next
        }
        for n in path { parent[n] = current }
        return current
    }

    private func union(_ a: Node, _ b: Node) {
        if parent[a] == nil { parent[a] = a }
        if parent[b] == nil { parent[b] = b }
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[rb] = ra }
    }

    /// One pass over the facts, grouped by user, choosing each user's identity.
    private func resolveAll() {
        struct Choice {
            var wa: (last: Int64, id: String)?
            var userLastChange: [String: Int64] = [:]
            var userLastPair: [String: Int64] = [:]
            var users: Set<String> = []
            var superseded: Set<String> = []
        }
        var choices: [Node: Choice] = [:]
        for (pair, span) in pairs {
            let root = find(.wa(pair.waID))
            var c = choices[root] ?? Choice()
            let last = span.last ?? Int64.min
            if c.wa.map({ (last, pair.waID) > ($0.last, $0.id) }) ?? true { c.wa = (last, pair.waID) }
            c.users.insert(pair.userID)
            c.userLastPair[pair.userID] = max(c.userLastPair[pair.userID] ?? Int64.min, last)
            choices[root] = c
        }
        for (change, seen) in changes {
            let root = find(.user(change.current))
            var c = choices[root] ?? Choice()
            c.users.insert(change.previous)
            c.users.insert(change.current)
            c.superseded.insert(change.previous)
            let at = seen.changedAt ?? Int64.min
            c.userLastChange[change.current] = max(c.userLastChange[change.current] ?? Int64.min, at)
            choices[root] = c
        }
        membersByRoot = [:]
        for node in Array(parent.keys) { membersByRoot[find(node), default: []].append(node) }
        resolved = [:]
        for (root, c) in choices {
            var candidates = c.users.subtracting(c.superseded)
            // A cycle of changes supersedes everyone: fall back to all of them.
            if candidates.isEmpty { candidates = c.users }
            let user = candidates.max { a, b in
                (c.userLastChange[a] ?? Int64.min, c.userLastPair[a] ?? Int64.min, a)
                    < (c.userLastChange[b] ?? Int64.min, c.userLastPair[b] ?? Int64.min, b)
            }
            resolved[root] = ChatIdentity(waID: c.wa?.id, userID: user)
        }
        identityOf = [:]
        identityOf.reserveCapacity(parent.count)
        for (root, members) in membersByRoot {
            guard let identity = resolved[root] else { continue }
            for node in members { identityOf[node] = identity }
        }
        resolvedValid = true
    }
}

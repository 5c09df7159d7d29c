import CoexJSON

/// How sightings of one wamid become one message. The merge is a pure function of
/// the set of sightings (commutative and associative), so the result never depends
/// on delivery order:
/// - content (type, content, body, reply_to, extra) comes from the sighting with the
///   best content: real content beats `unsupported` and `media_placeholder`, then the
///   larger content, then the bytes decide;
/// - the place in the chat (time, user, direction, origin, history position, status)
///   comes from the history sighting when there is one, else from the live or echo
///   sighting, else from a media asset; ties are decided by the values themselves;
/// - errors of a placeholder stay recorded; provenance is the first sighting's.
public enum MessageMerge {
    /// Types that stand in for content that arrives elsewhere.
    public static func isPlaceholder(_ type: String?) -> Bool {
        type == "unsupported" || type == "media_placeholder"
    }

    static func contentRank(_ r: Record) -> Int { isPlaceholder(r.type) ? 0 : 1 }

    static func positionRank(_ r: Record) -> Int {
        if r.origin == .history && !r.historyAsset { return 2 }
        if r.origin == .live || r.origin == .echo { return 1 }
        return 0
    }

    /// True when `a`'s content should be kept over `b`'s.
    static func betterContent(_ a: Record, _ b: Record) -> Bool {
        let (ra, rb) = (contentRank(a), contentRank(b))
        if ra != rb { return ra > rb }
        let (ca, cb) = (a.content?.bytes.count ?? -1, b.content?.bytes.count ?? -1)
        if ca != cb { return ca > cb }
        // Equal content: the copy that says more about the message (context, referral...).
        let (ea, eb) = ((a.extra?.bytes.count ?? 0) + (a.replyTo?.utf8.count ?? 0),
                        (b.extra?.bytes.count ?? 0) + (b.replyTo?.utf8.count ?? 0))
        if ea != eb { return ea > eb }
        return contentKey(a).lexicographicallyPrecedes(contentKey(b))
    }

    /// True when `a`'s place in the chat should be kept over `b`'s.
    static func betterPosition(_ a: Record, _ b: Record) -> Bool {
        let (ra, rb) = (positionRank(a), positionRank(b))
        if ra != rb { return ra > rb }
        return positionKey(a).lexicographicallyPrecedes(positionKey(b))
    }

    static func contentKey(_ r: Record) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginArray()
        w.comma(); w.string(r.type ?? "")
        w.comma(); w.raw(r.content?.bytes ?? Array("null".utf8))
        w.comma(); w.string(r.body ?? "")
        w.comma(); w.string(r.replyTo ?? "")
        w.comma(); w.raw(r.extra?.bytes ?? Array("null".utf8))
        w.endArray()
        return w.bytes
    }

    static func positionKey(_ r: Record) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginArray()
        for value in [r.timestamp.map { Int($0) }, r.phase, r.chunkOrder, r.threadIndex, r.messageIndex] {
            w.comma()
            if let value { w.int(value) } else { w.null() }
        }
        // Contact ids and status are not part of it: they are merged field by field
        // (see merge), so that no filled-in value can sway which place wins.
        for value in [r.direction?.rawValue, r.origin?.rawValue, r.phoneNumberID] {
            w.comma()
            if let value { w.string(value) } else { w.null() }
        }
        w.endArray()
        return w.bytes
    }

    static func maxOptional(_ a: String?, _ b: String?) -> String? {
        guard let a else { return b }
        guard let b else { return a }
        return a >= b ? a : b
    }

    static func maxRaw(_ a: RawJSON?, _ b: RawJSON?) -> RawJSON? {
        guard let a else { return b }
        guard let b else { return a }
        return b.bytes.lexicographicallyPrecedes(a.bytes) ? a : b
    }

    /// One message from two sightings of the same wamid.
    public static func merge(_ a: Record, _ b: Record) -> Record {
        let position = betterPosition(a, b) ? a : b
        let contentIsA = betterContent(a, b)
        let content = contentIsA ? a : b
        let other = contentIsA ? b : a
        var result = position
        result.type = content.type
        result.content = content.content
        result.body = content.body
        // Context, referral, forwarded flags and unknown keys of every copy are kept.
        result.replyTo = content.replyTo ?? other.replyTo
        result.extra = unionExtra(content.extra, other.extra)
        // A history message resolved by its media asset is a history message, not an asset.
        result.historyAsset = a.historyAsset && b.historyAsset
        result.errors = maxRaw(a.errors, b.errors)
        // Copies of one message name one user; should they differ, the larger value is
        // kept, a rule that holds whatever the order the copies merge in.
        result.contactWaID = maxOptional(a.contactWaID, b.contactWaID)
        result.contactUserID = maxOptional(a.contactUserID, b.contactUserID)
        // Not part of the place in the chat: the larger value, so that ties between
        // equal places never fall to arrival order.
        result.username = maxOptional(a.username, b.username)
        result.countryCode = maxOptional(a.countryCode, b.countryCode)
        result.displayPhoneNumber = maxOptional(a.displayPhoneNumber, b.displayPhoneNumber)
        result.status = maxOptional(a.status, b.status)
        let first = isEarlier(a, b) ? a : b
        result.source = first.source
        result.line = first.line
        result.arrival = first.arrival
        return result
    }

    /// The members of both `extra` objects: `first`'s, then those only `second` has.
    static func unionExtra(_ first: RawJSON?, _ second: RawJSON?) -> RawJSON? {
        guard let first else { return second }
        guard let second, first != second else { return first }
        let parser = JSONParser()
        guard let a = try? parser.parse(first.bytes), a.isObject else { return first }
        var keys: Set<[UInt8]> = []
        var w = JSONWriter(capacity: first.bytes.count + second.bytes.count)
        w.beginObject()
        for member in a.members {
            keys.insert(Array(member.keyBytes))
            w.key(member.keyBytes)
            member.value.write(to: &w)
        }
        let secondParser = JSONParser()
        if let b = try? secondParser.parse(second.bytes), b.isObject {
            for member in b.members where !keys.contains(Array(member.keyBytes)) {
                w.key(member.keyBytes)
                member.value.write(to: &w)
            }
        }
        w.endObject()
        return RawJSON(w.bytes)
    }

    public static func isEarlier(_ a: Record, _ b: Record) -> Bool {
        switch (a.arrival, b.arrival) {
        case let (x?, y?) where x != y: return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        default: return (a.source, a.line) <= (b.source, b.line)
        }
    }
}

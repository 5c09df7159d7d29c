import CoexJSON
import CoexKit

extension LoadOrder {
    /// coex-load's first look at a record read in place, for lines coex-normalize wrote in
    /// this process (every member of its type): writes the record's load-order key (the
    /// bytes `key(of:ordinal:into:)` gives for its `Record`), sets `pair` to the identity
    /// fact `IdentityFacts.add` would take from it (nil when none) and returns true; or
    /// returns false having touched nothing when the `Record` must decide: a record
    /// `LoadCheck` may refuse, or a user_id_change (whose facts are more than a pair).
    /// `wabaIsSafe` is `BusinessFile.isSafe` of the record's business.
    public static func keyInPlace(
        _ view: RecordView, wabaIsSafe: Bool, ordinal: Int, into key: inout [UInt8],
        pair: inout (UserIDPair, SeenSpan)?
    ) -> Bool {
        let v = view.value
        func string(_ name: StaticString) -> UnsafeRawBufferPointer? { v[name]?.stringBytes }
        func filled(_ bytes: UnsafeRawBufferPointer?) -> Bool { bytes.map { !$0.isEmpty } ?? false }
        guard wabaIsSafe, view.kind != .userIDChange else { return false }
        let wamid = string("wamid")
        let status = string("status")
        let original = string("original_message_id")
        let version = v["version"]?.int64
        let contactWaID = string("contact_wa_id")
        let contactUserID = string("contact_user_id")
        switch view.kind {
        case .message, .status, .messageVersion:
            guard filled(wamid) else { return false }
            if view.kind == .status, !filled(status) { return false }
            if view.kind == .messageVersion, version == nil { return false }
        case .edit, .revoke:
            guard filled(wamid), filled(original) else { return false }
        case .contact:
            guard filled(string("phone_number_id")), filled(contactWaID) || filled(contactUserID) else { return false }
        default:
            break
        }
        let timestamp = v["timestamp"]?.int64
        let arrival = v["arrival"]?.int64
        build(&key, waba: view.wabaID, kind: view.kind, wamid: wamid, status: status, original: original,
              version: version, timestamp: timestamp, arrival: arrival, ordinal: ordinal)
        pair = nil
        switch view.kind {
        case .message, .status, .contact, .edit, .revoke:
            // A group record (group_id given, even empty) names no user.
            if v["group_id"].map({ $0.isNull }) ?? true, let wa = contactWaID, let user = contactUserID,
                !wa.isEmpty, !user.isEmpty
            {
                pair = (UserIDPair(waID: String(decoding: wa, as: UTF8.self), userID: String(decoding: user, as: UTF8.self)),
                        SeenSpan(timestamp))
            }
        default:
            break
        }
        return true
    }

    /// The key of `key(of:ordinal:into:)` from the record's members (nil: absent).
    static func build(
        _ key: inout [UInt8], waba: UnsafeRawBufferPointer, kind: RecordKind, wamid: UnsafeRawBufferPointer?,
        status: UnsafeRawBufferPointer?, original: UnsafeRawBufferPointer?, version: Int64?, timestamp: Int64?,
        arrival: Int64?, ordinal: Int
    ) {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: waba)
        key.append(0)
        let cls = recordClass(kind)
        key.append(cls.rawValue)
        switch cls {
        case .message:
            if let wamid { key.append(contentsOf: wamid) }
            key.append(0)
            key.append(kind == .message ? 0 : 1)
            append(&key, version ?? 0)
        case .status:
            if let wamid { key.append(contentsOf: wamid) }
            key.append(0)
            if let status { key.append(contentsOf: status) }
            key.append(0)
            append(&key, timestamp ?? Int64.max)
            append(&key, arrival ?? Int64(Int.max))
        case .change:
            if let original { key.append(contentsOf: original) }
            key.append(0)
        case .contact, .other:
            append(&key, arrival ?? Int64(Int.max))
        }
        append(&key, Int64(ordinal))
    }
}

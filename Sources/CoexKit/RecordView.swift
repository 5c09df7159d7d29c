import CoexJSON
import Crypto

/// A normalized record read in place from its parsed line, without building a
/// `Record`: what dedupe and order need (kind, business, wamid, keys, digests)
/// costs no allocation, and the line itself can pass on byte for byte.
public struct RecordView {
    public let value: JSONValue
    public let kind: RecordKind

    /// Nil when the value is not an object with a known `kind` and a string `waba_id`.
    public init?(_ value: JSONValue) {
        guard value.isObject, let kindBytes = value["kind"]?.stringBytes,
            let kind = RecordView.kind(kindBytes), value["waba_id"]?.isString == true
        else { return nil }
        self.value = value
        self.kind = kind
    }

    static func kind(_ bytes: UnsafeRawBufferPointer) -> RecordKind? {
        for kind in RecordKind.allCases where equalBytes(bytes, kind.rawValue) { return kind }
        return nil
    }

    public var wabaID: UnsafeRawBufferPointer { value["waba_id"]!.stringBytes! }
    public var wamid: UnsafeRawBufferPointer? { value["wamid"]?.stringBytes }
    public var hasArrival: Bool { value["arrival"] != nil }

    /// Members that say where and when a record was seen, not what it says.
    static func isProvenance(_ key: UnsafeRawBufferPointer) -> Bool {
        JSONValue.Member.equal(key, "source") || JSONValue.Member.equal(key, "line")
            || JSONValue.Member.equal(key, "arrival") || JSONValue.Member.equal(key, "seq")
    }

    /// Identity of what the record says: SHA-256 (128 bits) of its members other
    /// than provenance. `scratch` is reused between calls.
    public func contentDigest(scratch w: inout JSONWriter) -> Digest128 {
        w.reset()
        w.beginObject()
        for member in value.members where !Self.isProvenance(member.keyBytes) {
            w.key(member.keyBytes)
            member.value.write(to: &w)
        }
        w.endObject()
        return Digest128(bytes: w.bytes)
    }

    /// The dedupe identity: messages by (business, wamid), edits and revokes by
    /// (kind, business, wamid), statuses by (business, wamid, status), anything else
    /// by its content digest.
    public func dedupeKey(scratch w: inout JSONWriter) -> DedupeKey {
        dedupeKey(scratch: &w, content: nil)
    }

    /// `content`: the record's members other than provenance as written, when the caller
    /// has them (a line coex-normalize wrote in this process), hashed instead of written
    /// again; equal facts give equal bytes there too.
    public func dedupeKey(scratch w: inout JSONWriter, content: UnsafeRawBufferPointer?) -> DedupeKey {
        switch kind {
        case .message, .edit, .revoke, .status:
            if let wamid, !wamid.isEmpty {
                w.reset()
                w.bytes.append(UInt8(kind.ordinal))
                w.bytes.append(0)
                w.bytes.append(contentsOf: wabaID)
                w.bytes.append(0)
                w.bytes.append(contentsOf: wamid)
                if kind == .status {
                    // A status is one per (wamid, status).
                    guard let status = value["status"]?.stringBytes else { break }
                    w.bytes.append(0)
                    w.bytes.append(contentsOf: status)
                }
                return DedupeKey(held: true, digest: Digest128(bytes: w.bytes))
            }
        default:
            break
        }
        if let content { return DedupeKey(held: false, digest: Digest128(bytes: content)) }
        return DedupeKey(held: false, digest: contentDigest(scratch: &w))
    }
}

extension JSONValue.Member {
    static func equal(_ bytes: UnsafeRawBufferPointer, _ other: StaticString) -> Bool {
        equalBytes(bytes, UnsafeRawBufferPointer(start: other.utf8Start, count: other.utf8CodeUnitCount))
    }
}

/// The identity of a fact for deduplication: a digest, and whether the fact is
/// held to the end (messages, edits, revokes, statuses: a later sighting can change
/// which one is kept) or passes at its first sighting.
public struct DedupeKey: Hashable, Sendable {
    public var held: Bool
    public var digest: Digest128

    public init(held: Bool, digest: Digest128) {
        self.held = held
        self.digest = digest
    }
}

/// 128 bits of SHA-256: the identity of a record's content (collisions are out of
/// reach for any capture size).
public struct Digest128: Hashable, Sendable, Comparable {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(bytes: [UInt8]) {
        let (high, low) = bytes.withUnsafeBytes { Self.halves($0) }
        self.init(high: high, low: low)
    }

    public init(bytes: UnsafeRawBufferPointer) {
        let (high, low) = Self.halves(bytes)
        self.init(high: high, low: low)
    }

    private static func halves(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let digest = SHA256.hash(data: bytes)
        var high: UInt64 = 0
        var low: UInt64 = 0
        digest.withUnsafeBytes { raw in
            for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
            for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
        }
        return (high, low)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// "hex hex", for spill files.
    public var text: String { "\(String(high, radix: 16)) \(String(low, radix: 16))" }

    public init?(text: Substring) {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16) else {
            return nil
        }
        self.init(high: high, low: low)
    }
}

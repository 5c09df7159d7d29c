import Crypto

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

/// What to generate. Same options (seed included) → byte-identical capture on every platform.
public struct CaptureOptions: Sendable, Equatable {
    /// Seed of every random choice.
    public var seed: UInt64 = 1
    /// Number of businesses (WABAs); each has 1 or 2 phone numbers.
    public var businesses: Int = 8
    /// WhatsApp users who chat with each business; 0 = derived from the message count.
    public var usersPerBusiness: Int = 0
    /// Messages per business (history + live + echoes), counted as distinct message wamids.
    /// Ignored when `targetBytes` is set.
    public var messagesPerBusiness: Int = 2_000
    /// When set, each business generates until its share of this many bytes is reached
    /// (lines plus newlines), so the whole capture is at least this large.
    public var targetBytes: Int? = nil
    /// Share of lines delivered again later, byte for byte (0 disables redeliveries).
    public var redeliveryRate: Double = 0.03
    /// Number of nightly parts; every line belongs to exactly one night (1...nights).
    public var nights: Int = 1
    /// Share of users known by phone on early nights and only by BSUID later (0 = no BSUIDs at all).
    public var bsuidShare: Double = 0.1
    /// Out-of-order delivery: jitter, chunks out of order, edits before originals, late originals.
    public var shuffle: Bool = true

    public init() {}

    public init(seed: UInt64, businesses: Int = 8, usersPerBusiness: Int = 0, messagesPerBusiness: Int = 2_000,
                targetBytes: Int? = nil, redeliveryRate: Double = 0.03, nights: Int = 1,
                bsuidShare: Double = 0.1, shuffle: Bool = true) {
        self.seed = seed
        self.businesses = businesses
        self.usersPerBusiness = usersPerBusiness
        self.messagesPerBusiness = messagesPerBusiness
        self.targetBytes = targetBytes
        self.redeliveryRate = redeliveryRate
        self.nights = nights
        self.bsuidShare = bsuidShare
        self.shuffle = shuffle
    }

    public static let maxUsersPerBusiness = 100_000
    public static let maxNights = 120

    /// Why these options cannot be generated, or nil when they can.
    public var problem: String? {
        if businesses < 1 || businesses > 100_000 { return "businesses must be between 1 and 100000" }
        if usersPerBusiness < 0 || usersPerBusiness > Self.maxUsersPerBusiness {
            return "users per business must be between 1 and \(Self.maxUsersPerBusiness) (0 = automatic)"
        }
        if targetBytes == nil && messagesPerBusiness < 1 { return "messages per business must be at least 1" }
        if let t = targetBytes, t < 1 { return "target size must be at least 1 byte" }
        if !(redeliveryRate >= 0 && redeliveryRate <= 0.5) { return "redelivery rate must be between 0 and 0.5" }
        if nights < 1 || nights > Self.maxNights { return "nights must be between 1 and \(Self.maxNights)" }
        if !(bsuidShare >= 0 && bsuidShare <= 1) { return "BSUID share must be between 0 and 1" }
        return nil
    }

    /// Parses sizes such as `200MB`, `1GB`, `1.5G`, `512k`, `64MiB` or a plain byte count.
    /// K/M/G/T (with or without B) are powers of 1000; KiB/MiB/GiB/TiB powers of 1024.
    public static func parseByteSize(_ text: String) -> Int? {
        let t = text.trimmingSpaces.lowercased()
        var number = ""
        var unit = ""
        for ch in t {
            if unit.isEmpty && (ch.isNumber || ch == ".") { number.append(ch) } else if ch != " " { unit.append(ch) }
        }
        guard !number.isEmpty, let value = Double(number), value >= 0 else { return nil }
        let multiplier: Double
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb": multiplier = 1e3
        case "m", "mb": multiplier = 1e6
        case "g", "gb": multiplier = 1e9
        case "t", "tb": multiplier = 1e12
        case "ki", "kib": multiplier = 1024
        case "mi", "mib": multiplier = 1_048_576
        case "gi", "gib": multiplier = 1_073_741_824
        case "ti", "tib": multiplier = 1_099_511_627_776
        default: return nil
        }
        let bytes = (value * multiplier).rounded()
        guard bytes >= 1, bytes < 9e18 else { return nil }
        return Int(bytes)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

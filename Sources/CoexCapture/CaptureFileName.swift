/// Names of capture files: `capture-20261207T154100.123456Z-0000`, then `.ndjson` for the
/// bodies and `.sig` for their signature records (each `.zst` once finished).
///
/// Names sort by the time the file was opened. They never collide across restarts: a new
/// name must sort after every capture already in the directory, and when the clock says
/// otherwise (it went back, or two files in one microsecond) the last name's time is kept
/// and its sequence number raised.
public struct CaptureFileName: Sendable, Hashable, Comparable {
    public static let prefix = "capture-"
    public static let bodies = ".ndjson"
    public static let signatures = ".sig"
    public static let compressed = ".zst"
    /// A file being compressed; removed at start if a crash left it.
    public static let partial = ".part"
    /// What a restart cut off the end of an unfinished file.
    public static let tornSuffix = ".torn"

    /// `capture-<time>-<sequence>`, with no suffix.
    public let base: String

    public init?(base: String) {
        guard base.hasPrefix(Self.prefix), base.count == Self.prefix.count + 23 + 5 else { return nil }
        self.base = base
    }

    public static func < (a: Self, b: Self) -> Bool { a.base < b.base }

    /// The capture a file in the directory belongs to, whatever its suffix.
    public static func of(file name: String) -> CaptureFileName? {
        guard name.hasPrefix(prefix) else { return nil }
        let base = String(name.prefix(prefix.count + 23 + 5))
        guard name.count > base.count else { return nil }
        return CaptureFileName(base: base)
    }

    /// A name after `last` (if any) for a file opened at `time`.
    public static func next(at time: CaptureTime, after last: CaptureFileName?) -> CaptureFileName {
        let candidate = CaptureFileName(base: prefix + time.compact + "-0000")!
        guard let last, candidate <= last else { return candidate }
        let sequence = Int(last.base.suffix(4)) ?? 0
        if sequence < 9999 {
            let s = String(sequence + 1)
            return CaptureFileName(base: String(last.base.dropLast(4)) + String(repeating: "0", count: 4 - s.count) + s)!
        }
        // 10,000 names at one instant: the next microsecond after the last name's.
        return CaptureFileName(base: prefix + CaptureTime(micros: (last.timeMicros ?? time.micros) + 1).compact + "-0000")!
    }

    /// The opening time the name carries, read back (for the clock-went-back case).
    var timeMicros: Int64? {
        let stamp = Array(base.dropFirst(Self.prefix.count).utf8)
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: stamp[range], as: UTF8.self)) }
        guard let y = number(0..<4), let mo = number(4..<6), let d = number(6..<8), let h = number(9..<11),
              let mi = number(11..<13), let s = number(13..<15), let f = number(16..<22) else { return nil }
        let days = daysFromCivil(y, mo, d)
        return ((Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + s)) * 1_000_000) + Int64(f)
    }

    public var bodiesFile: String { base + Self.bodies }
    public var signaturesFile: String { base + Self.signatures }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
private func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

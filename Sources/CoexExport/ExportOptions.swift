import CoexStore
/// What to export: the whole business, or the rows of a time window and/or some users,
/// optionally with the text of revoked messages removed (docs/export.md, "Filters").
public struct ExportFilter: Sendable, Equatable {
    /// Keep messages with `timestamp >= since` (inclusive), Unix seconds.
    public var since: Int64?
    /// Keep messages with `timestamp < until` (exclusive), Unix seconds.
    public var until: Int64?
    /// Users to keep, each a phone number (wa_id) or a BSUID (user_id); empty keeps every user.
    public var contacts: [String]
    /// Blank `body` and `content` of revoked messages and of all their versions.
    public var redactRevoked: Bool

    public init(since: Int64? = nil, until: Int64? = nil, contacts: [String] = [], redactRevoked: Bool = false) {
        self.since = since
        self.until = until
        self.contacts = contacts
        self.redactRevoked = redactRevoked
    }

    /// True when rows are removed (a time window or users); redaction alone removes no row.
    public var selectsRows: Bool { since != nil || until != nil || !contacts.isEmpty }

    /// True when the exported data differs from the database's.
    public var changesData: Bool { selectsRows || redactRevoked }

    /// The users as recorded in the manifest: sorted and without repeats, so that the same
    /// request spelled in another order gives the same archive.
    public var normalizedContacts: [String] { Array(Set(contacts)).sorted() }
}

/// Everything an export needs besides the database and the archive paths.
public struct ExportOptions: Sendable {
    public var filter: ExportFilter
    /// The business id written to the manifest; nil takes it from the database file name
    /// (`<waba_id>.sqlite`, as coex-load names it).
    public var wabaID: String?

    public init(filter: ExportFilter = ExportFilter(), wabaID: String? = nil) {
        self.filter = filter
        self.wabaID = wabaID
    }
}

/// Times of the command line and of the transcripts: Unix seconds, UTC dates, ISO-8601.
public enum ExportTime {
    /// Parses a Unix timestamp (digits only), a date `YYYY-MM-DD` (00:00:00 UTC that day), or an
    /// ISO-8601 date-time `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]` (no zone: UTC; a space may
    /// replace the `T`). A fraction of a second rounds up to the next whole second, which keeps
    /// `>= since` and `< until` exact for integer message times. Nil when the text is none of these.
    public static func parse(_ text: String) -> Int64? {
        let s = Array(text.utf8)
        guard !s.isEmpty else { return nil }
        if s.allSatisfy(isDigit) {
            guard s.count <= 18 else { return nil }
            return Int64(text)
        }
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= s.count else { return nil }
            var value = 0
            for k in i..<(i + digits) {
                guard isDigit(s[k]) else { return nil }
                value = value * 10 + Int(s[k] - 48)
            }
            i += digits
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < s.count, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var seconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if i == s.count { return seconds }
        guard s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: "t") || s[i] == 32 else { return nil }
        i += 1
        guard let hour = number(2), hour < 24, expect(58), let minute = number(2), minute < 60 else { return nil }
        var second = 0
        var fraction = false
        if expect(58) {
            guard let sec = number(2), sec < 60 else { return nil }
            second = sec
            if expect(46) || expect(44) {
                let start = i
                while i < s.count, isDigit(s[i]) {
                    if s[i] != 48 { fraction = true }
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        seconds += Int64(hour * 3600 + minute * 60 + second)
        if fraction { seconds += 1 }
        if i == s.count { return seconds }
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            return i + 1 == s.count ? seconds : nil
        }
        guard s[i] == 43 || s[i] == 45 else { return nil }
        let sign: Int64 = s[i] == 43 ? 1 : -1
        i += 1
        guard let offsetHours = number(2), offsetHours < 24 else { return nil }
        _ = expect(58)
        guard let offsetMinutes = number(2), offsetMinutes < 60, i == s.count else { return nil }
        // 10:00+02:00 is 08:00 UTC.
        return seconds - sign * Int64(offsetHours * 3600 + offsetMinutes * 60)
    }

    /// `2026-01-14T19:05:00Z`.
    public static func iso(_ seconds: Int64) -> String { isoTime(seconds) }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil calendar algorithms (proleptic Gregorian, day 0 = 1970-01-01).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

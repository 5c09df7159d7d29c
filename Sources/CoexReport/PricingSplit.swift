import CoexSQLite
import CoexStore

/// One month (UTC) of the source document's pricing split: "messages sent by the business via
/// the WhatsApp Business app will continue to be free, but messages sent via API will be
/// subject to Cloud API pricing".
public struct PricingMonth: Sendable, Equatable {
    /// `2026-01`, or `unknown` for messages without a time.
    public var month: String
    /// Sent from the app (echoes): free.
    public var appSent = 0
    /// Sent through the API (known by their statuses): billed.
    public var apiSent = 0
    /// API-sent messages by their current status.
    public var apiByStatus: [String: Int] = [:]
    /// API-sent messages by `pricing.category` (`unknown`: no status carried pricing).
    public var apiByCategory: [String: Int] = [:]
    /// API-sent messages whose pricing says billable true, false, or has no pricing.
    public var apiBillable = 0
    public var apiNotBillable = 0
    public var apiBillingUnknown = 0
    /// Messages from users received live (history is not traffic of the month).
    public var inbound = 0

    public init(month: String) {
        self.month = month
    }

    /// Months in order (`unknown` last), from the database's echoes, API sends and inbound
    /// live messages. Reads only tables of schema 1.
    static func read(_ db: Database) throws -> [PricingMonth] {
        var months: [String: PricingMonth] = [:]
        func month(_ s: Statement, _ i: Int) -> String { s.isNull(at: i) ? "unknown" : s.text(at: i) }
        let monthOf = "strftime('%Y-%m', timestamp, 'unixepoch')"
        try db.prepare("""
            SELECT \(monthOf), total(origin = 'echo'), total(origin = 'live' AND direction = 'inbound')
            FROM messages WHERE origin IN ('echo', 'live') GROUP BY 1
            """).forEachRow { s in
            let key = month(s, 0)
            months[key, default: PricingMonth(month: key)].appSent += Int(s.double(at: 1))
            months[key, default: PricingMonth(month: key)].inbound += Int(s.double(at: 2))
        }
        try db.prepare("""
            SELECT \(monthOf), status, pricing_category, billable, count(*)
            FROM (\(APIMessagesSQL.select)) GROUP BY 1, 2, 3, 4
            """).forEachRow { s in
            let key = month(s, 0)
            let n = s.int(at: 4)
            var m = months[key] ?? PricingMonth(month: key)
            m.apiSent += n
            m.apiByStatus[s.isNull(at: 1) ? "unknown" : s.text(at: 1), default: 0] += n
            m.apiByCategory[s.isNull(at: 2) ? "unknown" : s.text(at: 2), default: 0] += n
            if s.isNull(at: 3) {
                m.apiBillingUnknown += n
            } else if s.int(at: 3) != 0 {
                m.apiBillable += n
            } else {
                m.apiNotBillable += n
            }
            months[key] = m
        }
        return months.values.sorted { a, b in
            (a.month == "unknown" ? 1 : 0, a.month) < (b.month == "unknown" ? 1 : 0, b.month)
        }
    }
}

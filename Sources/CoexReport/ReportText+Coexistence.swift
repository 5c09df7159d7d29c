import CoexStore

// The sections of the source document's Coexistence rules: onboarding, the 24-hour history
// deadline and the app vs API pricing split (docs/report.md).
extension ReportText {
    static func asOf(_ r: BusinessReport, into out: inout Lines) {
        guard let at = r.at else {
            out.field("as of", "no time in the database")
            return
        }
        out.field("as of", "\(isoTime(at)) (\(r.atGiven ? "--at" : "the latest time in the database"))")
    }

    static func onboardingText(_ o: Onboarding) -> String {
        switch o.source {
        case .partnerAdded: return "\(o.time.map(isoTime) ?? "-") (PARTNER_ADDED)"
        case .firstWebhook: return "\(o.time.map(isoTime) ?? "-") (first non-history webhook; no PARTNER_ADDED with a time)"
        case .notYet: return "not yet (PARTNER_ADDED only after this time)"
        case .unknown: return "unknown (no time in the database)"
        }
    }

    static func deadlines(_ r: BusinessReport, into out: inout Lines) {
        out.field("onboarded", onboardingText(r.onboarding))
        guard !r.syncDeadlines.isEmpty else { return }
        out.field("sync deadline", r.syncDeadlines.map { d in
            "\(d.phoneNumberID) \(words(d.state.rawValue))" + (d.flagged ? " (flagged)" : "")
        }.joined(separator: ", "))
        let rows = r.syncDeadlines.map { d in
            [d.phoneNumberID, d.onboardedAt.map(isoTime) ?? "-", d.deadline.map(isoTime) ?? "-",
             d.finished ? (d.finishedAt.map(isoTime) ?? "yes, time unknown") : "no", d.history.rawValue,
             words(d.state.rawValue), d.flagged ? "yes" : "no"]
        }
        out.table(["phone number", "onboarded", "deadline", "finished", "history", "state", "flagged"], rows)
    }

    static func words(_ name: String) -> String { name.replacingOccurrences(of: "_", with: " ") }

    static func pricing(_ months: [PricingMonth], into out: inout Lines) {
        let app = months.reduce(0) { $0 + $1.appSent }, api = months.reduce(0) { $0 + $1.apiSent }
        out.field("pricing", "\(plural(app, "message")) sent from the app (free), \(api) through the API (billed)")
        guard !months.isEmpty else { return }
        let rows = months.map { m in
            [m.month, "\(m.appSent)", "\(m.apiSent)", "\(m.apiBillable)", "\(m.apiNotBillable)", "\(m.apiBillingUnknown)",
             "\(m.inbound)", m.apiByStatus.isEmpty ? "-" : tally(m.apiByStatus),
             m.apiByCategory.isEmpty ? "-" : tally(m.apiByCategory)]
        }
        out.table(["month", "app sent", "api sent", "billable", "not billable", "no pricing", "inbound",
                   "api by status", "api by category"], rows, right: Set(1...6))
    }
}

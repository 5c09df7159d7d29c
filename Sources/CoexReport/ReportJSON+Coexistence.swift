import CoexJSON
import CoexStore

// The keys of the Coexistence rules, after `imports` (docs/report.md, "JSON").
extension ReportJSON {
    static func coexistence(_ r: BusinessReport, _ w: inout JSONWriter) {
        time("at", r.at, &w)
        w.key("at_given"); w.bool(r.atGiven)
        w.key("onboarding"); w.beginObject()
        time("time", r.onboarding.time, &w)
        w.key("source"); w.string(r.onboarding.source.rawValue)
        w.endObject()

        w.key("sync_deadlines"); w.beginArray()
        for d in r.syncDeadlines {
            w.comma(); w.beginObject()
            w.key("phone_number_id"); w.string(d.phoneNumberID)
            time("onboarded_at", d.onboardedAt, &w)
            time("deadline", d.deadline, &w)
            w.key("finished"); w.bool(d.finished)
            time("finished_at", d.finishedAt, &w)
            w.key("history_state"); w.string(d.history.rawValue)
            w.key("state"); w.string(d.state.rawValue)
            w.key("flagged"); w.bool(d.flagged)
            w.endObject()
        }
        w.endArray()

        w.key("pricing"); w.beginArray()
        for m in r.pricing {
            w.comma(); w.beginObject()
            w.key("month"); w.string(m.month)
            w.key("app_sent"); w.int(m.appSent)
            w.key("api_sent"); w.int(m.apiSent)
            w.key("api_by_status"); counts(m.apiByStatus, &w)
            w.key("api_by_category"); counts(m.apiByCategory, &w)
            w.key("api_billable"); w.int(m.apiBillable)
            w.key("api_not_billable"); w.int(m.apiNotBillable)
            w.key("api_billing_unknown"); w.int(m.apiBillingUnknown)
            w.key("inbound"); w.int(m.inbound)
            w.endObject()
        }
        w.endArray()
    }
}

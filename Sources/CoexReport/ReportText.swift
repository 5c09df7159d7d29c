import CoexStore
/// The human-readable report: one section per business, labels in one column, tables
/// with aligned columns (numbers right-aligned), no trailing spaces. docs/report.md shows
/// an example and explains every line.
public enum ReportText {
    /// The section of one business, ending with a newline. Sections of several businesses
    /// are separated by a blank line (see `separator`).
    public static func render(_ r: BusinessReport) -> String {
        var out = Lines()
        out.line("business \(r.wabaID)")
        out.field("database", "\(r.path) (schema \(r.schemaVersion))")
        out.field("phone numbers", r.phoneNumbers.isEmpty ? "none" : r.phoneNumbers.map { p in
            p.display.map { "\(p.id) (\($0))" } ?? p.id
        }.joined(separator: ", "))
        if let range = r.timeRange {
            out.field("time range", "\(isoTime(range.first)) to \(isoTime(range.last)) (\(range.first) to \(range.last))")
        } else {
            out.field("time range", "no message")
        }
        var imports = "\(r.imports.count)"
        if let last = r.imports.lastTime { imports += ", last \(isoTime(last)) (\(last))" }
        if !r.imports.lastInputs.isEmpty { imports += ", inputs: " + r.imports.lastInputs.joined(separator: " ") }
        out.field("imports", imports)
        asOf(r, into: &out)

        out.blank()
        account(r.account, into: &out)
        out.blank()
        history(r.history, into: &out)
        deadlines(r, into: &out)
        out.blank()
        counts(r, into: &out)
        out.blank()
        pricing(r.pricing, into: &out)
        return out.text
    }

    /// Between two business sections.
    public static let separator = "\n"

    static func account(_ a: AccountSummary, into out: inout Lines) {
        var state = a.state.words
        if let since = a.since {
            state += " since \(isoTime(since))"
        } else if a.events.contains(where: \.changesState) {
            state += " (time unknown)"
        }
        if a.events.isEmpty { state += " (no account event)" }
        out.field("account state", state)
        guard !a.events.isEmpty else { return }
        let rows = a.events.map { e in
            [e.time.map(isoTime) ?? "-", e.event ?? "-", e.phoneNumber ?? "-", e.reason ?? "-", e.initiatedBy ?? "-",
             e.changesState ? e.stateAfter.words : "(\(e.stateAfter.words))"]
        }
        out.table(["time", "event", "phone number", "reason", "initiated by", "state after"], rows)
    }

    static func history(_ list: [HistorySync], into out: inout Lines) {
        guard !list.isEmpty else {
            out.field("history sync", "no phone number known")
            return
        }
        out.field("history sync", list.map { "\($0.phoneNumberID) \($0.state.rawValue)" }.joined(separator: ", "))
        let rows = list.map { h in
            [h.phoneNumberID, h.state.rawValue, h.phases.isEmpty ? "-" : h.phases.map(String.init).joined(separator: ","),
             "\(h.chunks)", "\(h.missingChunks)", gapsText(h.gaps), "\(h.repeated.count)",
             h.progress.map(String.init) ?? "-", "\(h.messages)",
             h.declined ? (h.declinedAt.map { "yes, \(isoTime($0))" } ?? "yes") : "no"]
        }
        out.table(["phone number", "state", "phases", "chunks", "missing", "gaps", "repeated", "progress", "messages",
                   "declined"], rows, right: [3, 4, 6, 7, 8])
    }

    /// "phase 1: 1; phase 0: 3,7-9" (at most 10 ranges per phase), "-" without gaps.
    static func gapsText(_ gaps: [Int: [ClosedRange<Int>]]) -> String {
        guard !gaps.isEmpty else { return "-" }
        return gaps.sorted { $0.key > $1.key }.map { phase, ranges in
            let listed = ranges.prefix(10).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            let more = ranges.count > 10 ? " and \(ranges.count - 10) more" : ""
            return "phase \(phase): \(listed.joined(separator: ","))\(more)"
        }.joined(separator: "; ")
    }

    static func counts(_ r: BusinessReport, into out: inout Lines) {
        let m = r.messages
        out.field("messages", "\(m.total)")
        let directions = m.directions
        var rows = m.origins.map { origin in
            [origin] + directions.map { "\(m.count(origin: origin, direction: $0))" } + ["\(m.total(origin: origin))"]
        }
        rows.append(["total"] + directions.map { "\(m.total(direction: $0))" } + ["\(m.total)"])
        out.table(["origin"] + directions + ["total"], rows, right: Set(1...(directions.count + 1)))
        out.field("message types", m.byType.isEmpty ? "none" : tally(m.byType))
        out.field("group messages", "\(m.group)")
        if m.unmatchedHistoryAssets > 0 {
            out.field("history assets", "\(m.unmatchedHistoryAssets) never matched with their history message")
        }
        let e = r.edits
        out.field("edits", "\(plural(e.editedMessages, "message")) edited, \(plural(e.edits, "edit")), "
            + plural(e.versions, "version"))
        out.field("revokes", "\(plural(r.revokedMessages, "message")) revoked")
        out.field("pending changes", withTally(r.pendingTotal, r.pendingChanges))
        let s = r.statuses
        out.field("statuses", withTally(s.total, s.byStatus)
            + "; \(plural(s.messagesWithoutRow, "message")) without a message row")
        let er = r.errors
        out.field("errors", withTally(er.total, er.byCode) + "; \(er.messageErrors) of a message, \(er.webhookErrors) of a webhook")
        let c = r.contacts
        out.field("contacts", "\(c.total): \(c.listed) in the list, \(c.removed) removed, \(c.neverListed) never listed")
        let u = r.users
        out.field("users", "\(u.total): \(u.phoneOnly) by phone only, \(u.phoneAndBSUID) by phone and BSUID, "
            + "\(u.bsuidOnly) by BSUID only")
        out.field("BSUID changes", "\(u.userIDChanges)")
    }

    /// "7 (delivered 3, read 2, sent 2)", "0".
    static func withTally(_ total: Int, _ counts: [String: Int]) -> String {
        counts.isEmpty ? "\(total)" : "\(total) (\(tally(counts)))"
    }

    /// "text 34, image 3": largest first, then by name.
    static func tally(_ counts: [String: Int]) -> String {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

/// Text lines under construction.
struct Lines {
    var text = ""
    /// Width of the label column of `field`.
    static let labelWidth = 18

    mutating func line(_ s: String) {
        var s = s
        while s.hasSuffix(" ") { s.removeLast() }
        text += s + "\n"
    }

    mutating func blank() { text += "\n" }

    /// "  label             value"
    mutating func field(_ label: String, _ value: String) {
        line("  " + padded(label, Self.labelWidth) + value)
    }

    /// A table indented by 4, columns two spaces apart; columns in `right` are right-aligned.
    mutating func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        for row in [header] + rows {
            var cells: [String] = []
            for (i, cell) in row.enumerated() {
                let w = i < widths.count ? widths[i] : cell.count
                let pad = String(repeating: " ", count: max(0, w - cell.count))
                cells.append(right.contains(i) ? pad + cell : cell + pad)
            }
            line("    " + cells.joined(separator: "  "))
        }
    }

    func padded(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

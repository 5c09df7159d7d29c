import Testing
import CoexJSON
@testable import CoexSamples

/// A generated capture held in memory, with the generator's ground truth.
fileprivate struct GeneratedCapture: Sendable {
    var nights: [Int] = []
    var lines: [[UInt8]] = []
    var truth = CaptureTruth()

    init(_ options: CaptureOptions) {
        var it = CaptureGenerator(options).makeIterator()
        while let (night, line) = it.next() {
            nights.append(night)
            lines.append(line)
        }
        truth = it.truth
    }
}

/// A moderate capture: every kind of traffic occurs, small enough to check line by line.
fileprivate let moderateOptions = CaptureOptions(
    seed: 2026, businesses: 6, messagesPerBusiness: 600, redeliveryRate: 0.03, nights: 3, bsuidShare: 0.25)
fileprivate let moderate = GeneratedCapture(moderateOptions)
fileprivate let moderateFacts = CaptureFacts(moderate)

/// Union-find over user identities ("w:<wa_id>", "u:<user_id>").
fileprivate struct Identities {
    var parent: [String: String] = [:]

    mutating func find(_ x: String) -> String {
        if parent[x] == nil { parent[x] = x; return x }
        var root = x
        while let p = parent[root], p != root { root = p }
        var node = x
        while let p = parent[node], p != root { parent[node] = root; node = p }
        return root
    }

    mutating func union(_ a: String, _ b: String) {
        let ra = find(a), rb = find(b)
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }
}

/// What a pipeline could learn from the lines alone, per business, to compare with the truth.
fileprivate struct BusinessFacts {
    var messageWamids: Set<String> = []
    var identities = Identities()
    var chatIdentities: Set<String> = []
    var knownIdentities: Set<String> = []
    var statusPairs: Set<String> = []
    var failedStatuses: Set<String> = []
    var statusWamids: Set<String> = []
    var edits: Set<String> = []
    var editedOriginals: Set<String> = []
    var revokes: Set<String> = []
    var revokedOriginals: Set<String> = []
    var placeholders: Set<String> = []
    var assets: Set<String> = []
    var unsupported: Set<String> = []
    var realDeliveries: Set<String> = []
    var chunks: Set<String> = []
    var declined = false
    var accountLines: Set<[UInt8]> = []
    var unknownFieldLines: Set<[UInt8]> = []
    /// (identity, timestamp, remove) of every smb_app_state_sync item.
    var contactActions: [(String, Int64, Bool)] = []
    /// How each message showed its user: (identity, "phone" | "pair" | "bsuid", night).
    var presentations: [(id: String, kind: String, night: Int)] = []
}

fileprivate struct CaptureFacts: @unchecked Sendable {
    var features: Set<String> = []
    var problems: [String] = []
    var businesses: [String: BusinessFacts] = [:]
    /// First line index and night of each message wamid's delivery, and of each edit's.
    var firstMessageLine: [String: Int] = [:]
    var messageNights: [String: Set<Int>] = [:]
    var editsByOriginal: [String: [(line: Int, ts: Int64, night: Int)]] = [:]
    var chunkArrivals: [String: [Int]] = [:]
    var progressByPhone: [String: [(phase: Int, chunk: Int, progress: Int)]] = [:]

    init(_ capture: GeneratedCapture) {
        let parser = JSONParser()
        var seen: [[UInt8]: Int] = [:]
        for (i, line) in capture.lines.enumerated() {
            seen[line, default: 0] += 1
            guard let doc = try? parser.parse(line) else { problems.append("line \(i + 1): not JSON"); continue }
            scan(doc, line: line, index: i, night: capture.nights[i])
        }
        if seen.values.contains(where: { $0 > 1 }) { features.insert("redelivery") }
    }

    static func text(_ v: JSONValue?) -> String? { v?.nonEmptyString }

    static func timestamp(_ v: JSONValue?) -> Int64? {
        guard let v else { return nil }
        if let i = v.int64 { return i }
        if let s = v.string, !s.isEmpty, s.allSatisfy(\.isASCII), let i = Int64(s) { return i }
        return nil
    }

    mutating func note(_ feature: String) { features.insert(feature) }

    /// Records a user identity seen on a record; a pair seen together becomes one user.
    mutating func user(_ b: inout BusinessFacts, waId: String?, userId: String?, chat: Bool) {
        let w = waId.map { "w:" + $0 }
        let u = userId.map { "u:" + $0 }
        if let w, let u { b.identities.union(w, u) }
        for id in [w, u].compactMap({ $0 }) {
            _ = b.identities.find(id)
            b.knownIdentities.insert(id)
            if chat { b.chatIdentities.insert(id) }
        }
        if w != nil && u != nil { note("identity:pair") }
        if w == nil && u != nil { note("identity:bsuid-only") }
    }

    mutating func scan(_ doc: JSONValue, line: [UInt8], index: Int, night: Int) {
        guard doc.isObject, doc["object"]?.stringEquals("whatsapp_business_account") == true,
              let entries = doc["entry"], entries.isArray
        else { problems.append("line \(index + 1): not a whatsapp_business_account webhook"); return }
        if entries.count > 1 { note("batched:entries") }
        for entry in entries.elements {
            guard entry.isObject, let entryId = Self.text(entry["id"]), let changes = entry["changes"], changes.isArray
            else { problems.append("line \(index + 1): bad entry"); continue }
            if changes.count > 1 { note("batched:changes") }
            if let t = entry["time"] { note(t.kind == .string ? "entry.time:string" : "entry.time:int") }
            for change in changes.elements {
                guard let field = change["field"]?.string, let value = change["value"], value.isObject
                else { problems.append("line \(index + 1): bad change"); continue }
                var business = entryId
                if let wabaInfo = value["waba_info"], let id = Self.text(wabaInfo["waba_id"]) { business = id }
                var b = businesses[business] ?? BusinessFacts()
                scanChange(field: field, value: value, business: &b, line: line, index: index, night: night)
                businesses[business] = b
            }
        }
    }

    mutating func scanChange(field: String, value: JSONValue, business b: inout BusinessFacts,
                             line: [UInt8], index: Int, night: Int) {
        let phoneId = Self.text(value["metadata"]?["phone_number_id"]) ?? "-"
        switch field {
        case "messages", "smb_message_echoes", "history":
            for c in jsonItems(value["contacts"]) {
                user(&b, waId: Self.text(c["wa_id"]), userId: Self.text(c["user_id"]), chat: false)
            }
            if let messages = value["messages"], messages.count > 1 { note("batched:messages") }
            for m in jsonItems(value["messages"]) {
                scanMessage(m, echo: false, field: field, business: &b, index: index, night: night)
            }
            for m in jsonItems(value["message_echoes"]) {
                scanMessage(m, echo: true, field: field, business: &b, index: index, night: night)
            }
            for s in jsonItems(value["statuses"]) {
                guard let id = Self.text(s["id"]), let status = s["status"]?.string else { continue }
                note("status:" + status)
                b.statusPairs.insert(id + " " + status)
                b.statusWamids.insert(id)
                if status == "failed" { b.failedStatuses.insert(id) }
                user(&b, waId: Self.text(s["recipient_id"]), userId: Self.text(s["recipient_user_id"]), chat: false)
            }
            if field == "messages", value["errors"] != nil, value["messages"] == nil, value["statuses"] == nil {
                note("messages:errors-only")
            }
            for h in jsonItems(value["history"]) {
                scanHistory(h, phoneId: phoneId, business: &b, index: index)
            }
        case "smb_app_state_sync":
            for item in jsonItems(value["state_sync"]) {
                let contact = item["contact"]
                let waId = Self.text(contact?["phone_number"]), userId = Self.text(contact?["user_id"])
                user(&b, waId: waId, userId: userId, chat: false)
                let remove = item["action"]?.stringEquals("remove") == true
                note(remove ? "sync:remove" : "sync:add")
                if let id = waId.map({ "w:" + $0 }) ?? userId.map({ "u:" + $0 }),
                   let ts = Self.timestamp(item["metadata"]?["timestamp"]) {
                    b.contactActions.append((id, ts, remove))
                }
            }
        case "account_update":
            let event = value["event"]?.string ?? "?"
            note("account:" + event)
            if value["waba_info"] != nil && value["disconnection_info"] != nil { note("account:\(event)+waba_info") }
            b.accountLines.insert(line)
        default:
            note("unknown-field:" + field)
            b.unknownFieldLines.insert(line)
            for c in jsonItems(value["contacts"]) {
                user(&b, waId: Self.text(c["wa_id"]), userId: Self.text(c["user_id"]), chat: false)
            }
            for p in jsonItems(value["user_preferences"]) {
                user(&b, waId: Self.text(p["wa_id"]), userId: Self.text(p["user_id"]), chat: false)
            }
        }
    }

    mutating func scanMessage(_ m: JSONValue, echo: Bool, field: String, business b: inout BusinessFacts,
                              index: Int, night: Int) {
        guard let id = Self.text(m["id"]), let type = m["type"]?.string else {
            problems.append("line \(index + 1): message without id or type")
            return
        }
        if !id.hasPrefix("wamid.") || id.count < 46 || id.count > 66 { problems.append("odd wamid \(id)") }
        if let t = m["timestamp"] { note(t.kind == .string ? "timestamp:string" : "timestamp:int") }
        let ts = Self.timestamp(m["timestamp"]) ?? 0
        if ts < 1_735_689_600 || ts >= 1_798_761_600 { problems.append("timestamp \(ts) outside 2025-2026") }
        let isChange = type == "edit" || type == "revoke"
        let waId = echo ? Self.text(m["to"]) : Self.text(m["from"])
        let userId = echo ? Self.text(m["to_user_id"]) : Self.text(m["from_user_id"])
        user(&b, waId: waId, userId: userId, chat: !isChange)
        if echo && m["from"] == nil { problems.append("echo without from") }
        let origin = field == "history" ? "history-asset" : (echo ? "echo" : "msg")
        note("\(origin):\(type)")
        if m["context"]?["id"] != nil { note("msg:reply-context") }
        if m["context"]?["forwarded"] != nil || m["context"]?["frequently_forwarded"] != nil { note("msg:forwarded") }
        if m["referral"] != nil { note("msg:referral") }
        if waId == nil && userId != nil { note(echo ? "echo:to-bsuid-only" : "msg:from-bsuid-only") }
        if let id = waId.map({ "w:" + $0 }) ?? userId.map({ "u:" + $0 }) {
            b.presentations.append((id, waId == nil ? "bsuid" : (userId == nil ? "phone" : "pair"), night))
        }
        if isChange {
            let original = Self.text(m[type == "edit" ? "edit" : "revoke"]?["original_message_id"]) ?? "?"
            if type == "edit" {
                b.edits.insert(id)
                b.editedOriginals.insert(original)
                editsByOriginal[original, default: []].append((index, ts, night))
            } else {
                b.revokes.insert(id)
                b.revokedOriginals.insert(original)
            }
            return
        }
        b.messageWamids.insert(id)
        if field == "history" { b.assets.insert(id) }
        if type == "unsupported" { b.unsupported.insert(id) } else { b.realDeliveries.insert(id) }
        if firstMessageLine[id] == nil { firstMessageLine[id] = index }
        messageNights[id, default: []].insert(night)
    }

    mutating func scanHistory(_ h: JSONValue, phoneId: String, business b: inout BusinessFacts, index: Int) {
        if let errors = h["errors"] {
            for e in errors.elements where e["code"]?.int64 == 2_593_109 { b.declined = true; note("history:declined") }
            return
        }
        guard let meta = h["metadata"], let phase = meta["phase"]?.int64, let chunk = meta["chunk_order"]?.int64,
              let progress = meta["progress"]?.int64
        else { problems.append("line \(index + 1): history chunk without metadata"); return }
        note("history:phase\(phase)")
        if progress == 100 { note("history:progress100") }
        let key = "\(phoneId)/\(phase)/\(chunk)"
        if !b.chunks.contains(key) {
            // First arrivals only: a redelivered chunk is not an out-of-order one.
            progressByPhone[phoneId, default: []].append((Int(phase), Int(chunk), Int(progress)))
            chunkArrivals["\(phoneId)/\(phase)", default: []].append(Int(chunk))
        }
        b.chunks.insert(key)
        for thread in jsonItems(h["threads"]) {
            let context = thread["context"]
            user(&b, waId: Self.text(thread["id"]) ?? Self.text(context?["wa_id"]),
                 userId: Self.text(context?["user_id"]), chat: true)
            var previous: Int64 = 0
            for m in jsonItems(thread["messages"]) {
                guard let id = Self.text(m["id"]), let type = m["type"]?.string else {
                    problems.append("line \(index + 1): history message without id")
                    continue
                }
                let ts = Self.timestamp(m["timestamp"]) ?? 0
                if ts < previous { problems.append("history thread out of chat order") }
                if ts == previous { note("history:shared-second") }
                previous = ts
                if m["history_context"]?["status"] == nil { problems.append("history message without status") }
                note("history:" + type)
                b.messageWamids.insert(id)
                if type == "media_placeholder" { b.placeholders.insert(id) } else { b.realDeliveries.insert(id) }
                if firstMessageLine[id] == nil { firstMessageLine[id] = index }
            }
        }
    }
}

/// The elements of an array, or none when the member is missing.
fileprivate func jsonItems(_ v: JSONValue?) -> [JSONValue] { v.map { Array($0.elements) } ?? [] }

@Suite struct CaptureGeneratorTests {
    @Test func sameSeedGivesIdenticalBytes() {
        let options = CaptureOptions(seed: 42, businesses: 3, messagesPerBusiness: 200, nights: 2)
        let a = GeneratedCapture(options), b = GeneratedCapture(options)
        #expect(a.lines.count > 100)
        #expect(a.lines == b.lines)
        #expect(a.nights == b.nights)
        #expect(a.truth == b.truth)
    }

    @Test func differentSeedGivesDifferentCapture() {
        let a = GeneratedCapture(CaptureOptions(seed: 1, businesses: 2, messagesPerBusiness: 100))
        let b = GeneratedCapture(CaptureOptions(seed: 2, businesses: 2, messagesPerBusiness: 100))
        #expect(a.lines != b.lines)
        #expect(Set(a.lines).isDisjoint(with: Set(b.lines)))
    }

    @Test func knownWamidShape() {
        // The same byte layout as Meta's documented example ids.
        let w = Wamid(phone: 16_503_879_439, id: 0, variant: 0, outbound: false)
        #expect(w.text.hasPrefix("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQ"))
        #expect(w.text.count == 62)
    }

    @Test func everyLineIsAWebhookBody() {
        #expect(moderateFacts.problems.isEmpty, "\(moderateFacts.problems.prefix(5))")
        #expect(moderate.lines.allSatisfy { !$0.contains(0x0A) && !$0.isEmpty })
        #expect(moderate.truth.lines == moderate.lines.count)
        #expect(moderate.truth.bytes == moderate.lines.reduce(0) { $0 + $1.count + 1 })
    }

    @Test func nightsKeepEveryLineExactlyOnce() {
        let capture = moderate
        #expect(capture.nights.allSatisfy { (1...3).contains($0) })
        #expect(capture.truth.linesPerNight.count == 3)
        for n in 1...3 {
            #expect(capture.nights.filter { $0 == n }.count == capture.truth.linesPerNight[n - 1])
            #expect(capture.truth.linesPerNight[n - 1] > 0)
        }
        #expect(capture.truth.linesPerNight.reduce(0, +) == capture.lines.count)
        // Lines are emitted in delivery order: nights never go back.
        #expect(zip(capture.nights, capture.nights.dropFirst()).allSatisfy { $0 <= $1 })

        // Later nights hold redeliveries of earlier nights and late originals.
        var nightsOfLine: [[UInt8]: Set<Int>] = [:]
        for (night, line) in zip(capture.nights, capture.lines) { nightsOfLine[line, default: []].insert(night) }
        #expect(nightsOfLine.values.contains { $0.count > 1 }, "no redelivery crosses a night")
        let lateOriginal = moderateFacts.editsByOriginal.contains { original, edits in
            guard let nights = moderateFacts.messageNights[original] else { return false }
            return edits.contains { $0.night < nights.min()! }
        }
        #expect(lateOriginal, "no edit arrives a night before its original")
        // Users switch from phone (earlier night) to BSUID only (later night); pairs join them.
        var switchedAcrossNights = 0
        for var b in moderateFacts.businesses.values {
            var byRoot: [String: (phoneNights: Set<Int>, bsuidNights: Set<Int>)] = [:]
            for p in b.presentations {
                let root = b.identities.find(p.id)
                var e = byRoot[root] ?? ([], [])
                if p.kind == "phone" { e.phoneNights.insert(p.night) }
                if p.kind == "bsuid" { e.bsuidNights.insert(p.night) }
                byRoot[root] = e
            }
            switchedAcrossNights += byRoot.values.filter { e in
                guard let first = e.phoneNights.min(), let last = e.bsuidNights.max() else { return false }
                return first < last
            }.count
        }
        #expect(switchedAcrossNights > 0)
        #expect(moderate.truth.businesses.contains { $0.switchedUsers > 0 })
        // A business onboarding on a later night has its history there.
        #expect(moderate.truth.businesses.contains { $0.onboardingNight > 1 })
    }

    @Test func everyKindOccurs() {
        let expected = [
            "history:phase2", "history:phase1", "history:phase0", "history:progress100", "history:declined",
            "history:media_placeholder", "history:shared-second", "history:text", "history-asset:image",
            "msg:text", "msg:image", "msg:video", "msg:document", "msg:audio", "msg:sticker", "msg:location",
            "msg:reaction", "msg:interactive", "msg:button", "msg:contacts", "msg:order", "msg:unsupported",
            "msg:poll", "msg:edit", "msg:revoke", "msg:reply-context", "msg:forwarded", "msg:referral",
            "echo:text", "echo:image", "echo:edit", "echo:revoke",
            "status:sent", "status:delivered", "status:read", "status:failed",
            "sync:add", "sync:remove", "account:PARTNER_REMOVED+waba_info", "account:PARTNER_REMOVED",
            "account:ACCOUNT_OFFBOARDED", "account:ACCOUNT_RECONNECTED", "account:PARTNER_ADDED",
            "batched:entries", "batched:changes", "batched:messages", "redelivery",
            "unknown-field:user_preferences", "messages:errors-only",
            "timestamp:string", "timestamp:int", "entry.time:int", "entry.time:string",
            "identity:pair", "identity:bsuid-only", "msg:from-bsuid-only", "echo:to-bsuid-only",
        ]
        let missing = expected.filter { !moderateFacts.features.contains($0) }
        #expect(missing.isEmpty, "missing kinds: \(missing)")

        let facts = moderateFacts
        // An unsupported (131060) delivery and the real message of the same wamid.
        let resolved = facts.businesses.values.contains { !$0.unsupported.intersection($0.realDeliveries).isEmpty }
        #expect(resolved)
        // Some edit arrives before its original; several edits of one message arrive out of order.
        let editFirst = facts.editsByOriginal.contains { original, edits in
            edits.contains { $0.line < (facts.firstMessageLine[original] ?? .max) }
        }
        #expect(editFirst)
        let shuffledEdits = facts.editsByOriginal.values.contains { edits in
            edits.count >= 2 && zip(edits, edits.dropFirst()).contains { $0.ts > $1.ts }
        }
        #expect(shuffledEdits)
        // History chunks arrive out of order.
        #expect(facts.chunkArrivals.values.contains { zip($0, $0.dropFirst()).contains { $0 > $1 } })
        // Statuses of API-sent messages have no message.
        #expect(facts.businesses.values.contains { !$0.statusWamids.subtracting($0.messageWamids).isEmpty })
    }

    @Test func historyProgressIncreasesToHundred() {
        for (phone, chunks) in moderateFacts.progressByPhone {
            let ordered = chunks.sorted { ($0.phase, $1.chunk) > ($1.phase, $0.chunk) }
            let progress = ordered.map(\.progress)
            #expect(zip(progress, progress.dropFirst()).allSatisfy { $0 <= $1 }, "\(phone): \(progress)")
            #expect(progress.last == 100, "\(phone)")
            for phase in [2, 1, 0] {
                let orders = chunks.filter { $0.phase == phase }.map(\.chunk).sorted()
                #expect(orders == Array(1...max(1, orders.count)), "\(phone) phase \(phase) has gaps: \(orders)")
            }
        }
    }

    @Test func groundTruthMatchesTheLines() {
        Self.checkTruth(moderate, moderateFacts)
        let truth = moderate.truth
        #expect(truth.businesses.contains { $0.historyDeclined })
        #expect(truth.businesses.contains { $0.bsuidOnlyUsers > 0 })
        #expect(Set(truth.businesses.map(\.connection)) == ["connected", "partner_removed", "offboarded", "reconnected"])
    }

    @Test(arguments: [
        CaptureOptions(seed: 1, businesses: 3, messagesPerBusiness: 250),
        CaptureOptions(seed: 77, businesses: 7, usersPerBusiness: 3, messagesPerBusiness: 120, nights: 5, bsuidShare: 0.5),
        CaptureOptions(seed: 31_337, businesses: 2, messagesPerBusiness: 400, redeliveryRate: 0.2, nights: 2, shuffle: false),
    ])
    func groundTruthMatchesTheLinesForOtherOptions(_ options: CaptureOptions) {
        let capture = GeneratedCapture(options)
        let facts = CaptureFacts(capture)
        #expect(facts.problems.isEmpty, "\(facts.problems.prefix(5))")
        Self.checkTruth(capture, facts)
    }

    fileprivate static func checkTruth(_ capture: GeneratedCapture, _ facts: CaptureFacts) {
        var facts = facts
        let truth = capture.truth
        #expect(Set(facts.businesses.keys).isSuperset(of: truth.businesses.map(\.wabaId)))
        let distinct = Set(capture.lines).count
        #expect(capture.lines.count - distinct == truth.redeliveredLines)
        for t in truth.businesses {
            guard var b = facts.businesses[t.wabaId] else { Issue.record("no lines for \(t.wabaId)"); continue }
            let name = t.wabaId
            #expect(b.messageWamids.count == t.messages, "\(name) messages")
            #expect(b.edits.count == t.edits, "\(name) edits")
            #expect(b.editedOriginals.count == t.editedMessages, "\(name) edited")
            #expect(b.revokes.count == t.revokes, "\(name) revokes")
            #expect(b.revokedOriginals.count == t.revokedMessages, "\(name) revoked")
            #expect(b.editedOriginals.isSubset(of: b.messageWamids), "\(name) edit of nothing")
            #expect(b.revokedOriginals.isSubset(of: b.messageWamids), "\(name) revoke of nothing")
            #expect(b.statusPairs.count == t.statuses, "\(name) statuses")
            #expect(b.failedStatuses.count == t.failedStatuses, "\(name) failed")
            #expect(b.statusWamids.subtracting(b.messageWamids).count == t.apiSentWamids, "\(name) API-sent")
            #expect(b.placeholders.count == t.placeholders, "\(name) placeholders")
            #expect(b.placeholders.intersection(b.assets).count == t.placeholdersResolved, "\(name) resolved")
            #expect(b.unsupported.intersection(b.realDeliveries).count == t.unsupportedThenReal, "\(name) 131060")
            #expect(b.unsupported.isSubset(of: b.realDeliveries), "\(name) unsupported never resolved")
            #expect(b.chunks.count == t.historyChunks, "\(name) chunks")
            #expect(b.declined == t.historyDeclined, "\(name) declined")
            #expect(b.accountLines.count == t.accountEvents, "\(name) account events")
            #expect(b.unknownFieldLines.count == t.unknownFieldBodies, "\(name) unknown fields")

            // Users: one per identity component (pairs seen together join phone and BSUID).
            var chatRoots = Set<String>(), knownRoots = Set<String>(), rootsWithPhone = Set<String>()
            for id in b.knownIdentities {
                let root = b.identities.find(id)
                knownRoots.insert(root)
                if id.hasPrefix("w:") { rootsWithPhone.insert(root) }
            }
            for id in b.chatIdentities { chatRoots.insert(b.identities.find(id)) }
            #expect(chatRoots.count == t.chatUsers, "\(name) chat users")
            #expect(knownRoots.count == t.knownUsers, "\(name) known users")
            #expect(knownRoots.subtracting(rootsWithPhone).count == t.bsuidOnlyUsers, "\(name) BSUID-only users")
            // A user never has two phone numbers or two BSUIDs.
            var idsPerRoot: [String: (w: Int, u: Int)] = [:]
            for id in b.knownIdentities {
                let root = b.identities.find(id)
                var c = idsPerRoot[root] ?? (0, 0)
                if id.hasPrefix("w:") { c.w += 1 } else { c.u += 1 }
                idsPerRoot[root] = c
            }
            #expect(idsPerRoot.values.allSatisfy { $0.w <= 1 && $0.u <= 1 }, "\(name) merged two users")

            // Contact list: latest timestamp wins, remove wins ties.
            var state: [String: (ts: Int64, inList: Bool)] = [:]
            for (id, ts, remove) in b.contactActions {
                let root = b.identities.find(id)
                let current = state[root] ?? (-1, false)
                if ts > current.ts || (ts == current.ts && remove) { state[root] = (ts, !remove) }
            }
            #expect(state.values.filter(\.inList).count == t.contactsInList, "\(name) contact list")
            facts.businesses[t.wabaId] = b
        }
    }

    @Test func noShuffleDeliversInEventOrder() {
        let capture = GeneratedCapture(CaptureOptions(seed: 5, businesses: 2, messagesPerBusiness: 300, shuffle: false))
        let facts = CaptureFacts(capture)
        #expect(facts.problems.isEmpty)
        // Edits never come before their original, chunks arrive in order.
        let editFirst = facts.editsByOriginal.contains { original, edits in
            edits.contains { $0.line < (facts.firstMessageLine[original] ?? .max) }
        }
        #expect(!editFirst)
        #expect(facts.chunkArrivals.values.allSatisfy { zip($0, $0.dropFirst()).allSatisfy { $0 <= $1 } })
    }

    @Test func noBsuidsWhenShareIsZero() {
        let capture = GeneratedCapture(CaptureOptions(seed: 9, businesses: 2, messagesPerBusiness: 200, bsuidShare: 0))
        #expect(!capture.lines.contains { line in
            line.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }.contains("user_id")
        })
        #expect(capture.truth.businesses.allSatisfy { $0.bsuidOnlyUsers == 0 && $0.switchedUsers == 0 })
    }

    @Test func noRedeliveriesWhenRateIsZero() {
        let capture = GeneratedCapture(CaptureOptions(seed: 9, businesses: 2, messagesPerBusiness: 200, redeliveryRate: 0))
        #expect(Set(capture.lines).count == capture.lines.count)
        #expect(capture.truth.redeliveredLines == 0)
    }

    @Test func targetSizeIsReached() {
        let options = CaptureOptions(seed: 3, businesses: 3, targetBytes: 3_000_000)
        let truth = CaptureGenerator(options).truth()
        #expect(truth.bytes >= 3_000_000)
        #expect(truth.bytes < 3_600_000)
    }

    @Test func parsesByteSizes() {
        #expect(CaptureOptions.parseByteSize("200MB") == 200_000_000)
        #expect(CaptureOptions.parseByteSize("1GB") == 1_000_000_000)
        #expect(CaptureOptions.parseByteSize("1.5g") == 1_500_000_000)
        #expect(CaptureOptions.parseByteSize("64MiB") == 67_108_864)
        #expect(CaptureOptions.parseByteSize("512k") == 512_000)
        #expect(CaptureOptions.parseByteSize("12345") == 12_345)
        #expect(CaptureOptions.parseByteSize("12XB") == nil)
        #expect(CaptureOptions.parseByteSize("") == nil)
        #expect(CaptureOptions.parseByteSize("MB") == nil)
    }
}

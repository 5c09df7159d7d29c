import CoexJSON

// The agenda of events to generate, and the ground truth kept while generating.
extension BusinessStream {
    // MARK: - Agenda

    func entryTime(_ ms: Int64) -> EntryTime {
        let r = rng.below(10)
        return r < 6 ? .int(ms / 1000) : (r < 8 ? .string(ms / 1000) : .none)
    }

    func accountBody(_ ms: Int64, entryId: [UInt8]? = nil, entryFirst: Bool = false,
                             _ fill: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 512)
        openBody(&w, entryFirst: entryFirst)
        openEntry(&w, id: entryId, time: entryTime(ms))
        openValue(&w, phone: nil)
        fill(&w)
        closeValue(&w, field: "account_update")
        closeEntry(&w)
        closeBody(&w, entryFirst: entryFirst)
        deliver(w.bytes, at: ms + deliveryDelay())
        truth.accountEvents += 1
    }

    func writeWabaInfo(_ w: inout JSONWriter) {
        w.key("waba_info"); w.beginObject()
        w.key("waba_id"); w.str(wabaId)
        w.key("owner_business_id"); w.str(ownerBusinessId)
        w.endObject()
    }

    func runAgenda(_ item: AgendaItem) {
        let ms = item.ms
        switch item.event {
        case .onboarding:
            // The business's contact list, in batches of up to 40 per phone number.
            var t = ms + rng.int64(5 * secondMs...30 * secondMs)
            for p in 0..<phones.count {
                var batch: [(user: Int, remove: Bool)] = []
                for u in 0..<users.count where users[u].phone == p && (!users[u].chatty || rng.chance(0.6)) {
                    batch.append((u, false))
                    if batch.count == 40 {
                        stateSync(at: ms, actions: batch, key: t + (shuffle ? Int64(rng.below(3_000)) : 0))
                        batch.removeAll()
                        t += Int64(rng.int(200...900))
                    }
                }
                if !batch.isEmpty { stateSync(at: ms, actions: batch, key: t) }
            }
        case .declined(let phone):
            truth.historyDeclined = true
            let bytes = body("history", phone: phone) { w in
                w.key("history"); w.beginArray(); w.beginObject()
                w.key("errors"); w.beginArray(); w.beginObject()
                w.key("code"); w.int(2_593_109)
                w.key("title"); w.str("History sync is turned off by the business from the WhatsApp Business App")
                w.key("message"); w.str("History sync is turned off by the business from the WhatsApp Business App")
                w.key("error_data"); w.beginObject()
                w.key("details"); w.str("History sharing is turned off by the business")
                w.endObject()
                w.endObject(); w.endArray()
                w.endObject(); w.endArray()
            }
            deliver(bytes, at: ms + deliveryDelay())
        case .partnerAdded:
            accountBody(ms) { w in
                w.key("event"); w.str("PARTNER_ADDED")
                writeWabaInfo(&w)
            }
        case .partnerRemovedFull:
            // waba_info names the business; entry.id is another id.
            accountBody(ms, entryId: partnerEntryId) { w in
                w.key("event"); w.str("PARTNER_REMOVED")
                writeWabaInfo(&w)
                w.key("disconnection_info"); w.beginObject()
                if rng.chance(0.5) {
                    w.key("reason"); w.str("PRIMARY_INACTIVITY"); w.key("initiated_by"); w.str("SYSTEM")
                } else {
                    w.key("reason"); w.str("USER_INITIATED"); w.key("initiated_by"); w.str("USER")
                }
                w.endObject()
            }
            truth.connection = "partner_removed"
        case .partnerRemovedBasic:
            accountBody(ms) { w in
                w.key("phone_number"); w.str(phones[0].display)
                w.key("event"); w.str("PARTNER_REMOVED")
            }
            truth.connection = "partner_removed"
        case .reconnected:
            accountBody(ms, entryFirst: true) { w in w.key("event"); w.str("ACCOUNT_RECONNECTED") }
            truth.connection = "reconnected"
        case .offboarded:
            accountBody(ms, entryFirst: true) { w in w.key("event"); w.str("ACCOUNT_OFFBOARDED") }
            truth.connection = "offboarded"
        case .switchUser(let u):
            // The record that shows phone and BSUID together, before the user hides the phone.
            var m = makeMsg(u, .text, at: ms, fromBusiness: false)
            m.ts = ms / 1000
            emit(m, echo: false, at: ms, FollowUps(), forced: .pair)
        }
    }

    // MARK: - Truth

    func finishTruth() -> BusinessTruth {
        var t = truth
        t.chatUsers = 0; t.knownUsers = 0; t.bsuidOnlyUsers = 0; t.switchedUsers = 0; t.contactsInList = 0
        for u in users {
            if u.hasMessage { t.chatUsers += 1 }
            if u.appeared { t.knownUsers += 1 }
            if u.appeared && !u.phoneShown { t.bsuidOnlyUsers += 1 }
            if u.phoneOnlyShown && u.bsuidOnlyShown { t.switchedUsers += 1 }
            if u.inList { t.contactsInList += 1 }
        }
        return t
    }
}

import CoexJSON

// Live traffic: inbound messages, echoes, contacts, account events.
extension BusinessStream {
    // MARK: - Live traffic

    func pickKind() -> LiveKind {
        let x = rng.below(kindTotal)
        for (kind, upTo) in kindTable where x < upTo { return kind }
        return .inboundText
    }

    func liveStep() {
        let ms = liveNextMs
        let kind: LiveKind
        if !mustHave.isEmpty && liveSteps % 2 == 0 { kind = mustHave.removeFirst() } else { kind = pickKind() }
        perform(kind, at: ms)
        liveSteps += 1
        liveNextMs += Int64(rng.below(Int(min(Int64(Int32.max), 2 * meanGapMs)) + 1))
        let reached: Bool
        if let target = byteTarget { reached = truth.bytes >= target } else { reached = liveMessages >= liveBudget }
        if (reached && mustHave.isEmpty) || liveSteps > 50 * liveBudget + 10_000 {
            liveDone = true
            if profile == 4 { insertAgenda(liveNextMs + minuteMs, .offboarded) }
            if profile == 5 { insertAgenda(liveNextMs + minuteMs, .partnerRemovedBasic) }
        }
    }

    func randomMedia() -> MType {
        let r = rng.below(100)
        return r < 55 ? .image : r < 67 ? .video : r < 82 ? .audio : r < 92 ? .document : .sticker
    }

    func perform(_ kind: LiveKind, at ms: Int64) {
        switch kind {
        case .inboundText, .redelivery:
            let u = pickUser()
            if kind == .redelivery { forceRedelivery = true }
            emit(makeMsg(u, .text, at: ms, fromBusiness: false), echo: false, at: ms, randomFollowUps(echo: false))
        case .inboundMedia:
            let u = pickUser()
            emit(makeMsg(u, kind == .inboundMedia ? randomMedia() : .image, at: ms, fromBusiness: false), echo: false, at: ms,
                 randomFollowUps(echo: false))
        case .video, .audio, .document, .sticker:
            let type: MType = kind == .video ? .video : kind == .audio ? .audio : kind == .document ? .document : .sticker
            emit(makeMsg(pickUser(), type, at: ms, fromBusiness: false), echo: false, at: ms, FollowUps())
        case .location, .contactsMessage, .order, .unknownType, .reaction:
            let type: MType = kind == .location ? .location : kind == .contactsMessage ? .contacts
                : kind == .order ? .order : kind == .unknownType ? .unknown : .reaction
            emit(makeMsg(pickUser(), type, at: ms, fromBusiness: false), echo: false, at: ms, FollowUps())
        case .interactive, .button:
            // The business sends an interactive message through the API; the user answers it.
            let u = pickUser()
            let apiWamid = apiSend(u, at: ms, failed: false)
            let replyMs = ms + rng.int64(20 * secondMs...3 * minuteMs)
            var m = makeMsg(u, kind == .interactive ? .interactive : .button, at: replyMs, fromBusiness: false)
            m.context = apiWamid
            emit(m, echo: false, at: replyMs, FollowUps())
        case .replyText:
            let u = pickUser()
            var m = makeMsg(u, .text, at: ms, fromBusiness: false)
            if let last = users[u].lastWamid {
                m.context = last
                m.contextFromBusiness = users[u].lastFromBusiness
            }
            emit(m, echo: false, at: ms, FollowUps())
        case .forwarded:
            var m = makeMsg(pickUser(), rng.chance(0.6) ? .text : .image, at: ms, fromBusiness: false)
            m.forwarded = true
            emit(m, echo: false, at: ms, FollowUps())
        case .referral:
            var m = makeMsg(pickUser(), .text, at: ms, fromBusiness: false)
            m.referral = true
            emit(m, echo: false, at: ms, FollowUps())
        case .inboundBurst, .echoBurst:
            let echo = kind == .echoBurst
            let u = pickUser()
            let n = rng.int(2...4)
            var msgs: [Msg] = []
            for _ in 0..<n { msgs.append(makeMsg(u, rng.chance(0.8) ? .text : .image, at: ms, fromBusiness: echo)) }
            let p = presentation(u, ms)
            see(u, p, message: true)
            if rng.chance(0.5) || mustHaveBatched(kind) {
                // Several messages of one second in one body.
                deliver(messagesBody(msgs, at: ms, echo: echo), at: ms + deliveryDelay())
            } else {
                for m in msgs { deliver(messagesBody([m], at: ms, echo: echo), at: ms + deliveryDelay()) }
            }
            for m in msgs { countMessage(m, echo: echo) }
        case .echoText:
            emit(makeMsg(pickUser(), .text, at: ms, fromBusiness: true), echo: true, at: ms, randomFollowUps(echo: true))
        case .echoMedia:
            emit(makeMsg(pickUser(), randomMedia(), at: ms, fromBusiness: true), echo: true, at: ms, randomFollowUps(echo: true))
        case .apiSend:
            apiSend(pickUser(), at: ms, failed: rng.chance(0.05))
        case .apiFailed:
            apiSend(pickUser(), at: ms, failed: true)
        case .unsupportedThenReal:
            var f = FollowUps()
            f.unsupportedFirst = true
            var m = makeMsg(pickUser(), rng.chance(0.6) ? .text : randomMedia(), at: ms, fromBusiness: false)
            m.referral = rng.chance(0.3)
            emit(m, echo: false, at: ms, f)
        case .editedManyEditsFirst:
            var f = FollowUps()
            f.edits = 3
            f.editsFirst = true
            emit(makeMsg(pickUser(), .text, at: ms, fromBusiness: false), echo: false, at: ms, f)
        case .revoked:
            var f = FollowUps()
            f.revoke = true
            emit(makeMsg(pickUser(), .image, at: ms, fromBusiness: false), echo: false, at: ms, f)
        case .echoEdited:
            var f = FollowUps()
            f.edits = 2
            f.statuses = true
            emit(makeMsg(pickUser(), .text, at: ms, fromBusiness: true), echo: true, at: ms, f)
        case .echoRevoked:
            var f = FollowUps()
            f.revoke = true
            emit(makeMsg(pickUser(), .text, at: ms, fromBusiness: true), echo: true, at: ms, f)
        case .lateOriginal:
            var f = FollowUps()
            f.edits = 1
            f.late = true
            emit(makeMsg(pickUser(), .text, at: ms, fromBusiness: false), echo: false, at: ms, f)
        case .stateSyncAdd:
            stateSync(at: ms, actions: (0..<rng.int(1...3)).map { _ in (rng.below(users.count), false) })
        case .stateSyncRemove:
            let listed = (0..<8).map { _ in rng.below(users.count) }.filter { users[$0].inList }
            let u = listed.first ?? rng.below(users.count)
            stateSync(at: ms, actions: [(u, true)])
        case .stateSyncTie:
            // Add and remove of one contact in the same second: remove wins.
            let u = rng.below(users.count)
            stateSync(at: ms, actions: [(u, false), (u, true)])
        case .unknownField:
            unknownFieldBody(at: ms)
        case .errorsOnly:
            errorsOnlyBody(at: ms)
        case .batchedMixed:
            batchedMixed(at: ms)
        case .multiEntry:
            multiEntry(at: ms)
        case .multiUser:
            let p0 = users[pickUser()].phone
            let a = pickUser(phone: p0)
            var b = pickUser(phone: p0)
            if b == a && usersByPhone[p0].count > 1 { b = usersByPhone[p0].first { $0 != a }! }
            let msgs = [makeMsg(a, .text, at: ms, fromBusiness: false), makeMsg(b, .text, at: ms, fromBusiness: false)]
            see(a, presentation(a, ms), message: true)
            see(b, presentation(b, ms), message: true)
            deliver(messagesBody(msgs, at: ms, echo: false), at: ms + deliveryDelay())
            for m in msgs { countMessage(m, echo: false) }
        }
    }

    /// Early bursts are always batched, so that even a small capture has a batched body.
    func mustHaveBatched(_ kind: LiveKind) -> Bool { liveSteps < 80 }

    func batchedMixed(at ms: Int64) {
        // One entry, three changes: a user's message, the business's echo, an API message's status.
        let u = pickUser()
        let v = pickUser(phone: users[u].phone)
        let inbound = makeMsg(u, .text, at: ms, fromBusiness: false)
        var echo = makeMsg(u, .text, at: ms + secondMs, fromBusiness: true)
        echo.ts = inbound.ts + 1
        let apiWamid = newWamid(phone: phones[users[v].phone].displayNumber, outbound: true)
        truth.apiSentWamids += 1
        users[v].lastApiWamid = apiWamid
        see(u, presentation(u, ms), message: true)
        let phone = users[u].phone
        var w = JSONWriter(capacity: 2048)
        openBody(&w)
        openEntry(&w)
        openValue(&w, phone: phone)
        writeMessagesValue(&w, [inbound], at: ms, echo: false, intTs: false)
        closeValue(&w, field: "messages")
        openValue(&w, phone: phone)
        writeMessagesValue(&w, [echo], at: ms, echo: true, intTs: false)
        closeValue(&w, field: "smb_message_echoes")
        openValue(&w, phone: phone)
        w.key("statuses"); w.beginArray()
        writeStatus(&w, v, apiWamid, "sent", at: ms, api: true, failed: false)
        w.endArray()
        closeValue(&w, field: "messages")
        closeEntry(&w)
        closeBody(&w)
        deliver(w.bytes, at: ms + deliveryDelay())
        countMessage(inbound, echo: false)
        countMessage(echo, echo: true)
        statusLine(v, apiWamid, "delivered", at: ms + rng.int64(2 * secondMs...20 * secondMs), api: true)
    }

    func multiEntry(at ms: Int64) {
        // Two entries of the same business in one body (one per phone number when it has two).
        let a = pickUser(phone: 0)
        let b = pickUser(phone: phones.count > 1 && !usersByPhone[1].isEmpty ? 1 : 0)
        let ma = makeMsg(a, .text, at: ms, fromBusiness: false)
        let mb = makeMsg(b, rng.chance(0.5) ? .text : .image, at: ms, fromBusiness: false)
        see(a, presentation(a, ms), message: true)
        see(b, presentation(b, ms), message: true)
        var w = JSONWriter(capacity: 2048)
        openBody(&w)
        for m in [ma, mb] {
            openEntry(&w)
            openValue(&w, phone: users[m.user].phone)
            writeMessagesValue(&w, [m], at: ms, echo: false, intTs: false)
            closeValue(&w, field: "messages")
            closeEntry(&w)
        }
        closeBody(&w)
        deliver(w.bytes, at: ms + deliveryDelay())
        countMessage(ma, echo: false)
        countMessage(mb, echo: false)
    }

    func applyContact(_ u: Int, ts: Int64, remove: Bool) {
        if ts > users[u].contactTs || (ts == users[u].contactTs && remove) {
            users[u].contactTs = ts
            users[u].inList = !remove
        }
    }

    /// One smb_app_state_sync body per phone number touched, with one item per action.
    func stateSync(at ms: Int64, actions: [(user: Int, remove: Bool)], key: Int64? = nil) {
        let ts = ms / 1000
        let phone = users[actions[0].user].phone
        let bytes = body("smb_app_state_sync", phone: phone, capacity: 256 + 160 * actions.count) { w in
            w.key("state_sync"); w.beginArray()
            for (u, remove) in actions {
                let p = presentation(u, ms)
                see(u, p, message: false)
                w.beginObject()
                w.key("type"); w.str("contact")
                w.key("contact"); w.beginObject()
                if !remove {
                    w.key("full_name"); w.str(users[u].fullName)
                    w.key("first_name"); w.str(users[u].firstName)
                }
                writeUserSide(&w, u, p, idKey: "phone_number", userKey: "user_id")
                w.endObject()
                w.key("action"); w.str(remove ? "remove" : "add")
                w.key("metadata"); w.beginObject(); w.key("timestamp"); w.digits(UInt64(ts)); w.endObject()
                w.endObject()
                applyContact(u, ts: ts, remove: remove)
            }
            w.endArray()
        }
        deliver(bytes, at: key ?? (ms + deliveryDelay()))
    }

    func unknownFieldBody(at ms: Int64) {
        let u = pickUser()
        let p = presentation(u, ms)
        see(u, p, message: false)
        truth.unknownFieldBodies += 1
        let bytes = body("user_preferences", phone: users[u].phone) { w in
            w.key("contacts"); w.beginArray(); writeContactItem(&w, u, p); w.endArray()
            w.key("user_preferences"); w.beginArray(); w.beginObject()
            writeUserSide(&w, u, p, idKey: "wa_id", userKey: "user_id")
            let stop = rng.chance(0.7)
            w.key("detail"); w.string(Vocabulary.unknownFieldDetails[stop ? 0 : 1])
            w.key("category"); w.str("marketing_messages")
            w.key("value"); w.str(stop ? "stop" : "resume")
            w.key("timestamp"); w.int(ms / 1000)
            w.endObject(); w.endArray()
        }
        deliver(bytes, at: ms + deliveryDelay())
    }

    func errorsOnlyBody(at ms: Int64) {
        // A `messages` value with only a webhook-level error (no message, no user).
        var w = JSONWriter(capacity: 512)
        openBody(&w)
        openEntry(&w, time: .int(ms / 1000))
        openValue(&w, phone: rng.below(phones.count))
        do {
            w.key("errors"); w.beginArray(); w.beginObject()
            w.key("code"); w.int(131_000)
            w.key("title"); w.str("Something went wrong")
            w.key("message"); w.str("Something went wrong")
            w.key("error_data"); w.beginObject(); w.key("details"); w.str("Unknown error. Please retry later."); w.endObject()
            w.endObject(); w.endArray()
        }
        closeValue(&w, field: "messages")
        closeEntry(&w)
        closeBody(&w)
        deliver(w.bytes, at: ms + deliveryDelay())
    }
}

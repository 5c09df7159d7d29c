import CoexJSON

// Messages with what follows them (edits, revokes, resolved placeholders), and their statuses.
extension BusinessStream {
    // MARK: - Messages with their follow-ups

    struct FollowUps {
        var edits = 0
        var editsFirst = false
        var revoke = false
        var late = false
        var unsupportedFirst = false
        var statuses = false
    }

    func pickUser(phone: Int? = nil) -> Int {
        if let phone, !usersByPhone[phone].isEmpty {
            let list = usersByPhone[phone]
            return list[rng.below(list.count)]
        }
        if rng.chance(0.5) { return rng.below(chattyCount) }
        let x = rng.unit()
        return min(chattyCount - 1, Int(Double(chattyCount) * x * x))
    }

    func makeMsg(_ u: Int, _ type: MType, at ms: Int64, fromBusiness: Bool) -> Msg {
        let wamid = fromBusiness
            ? newWamid(phone: phones[users[u].phone].displayNumber, outbound: true)
            : newWamid(phone: users[u].phoneNumber, outbound: false)
        var m = Msg(wamid: wamid, type: type, seed: rng.next(), ts: ms / 1000, user: u, fromBusiness: fromBusiness)
        if type == .reaction { m.reactTo = users[u].lastWamid }
        return m
    }

    func randomFollowUps(echo: Bool) -> FollowUps {
        var f = FollowUps()
        if rng.chance(echo ? 0.02 : 0.03) { f.edits = rng.chance(0.7) ? 1 : rng.int(2...3) }
        if rng.chance(echo ? 0.01 : 0.012) { f.revoke = true }
        if echo && rng.chance(0.5) { f.statuses = true }
        if shuffle && f.edits > 0 && rng.chance(0.25) { f.editsFirst = true }
        return f
    }

    func countMessage(_ m: Msg, echo: Bool) {
        truth.messages += 1
        if echo { truth.echoMessages += 1 } else { truth.liveMessages += 1 }
        if m.type == .unknown { truth.unknownTypeMessages += 1 }
        liveMessages += 1
        users[m.user].lastWamid = m.wamid
        users[m.user].lastFromBusiness = echo
    }

    /// Emits one live message (inbound or echo) in its own body, with its edits, revoke,
    /// statuses and placeholder as asked.
    func emit(_ m: Msg, echo: Bool, at ms: Int64, _ f: FollowUps, forced: Presentation? = nil) {
        let p = forced ?? presentation(m.user, ms)
        see(m.user, p, message: true)
        var origKey = ms + deliveryDelay()
        if f.late && shuffle { origKey = ms + rng.int64(12 * hourMs...30 * hourMs) }

        var lastChangeMs = ms
        if f.edits > 0 {
            var times: [Int64] = []
            var t = ms
            for _ in 0..<f.edits { t += rng.int64(10 * secondMs...4 * minuteMs); times.append(t) }
            var keys = times.map { $0 + deliveryDelay() }
            if shuffle && f.edits >= 2 {
                // Several edits of one message arrive out of order.
                let latest = times.last!
                let order: [Int] = rng.chance(0.5)
                    ? Array((0..<f.edits).reversed()) : Array(1..<f.edits) + [0]
                for (slot, i) in order.enumerated() { keys[i] = latest + Int64(slot) * 700 + Int64(rng.below(500)) }
            }
            for i in 0..<f.edits {
                let changeWamid = echo
                    ? newWamid(phone: phones[users[m.user].phone].displayNumber, outbound: true)
                    : newWamid(phone: users[m.user].phoneNumber, outbound: false)
                let ep = presentation(m.user, times[i])
                see(m.user, ep, message: false)
                let newSeed = rng.next()
                let intTs = rng.chance(0.03)
                let bytes = editOrRevokeBody(kind: "edit", m, changeWamid, ts: times[i] / 1000, newSeed: newSeed, p: ep, intTs: intTs)
                deliver(bytes, at: keys[i])
                truth.edits += 1
            }
            truth.editedMessages += 1
            lastChangeMs = times.last!
            if f.editsFirst && shuffle { origKey = max(origKey, keys.max()! + rng.int64(secondMs...5 * secondMs)) }
        }
        if f.revoke {
            let t = lastChangeMs + rng.int64(5 * secondMs...hourMs)
            let changeWamid = echo
                ? newWamid(phone: phones[users[m.user].phone].displayNumber, outbound: true)
                : newWamid(phone: users[m.user].phoneNumber, outbound: false)
            let rp = presentation(m.user, t)
            see(m.user, rp, message: false)
            let bytes = editOrRevokeBody(kind: "revoke", m, changeWamid, ts: t / 1000, newSeed: 0, p: rp, intTs: false)
            deliver(bytes, at: t + deliveryDelay())
            truth.revokes += 1
            truth.revokedMessages += 1
        }
        if f.unsupportedFirst {
            var u = m
            u.type = .unsupported
            u.referral = false
            let uKey = ms + deliveryDelay()
            deliver(messagesBody([u], at: ms, echo: echo, presentation: forced), at: uKey)
            // The real content follows a few seconds later (or, out of order, just before).
            origKey = shuffle && rng.chance(0.25)
                ? max(ms, uKey - rng.int64(200...1_500)) : uKey + rng.int64(2 * secondMs...20 * secondMs)
            truth.unsupportedThenReal += 1
        }
        deliver(messagesBody([m], at: ms, echo: echo, presentation: forced), at: origKey)
        if f.statuses {
            var t = ms + rng.int64(secondMs...20 * secondMs)
            statusLine(m.user, m.wamid, "delivered", at: t, api: false)
            if rng.chance(0.7) {
                t += rng.int64(30 * secondMs...2 * hourMs)
                statusLine(m.user, m.wamid, "read", at: t, api: false)
            }
        }
        countMessage(m, echo: echo)
    }

    func editOrRevokeBody(kind: StaticString, _ m: Msg, _ changeWamid: Wamid, ts: Int64, newSeed: UInt64,
                                  p: Presentation, intTs: Bool) -> [UInt8] {
        body(m.fromBusiness ? "smb_message_echoes" : "messages", phone: users[m.user].phone) { w in
            if m.fromBusiness {
                w.key("message_echoes"); w.beginArray()
            } else {
                w.key("contacts"); w.beginArray(); writeContactItem(&w, m.user, p); w.endArray()
                w.key("messages"); w.beginArray()
            }
            writeChange(&w, kind: kind, edited: m, changeWamid: changeWamid, ts: ts, newSeed: newSeed, p: p, intTs: intTs)
            w.endArray()
        }
    }

    // MARK: - Statuses

    func writeStatus(_ w: inout JSONWriter, _ u: Int, _ wamid: Wamid, _ status: StaticString,
                             at ms: Int64, api: Bool, failed: Bool) {
        let p = presentation(u, ms)
        see(u, p, message: false)
        w.beginObject()
        w.key("id"); w.wamid(wamid)
        w.key("status"); w.str(status)
        w.key("timestamp"); w.timestamp(ms / 1000, asInt: false)
        writeUserSide(&w, u, p, idKey: "recipient_id", userKey: "recipient_user_id")
        if api && !failed && status.utf8CodeUnitCount != 4 {  // not "read"
            var r = Xoshiro256(seed: wamid.id)
            w.key("conversation"); w.beginObject()
            w.key("id"); w.hex(&r, count: 32)
            w.key("origin"); w.beginObject(); w.key("type"); w.str(r.chance(0.7) ? "service" : "utility"); w.endObject()
            w.endObject()
            w.key("pricing"); w.beginObject()
            w.key("billable"); w.bool(true)
            w.key("pricing_model"); w.str("PMP")
            w.key("category"); w.str("utility")
            w.key("type"); w.str("regular")
            w.endObject()
        }
        if failed {
            w.key("errors"); w.beginArray(); w.beginObject()
            w.key("code"); w.int(131_047)
            w.key("title"); w.str("Re-engagement message")
            w.key("message"); w.str("Re-engagement message")
            w.key("error_data"); w.beginObject()
            w.key("details"); w.str("Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
            w.endObject()
            w.key("href"); w.str("https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/")
            w.endObject(); w.endArray()
        }
        w.endObject()
        truth.statuses += 1
        if failed { truth.failedStatuses += 1 }
    }

    func statusLine(_ u: Int, _ wamid: Wamid, _ status: StaticString, at ms: Int64, api: Bool, failed: Bool = false) {
        let bytes = body("messages", phone: users[u].phone) { w in
            w.key("statuses"); w.beginArray()
            writeStatus(&w, u, wamid, status, at: ms, api: api, failed: failed)
            w.endArray()
        }
        deliver(bytes, at: ms + deliveryDelay())
    }

    /// A message sent through the API: statuses only, never a message.
    /// With `inlineSent`, the caller writes the "sent" status into its own body.
    @discardableResult
    func apiSend(_ u: Int, at ms: Int64, failed: Bool, skipSent: Bool = false) -> Wamid {
        let wamid = newWamid(phone: phones[users[u].phone].displayNumber, outbound: true)
        truth.apiSentWamids += 1
        users[u].lastApiWamid = wamid
        if !skipSent { statusLine(u, wamid, "sent", at: ms + secondMs, api: true) }
        if failed {
            statusLine(u, wamid, "failed", at: ms + rng.int64(2 * secondMs...60 * secondMs), api: true, failed: true)
        } else {
            var t = ms + rng.int64(2 * secondMs...20 * secondMs)
            statusLine(u, wamid, "delivered", at: t, api: true)
            if rng.chance(0.7) {
                t += rng.int64(30 * secondMs...2 * hourMs)
                statusLine(u, wamid, "read", at: t, api: true)
            }
        }
        return wamid
    }
}

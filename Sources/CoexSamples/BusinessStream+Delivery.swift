import CoexJSON

// What the business's lines carry around their content: delivery order, identities, envelopes.
extension BusinessStream {
    // MARK: - Delivery

    func deliveryDelay() -> Int64 {
        guard shuffle else { return 0 }
        let r = rng.unit()
        if r < 0.965 { return Int64(rng.below(2_500)) }
        if r < 0.997 { return rng.int64(5 * secondMs...10 * minuteMs) }
        return rng.int64(12 * hourMs...30 * hourMs)
    }

    func redeliveryDelay() -> Int64 {
        let r = rng.unit()
        if r < 0.6 { return rng.int64(secondMs...60 * secondMs) }
        if r < 0.9 { return rng.int64(minuteMs...30 * minuteMs) }
        return rng.int64(6 * hourMs...30 * hourMs)
    }

    /// Queues a line for delivery at `key` (and maybe once more later, byte for byte).
    func deliver(_ bytes: [UInt8], at key: Int64) {
        seq += 1
        heap.push(Pending(key: key, seq: seq, bytes: bytes))
        truth.lines += 1
        truth.bytes += bytes.count + 1
        if options.redeliveryRate > 0 && (forceRedelivery || rng.chance(options.redeliveryRate)) {
            forceRedelivery = false
            seq += 1
            heap.push(Pending(key: key + redeliveryDelay(), seq: seq, bytes: bytes))
            truth.lines += 1
            truth.bytes += bytes.count + 1
            truth.redeliveredLines += 1
        }
    }

    func newWamid(phone: UInt64, outbound: Bool) -> Wamid {
        wamidCounter += 1
        let id = SplitMix64.mix((UInt64(index) << 36 | wamidCounter) ^ salt)
        let r = rng.below(10)
        return Wamid(phone: phone, id: id, variant: r < 7 ? 0 : (r < 9 ? 1 : 2), outbound: outbound)
    }

    // MARK: - Identity

    func presentation(_ u: Int, _ ms: Int64) -> Presentation {
        switch users[u].mode {
        case .phone: .phone
        case .pair: .pair
        case .bsuidOnly: .bsuid
        case .switcher: ms < users[u].switchMs ? .phone : .bsuid
        }
    }

    func see(_ u: Int, _ p: Presentation, message: Bool) {
        users[u].appeared = true
        if message { users[u].hasMessage = true }
        switch p {
        case .phone: users[u].phoneShown = true; users[u].phoneOnlyShown = true
        case .pair: users[u].phoneShown = true
        case .bsuid: users[u].bsuidOnlyShown = true
        }
    }

    /// `"<idKey>": wa_id` and/or `"<userKey>": user_id` as the presentation allows.
    func writeUserSide(_ w: inout JSONWriter, _ u: Int, _ p: Presentation,
                               idKey: StaticString, userKey: StaticString) {
        switch p {
        case .phone:
            w.key(idKey); w.str(users[u].waId)
        case .pair:
            w.key(idKey); w.str(users[u].waId)
            w.key(userKey); w.str(users[u].userId)
        case .bsuid:
            if users[u].emptyPhoneAsEmptyString { w.key(idKey); w.str("") }
            w.key(userKey); w.str(users[u].userId)
        }
    }

    func writeContactItem(_ w: inout JSONWriter, _ u: Int, _ p: Presentation) {
        w.beginObject()
        w.key("profile"); w.beginObject()
        w.key("name"); w.str(users[u].profileName)
        if p != .phone && !users[u].username.isEmpty { w.key("username"); w.str(users[u].username) }
        w.endObject()
        writeUserSide(&w, u, p, idKey: "wa_id", userKey: "user_id")
        w.endObject()
    }

    // MARK: - Envelope

    enum EntryTime { case none, int(Int64), string(Int64) }

    func openBody(_ w: inout JSONWriter, entryFirst: Bool = false) {
        w.beginObject()
        if !entryFirst { w.key("object"); w.str("whatsapp_business_account") }
        w.key("entry"); w.beginArray()
    }

    func closeBody(_ w: inout JSONWriter, entryFirst: Bool = false) {
        w.endArray()
        if entryFirst { w.key("object"); w.str("whatsapp_business_account") }
        w.endObject()
    }

    func openEntry(_ w: inout JSONWriter, id: [UInt8]? = nil, time: EntryTime = .none) {
        w.beginObject()
        w.key("id"); w.str(id ?? wabaId)
        switch time {
        case .none: break
        case .int(let t): w.key("time"); w.int(t)
        case .string(let t): w.key("time"); w.digits(UInt64(t))
        }
        w.key("changes"); w.beginArray()
    }

    func closeEntry(_ w: inout JSONWriter) {
        w.endArray()
        w.endObject()
    }

    func openValue(_ w: inout JSONWriter, phone: Int?) {
        w.beginObject()
        w.key("value"); w.beginObject()
        if let phone {
            w.key("messaging_product"); w.str("whatsapp")
            w.key("metadata"); w.beginObject()
            w.key("display_phone_number"); w.str(phones[phone].display)
            w.key("phone_number_id"); w.str(phones[phone].id)
            w.endObject()
        }
    }

    func closeValue(_ w: inout JSONWriter, field: StaticString) {
        w.endObject()
        w.key("field"); w.str(field)
        w.endObject()
    }

    /// One body with one entry and one change.
    func body(_ field: StaticString, phone: Int?, capacity: Int = 768,
                      _ fill: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter(capacity: capacity)
        openBody(&w)
        openEntry(&w)
        openValue(&w, phone: phone)
        fill(&w)
        closeValue(&w, field: field)
        closeEntry(&w)
        closeBody(&w)
        return w.bytes
    }
}

import CoexJSON

// History sync: phases and chunks, declined history.
extension BusinessStream {
    // MARK: - History

    func startPhase(_ c: inout HistoryCursor) {
        c.phaseIndex += 1
        c.chunkInPhase = 0
        c.order = c.users
        for i in stride(from: c.order.count - 1, to: 0, by: -1) { c.order.swapAt(i, rng.below(i + 1)) }
        let budget = c.budgets[c.phaseIndex]
        c.perUser = Array(repeating: 0, count: c.order.count)
        var left = budget
        for i in 0..<c.order.count {
            let usersLeft = c.order.count - i
            if usersLeft == 1 { c.perUser[i] = left; break }
            let mean = Double(left) / Double(usersLeft)
            let k = min(left, Int(rng.unit() * 2 * mean + 0.5))
            c.perUser[i] = k
            left -= k
        }
        c.userCursor = -1
        c.threadLeft = 0
    }

    /// Seconds range of a history phase: 2 = days 180-90 before onboarding, 1 = days 90-1, 0 = the last day.
    func phaseRange(_ phase: Int) -> (Int64, Int64) {
        let t0 = t0Ms / 1000
        switch phase {
        case 2: return (t0 - 180 * 86_400, t0 - 90 * 86_400)
        case 1: return (t0 - 90 * 86_400, t0 - 86_400)
        default: return (t0 - 86_400, t0 - 120)
        }
    }

    func historyChunk(_ ci: Int) {
        var c = history[ci]
        if c.phaseIndex < 0 || c.chunkInPhase == c.chunksPerPhase[c.phaseIndex] { startPhase(&c) }
        let phase = HistoryCursor.phases[c.phaseIndex]
        let budget = c.budgets[c.phaseIndex]
        let chunks = c.chunksPerPhase[c.phaseIndex]
        let k = c.chunkInPhase
        var count = chunkSize(budget: budget, chunks: chunks, k: k, big: profile == 3 && phase == 1)
        c.chunkInPhase += 1
        c.chunksDone += 1
        let progress = c.chunksDone == c.totalChunks ? 100 : c.chunksDone * 100 / c.totalChunks
        let ms = c.nextMs
        let (start, end) = phaseRange(phase)
        let phone = c.phone

        var w = JSONWriter(capacity: 1024 + count * 330)
        var assets: [Msg] = []
        var overlaps: [Msg] = []
        openBody(&w)
        openEntry(&w)
        openValue(&w, phone: phone)
        w.key("history"); w.beginArray(); w.beginObject()
        w.key("metadata"); w.beginObject()
        w.key("phase"); w.int(phase)
        w.key("chunk_order"); w.int(k + 1)
        w.key("progress"); w.int(progress)
        w.endObject()
        w.key("threads"); w.beginArray()
        truth.historyMessages += count
        truth.messages += count
        while count > 0 {
            if c.threadLeft == 0 {
                repeat { c.userCursor += 1 } while c.perUser[c.userCursor] == 0
                c.threadLeft = c.perUser[c.userCursor]
                let span = max(1, (end - start) * 8 / 10)
                c.threadTs = start + rng.int64(0...span)
                c.threadMeanGap = max(1, (end - c.threadTs) / Int64(c.threadLeft + 1))
            }
            let u = c.order[c.userCursor]
            let p = presentation(u, ms)
            see(u, p, message: true)
            let n = min(count, c.threadLeft)
            w.beginObject()
            switch p {
            case .phone:
                w.key("id"); w.str(users[u].waId)
            case .pair:
                w.key("id"); w.str(users[u].waId)
                w.key("context"); w.beginObject()
                w.key("wa_id"); w.str(users[u].waId)
                w.key("user_id"); w.str(users[u].userId)
                w.endObject()
            case .bsuid:
                if users[u].emptyPhoneAsEmptyString { w.key("id"); w.str("") }
                w.key("context"); w.beginObject()
                w.key("user_id"); w.str(users[u].userId)
                if !users[u].username.isEmpty { w.key("username"); w.str(users[u].username) }
                w.endObject()
            }
            w.key("messages"); w.beginArray()
            for _ in 0..<n {
                // Several messages often share a second.
                if !rng.chance(0.25) { c.threadTs = min(end, c.threadTs + rng.int64(1...(2 * c.threadMeanGap))) }
                let business = rng.chance(0.45)
                let r = rng.below(1000)
                let type: MType = r < 760 ? .text : r < 820 ? .image : r < 840 ? .video : r < 870 ? .audio
                    : r < 885 ? .document : r < 905 ? .sticker : r < 915 ? .location : r < 920 ? .contacts : .placeholder
                var m = makeMsg(u, type, at: ms, fromBusiness: business)
                m.ts = c.threadTs
                if type == .placeholder {
                    m.realType = randomMedia()
                    truth.placeholders += 1
                    if rng.chance(0.85) { assets.append(m) }
                }
                writeHistoryMessage(&w, m, p)
                if phase == 0 && type != .placeholder && rng.chance(0.02) { overlaps.append(m) }
            }
            w.endArray()
            w.endObject()
            c.threadLeft -= n
            count -= n
        }
        w.endArray()
        w.endObject(); w.endArray()
        closeValue(&w, field: "history")
        closeEntry(&w)
        closeBody(&w)
        truth.historyChunks += 1
        deliver(w.bytes, at: ms + (shuffle ? Int64(rng.below(6_000)) : 0))

        // Media of placeholders arrive later as `history` webhooks with messages / message_echoes.
        for m in assets {
            var a = m
            a.type = m.realType
            if rng.chance(0.3) { a.ts = ms / 1000 - rng.int64(0...3_600) }
            let t = ms + rng.int64(5 * secondMs...15 * minuteMs)
            let ap = presentation(m.user, t)
            see(m.user, ap, message: false)
            let bytes = body("history", phone: phone) { w in
                writeMessagesValue(&w, [a], at: t, echo: m.fromBusiness, intTs: false, forced: ap)
            }
            deliver(bytes, at: t + deliveryDelay())
            truth.placeholdersResolved += 1
        }
        // A few messages of the last day were also delivered live (or as echoes).
        for m in overlaps {
            let t = ms + rng.int64(minuteMs...30 * minuteMs)
            see(m.user, presentation(m.user, t), message: true)
            deliver(messagesBody([m], at: t, echo: m.fromBusiness), at: t + deliveryDelay())
            truth.historyAlsoLive += 1
        }

        c.nextMs += rng.int64(400...2_500)
        if c.chunksDone == c.totalChunks { c.done = true }
        history[ci] = c
    }

    /// Messages in chunk `k` of a phase: an even split, except that with `big` the first chunk
    /// holds 30% of the phase (a long line, as real history chunks can be several MB).
    func chunkSize(budget: Int, chunks: Int, k: Int, big: Bool) -> Int {
        if big && chunks >= 2 {
            let first = budget * 3 / 10
            if k == 0 { return first }
            let rest = budget - first
            return rest / (chunks - 1) + (k - 1 < rest % (chunks - 1) ? 1 : 0)
        }
        return budget / chunks + (k < budget % chunks ? 1 : 0)
    }

    func writeHistoryMessage(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation) {
        w.beginObject()
        if m.fromBusiness {
            w.key("from"); w.str(phones[users[m.user].phone].display)
            writeUserSide(&w, m.user, p, idKey: "to", userKey: "to_user_id")
        } else {
            writeUserSide(&w, m.user, p, idKey: "from", userKey: "from_user_id")
        }
        w.key("id"); w.wamid(m.wamid)
        w.key("timestamp"); w.digits(UInt64(m.ts))
        writeContent(&w, m)
        w.key("history_context"); w.beginObject()
        w.key("status")
        let r = rng.below(100)
        if m.fromBusiness {
            w.str(r < 50 ? "READ" : r < 80 ? "DELIVERED" : r < 90 ? (m.type == .audio ? "PLAYED" : "SENT") : r < 96 ? "ERROR" : "PENDING")
        } else {
            w.str(r < 85 ? "READ" : (m.type == .audio || m.type == .placeholder ? "PLAYED" : "DELIVERED"))
        }
        w.endObject()
        w.endObject()
    }
}

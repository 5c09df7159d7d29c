import CoexJSON

/// Generates the traffic of one business, in delivery order, one line at a time.
/// Memory stays bounded: only lines whose delivery time has not come yet are held.
final class BusinessStream {
    let index: Int
    let options: CaptureOptions
    var rng: Xoshiro256
    let salt: UInt64
    let shuffle: Bool

    var wabaId: [UInt8] = []
    var ownerBusinessId: [UInt8] = []
    var partnerEntryId: [UInt8] = []
    var phones: [Phone] = []
    var users: [User] = []
    var chattyCount = 0
    var usersByPhone: [[Int]] = []

    let baseMs: Int64
    var t0Ms: Int64 = 0
    var endMs: Int64 = 0
    let profile: Int
    var declined = false

    var heap = PendingHeap()
    var seq: UInt64 = 0
    var truth = BusinessTruth()
    var wamidCounter: UInt64 = 0
    var forceRedelivery = false

    var agenda: [AgendaItem] = []
    var agendaIndex = 0
    var agendaSeq = 0
    var history: [HistoryCursor] = []

    var liveNextMs: Int64 = 0
    var liveDone = false
    var liveBudget = 0
    var liveMessages = 0
    var liveSteps = 0
    var meanGapMs: Int64 = 1
    var byteTarget: Int? = nil
    var mustHave: [LiveKind] = []
    var kindTable: [(LiveKind, Int)] = []
    var kindTotal = 0

    var scratch: [UInt8] = []

    /// Bytes per message of a typical capture (lines / distinct messages), used to turn a byte
    /// target into a message count. Measured on generated captures; only a starting estimate:
    /// in size mode each business generates until its share of bytes is reached.
    static let estimatedBytesPerMessage = 640

    init(index: Int, options: CaptureOptions, baseMs: Int64) {
        self.index = index
        self.options = options
        self.rng = Xoshiro256(seed: options.seed, stream: UInt64(index) &+ 1)
        self.salt = SplitMix64.mix(options.seed ^ 0xC0E7_5A11_D00D_F00D)
        self.shuffle = options.shuffle
        self.baseMs = baseMs
        self.profile = index % 6
        setUp()
    }

    // MARK: - Set-up

    private func setUp() {
        let nights = options.nights
        let businessMix = SplitMix64.mix(salt ^ UInt64(index))
        wabaId = digitBytes(102_000_000_000_000 + (businessMix % 10_000_000) * 1_000_000 + UInt64(index))
        ownerBusinessId = digitBytes(1_000_000_000_000_000 + SplitMix64.mix(businessMix) % 9_000_000_000_000_000)
        partnerEntryId = digitBytes(108_000_000_000_000 + (SplitMix64.mix(businessMix ^ 7) % 10_000_000) * 1_000_000 + UInt64(index))
        truth.wabaId = String(decoding: wabaId, as: UTF8.self)

        let phoneCount = rng.chance(0.3) ? 2 : 1
        for k in 0..<phoneCount {
            let slot = UInt64(index * 2 + k)
            let display = 15_550_000_000 + (slot &* 7_919 &+ (salt % 10_000_000)) % 10_000_000
            let id = 106_000_000_000_000 + (SplitMix64.mix(businessMix ^ UInt64(k + 11)) % 10_000_000) * 1_000_000 + slot
            phones.append(Phone(id: digitBytes(id), display: digitBytes(display), displayNumber: display))
            truth.phoneNumberIds.append(String(decoding: digitBytes(id), as: UTF8.self))
            truth.displayPhoneNumbers.append(String(decoding: digitBytes(display), as: UTF8.self))
        }

        // Onboarding night: most businesses onboard on night 1, every fourth one later.
        var onboardingNight = 1
        if nights > 1 && index % 4 == 3 { onboardingNight = rng.int(2...nights) }
        truth.onboardingNight = onboardingNight
        t0Ms = baseMs + Int64(onboardingNight - 1) * dayMs + rng.int64(10 * minuteMs...4 * hourMs)
        endMs = baseMs + Int64(nights) * dayMs - 15 * minuteMs
        declined = profile == 1

        // Messages and users.
        let messages: Int
        if let target = options.targetBytes {
            let share = max(1, (target + options.businesses - 1) / options.businesses)
            byteTarget = share
            messages = max(40, share / Self.estimatedBytesPerMessage)
        } else {
            messages = options.messagesPerBusiness
        }
        let chatty = options.usersPerBusiness > 0
            ? options.usersPerBusiness : min(20_000, max(8, messages / 25))
        let contactOnly = max(2, chatty / 5)
        makeUsers(chatty: chatty, contactOnly: contactOnly)

        let historyBudget = declined ? 0 : Int(Double(messages) * 0.4)
        liveBudget = max(1, messages - historyBudget)
        let liveStart = t0Ms + 2 * minuteMs
        liveNextMs = liveStart
        meanGapMs = max(1, (endMs - liveStart) / Int64(liveBudget))

        // History per phone, shared by the number of users of each phone.
        if !declined {
            var shares = usersByPhone.map { historyBudget * $0.count / max(1, chattyCount) }
            let busiest = shares.indices.max { usersByPhone[$0].count < usersByPhone[$1].count }!
            shares[busiest] += historyBudget - shares.reduce(0, +)
            for p in 0..<phones.count {
                let share = shares[p]
                let budgets = [share * 35 / 100, share - share * 35 / 100 - share * 15 / 100, share * 15 / 100]
                let chunks = budgets.map { b in max(1, min(b, max(3, b / 60))) }
                history.append(HistoryCursor(
                    phone: p, users: usersByPhone[p], budgets: budgets, chunksPerPhase: chunks,
                    totalChunks: chunks.reduce(0, +), nextMs: t0Ms + rng.int64(20 * secondMs...90 * secondMs)))
            }
        }

        // Agenda: onboarding, account events, declined history, BSUID switches.
        addAgenda(t0Ms, .onboarding)
        if profile == 0 { addAgenda(t0Ms - rng.int64(30 * secondMs...5 * minuteMs), .partnerAdded) }
        if declined {
            for p in 0..<phones.count { addAgenda(t0Ms + rng.int64(20 * secondMs...90 * secondMs), .declined(phone: p)) }
        }
        if profile == 2 {
            let span = endMs - liveStart
            addAgenda(liveStart + span / 2, .partnerRemovedFull)
            addAgenda(liveStart + span / 2 + span / 20, .reconnected)
        }
        for u in 0..<users.count where users[u].mode == .switcher {
            addAgenda(users[u].switchMs - rng.int64(minuteMs...90 * minuteMs), .switchUser(u))
        }
        agenda.sort { $0.ms < $1.ms || ($0.ms == $1.ms && $0.seq < $1.seq) }

        // Live kinds: every kind once per business (early on), then weighted at random.
        mustHave = [.inboundText, .inboundMedia, .video, .audio, .document, .sticker, .location,
                    .contactsMessage, .interactive, .button, .reaction, .order, .unknownType,
                    .unsupportedThenReal, .echoText, .echoMedia, .apiSend, .apiFailed, .editedManyEditsFirst,
                    .revoked, .echoEdited, .echoRevoked, .stateSyncAdd, .stateSyncRemove, .stateSyncTie,
                    .unknownField, .errorsOnly, .batchedMixed, .multiEntry, .multiUser, .inboundBurst,
                    .echoBurst, .replyText, .forwarded, .referral]
        if options.redeliveryRate > 0 { mustHave.insert(.redelivery, at: 1) }
        if options.nights > 1 && shuffle { mustHave.append(.lateOriginal) }
        for kind in LiveKind.allCases where kind.weight > 0 {
            kindTotal += kind.weight
            kindTable.append((kind, kindTotal))
        }
    }

    private func makeUsers(chatty: Int, contactOnly: Int) {
        let total = chatty + contactOnly
        let prefixes: [UInt64] = [1_650_555, 1_212_555, 1_415_555, 1_310_555, 1_312_555,
                                  1_617_555, 1_206_555, 1_512_555, 1_305_555, 1_702_555]
        let offset = UInt64(rng.below(10_000))
        let share = options.bsuidShare
        usersByPhone = Array(repeating: [], count: phones.count)
        let firstNight = truth.onboardingNight
        for j in 0..<total {
            let prefix = prefixes[(j / 10_000) % prefixes.count]
            let number = prefix * 10_000 + (UInt64(j % 10_000) &* 7_919 &+ offset) % 10_000
            let first = Vocabulary.firstNames[rng.below(Vocabulary.firstNames.count)]
            let last = Vocabulary.lastNames[rng.below(Vocabulary.lastNames.count)]
            let isChatty = j < chatty
            var mode = IdentityMode.phone
            if share > 0 {
                let r = rng.unit()
                if isChatty && r < share { mode = .switcher }
                else if isChatty && r < share + 0.02 { mode = .bsuidOnly }
                else if r < share + 0.27 { mode = .pair }
            }
            var userId = Array("US.".utf8)
            userId.append(contentsOf: digitBytes(SplitMix64.mix(salt ^ UInt64(index) << 20 ^ UInt64(j)) % 10_000_000_000_000, width: 13))
            userId.append(contentsOf: digitBytes(UInt64(j), width: 6))
            var username: [UInt8] = []
            if mode == .bsuidOnly || mode == .switcher || (mode == .pair && rng.chance(0.3)) {
                username = Array(first.lowercased().utf8.filter { $0 >= 0x61 && $0 <= 0x7A })
                if username.isEmpty { username = Array("wa".utf8) }
                username.append(UInt8(ascii: "."))
                username.append(contentsOf: digitBytes(UInt64(rng.int(10...999))))
            }
            let profileName: String
            switch rng.below(4) {
            case 0: profileName = first
            case 1: profileName = first + " " + String(last.prefix(1)) + "."
            default: profileName = first + " " + last + Vocabulary.profileSuffixes[rng.below(Vocabulary.profileSuffixes.count)]
            }
            let phone = rng.below(phones.count)
            var user = User(
                phoneNumber: number, waId: digitBytes(number), userId: userId, username: username,
                profileName: Array(profileName.utf8), fullName: Array((first + " " + last).utf8),
                firstName: Array(first.utf8), phone: phone, mode: mode,
                emptyPhoneAsEmptyString: rng.chance(0.5), chatty: isChatty)
            if mode == .switcher {
                let nights = options.nights
                if nights > firstNight {
                    // Known by phone up to night s, by BSUID only from night s + 1 on.
                    let s = rng.int(firstNight...(nights - 1))
                    user.switchMs = baseMs + Int64(s) * dayMs
                } else {
                    let span = endMs - t0Ms
                    user.switchMs = t0Ms + span * 3 / 10 + Int64(rng.unit() * Double(span) * 0.4)
                }
            }
            users.append(user)
            if isChatty { usersByPhone[phone].append(j) }
        }
        chattyCount = chatty
        // A phone number without any chat user still gets one, so every phone has traffic.
        for p in 0..<phones.count where usersByPhone[p].isEmpty {
            let u = p % chatty
            usersByPhone[users[u].phone].removeAll { $0 == u }
            users[u].phone = p
            usersByPhone[p].append(u)
        }
    }

    private func addAgenda(_ ms: Int64, _ event: AgendaEvent) {
        agenda.append(AgendaItem(ms: ms, seq: agendaSeq, event: event))
        agendaSeq += 1
    }

    /// Adds an event after set-up, keeping the agenda sorted.
    private func insertAgenda(_ ms: Int64, _ event: AgendaEvent) {
        let item = AgendaItem(ms: ms, seq: agendaSeq, event: event)
        agendaSeq += 1
        var i = agenda.count
        while i > agendaIndex && (agenda[i - 1].ms > ms) { i -= 1 }
        agenda.insert(item, at: i)
    }

    // MARK: - Driving

    /// The earliest time of any event not generated yet.
    private var horizon: Int64 {
        var h = Int64.max
        if agendaIndex < agenda.count { h = agenda[agendaIndex].ms }
        for c in history where !c.done && c.nextMs < h { h = c.nextMs }
        if !liveDone && liveNextMs < h { h = liveNextMs }
        return h
    }

    /// The next line in delivery order, or nil when the business is done.
    func next() -> Pending? {
        while true {
            let h = horizon
            if let k = heap.minKey, k <= h { return heap.pop() }
            if h == .max { return nil }
            generate(before: h)
        }
    }

    private func generate(before h: Int64) {
        if agendaIndex < agenda.count && agenda[agendaIndex].ms == h {
            let item = agenda[agendaIndex]
            agendaIndex += 1
            runAgenda(item)
            return
        }
        for i in history.indices where !history[i].done && history[i].nextMs == h {
            historyChunk(i)
            return
        }
        liveStep()
    }

    // MARK: - Delivery

    private func deliveryDelay() -> Int64 {
        guard shuffle else { return 0 }
        let r = rng.unit()
        if r < 0.965 { return Int64(rng.below(2_500)) }
        if r < 0.997 { return rng.int64(5 * secondMs...10 * minuteMs) }
        return rng.int64(12 * hourMs...30 * hourMs)
    }

    private func redeliveryDelay() -> Int64 {
        let r = rng.unit()
        if r < 0.6 { return rng.int64(secondMs...60 * secondMs) }
        if r < 0.9 { return rng.int64(minuteMs...30 * minuteMs) }
        return rng.int64(6 * hourMs...30 * hourMs)
    }

    /// Queues a line for delivery at `key` (and maybe once more later, byte for byte).
    private func deliver(_ bytes: [UInt8], at key: Int64) {
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

    private func newWamid(phone: UInt64, outbound: Bool) -> Wamid {
        wamidCounter += 1
        let id = SplitMix64.mix((UInt64(index) << 36 | wamidCounter) ^ salt)
        let r = rng.below(10)
        return Wamid(phone: phone, id: id, variant: r < 7 ? 0 : (r < 9 ? 1 : 2), outbound: outbound)
    }

    // MARK: - Identity

    private func presentation(_ u: Int, _ ms: Int64) -> Presentation {
        switch users[u].mode {
        case .phone: .phone
        case .pair: .pair
        case .bsuidOnly: .bsuid
        case .switcher: ms < users[u].switchMs ? .phone : .bsuid
        }
    }

    private func see(_ u: Int, _ p: Presentation, message: Bool) {
        users[u].appeared = true
        if message { users[u].hasMessage = true }
        switch p {
        case .phone: users[u].phoneShown = true; users[u].phoneOnlyShown = true
        case .pair: users[u].phoneShown = true
        case .bsuid: users[u].bsuidOnlyShown = true
        }
    }

    /// `"<idKey>": wa_id` and/or `"<userKey>": user_id` as the presentation allows.
    private func writeUserSide(_ w: inout JSONWriter, _ u: Int, _ p: Presentation,
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

    private func writeContactItem(_ w: inout JSONWriter, _ u: Int, _ p: Presentation) {
        w.beginObject()
        w.key("profile"); w.beginObject()
        w.key("name"); w.str(users[u].profileName)
        if p != .phone && !users[u].username.isEmpty { w.key("username"); w.str(users[u].username) }
        w.endObject()
        writeUserSide(&w, u, p, idKey: "wa_id", userKey: "user_id")
        w.endObject()
    }

    // MARK: - Envelope

    private enum EntryTime { case none, int(Int64), string(Int64) }

    private func openBody(_ w: inout JSONWriter, entryFirst: Bool = false) {
        w.beginObject()
        if !entryFirst { w.key("object"); w.str("whatsapp_business_account") }
        w.key("entry"); w.beginArray()
    }

    private func closeBody(_ w: inout JSONWriter, entryFirst: Bool = false) {
        w.endArray()
        if entryFirst { w.key("object"); w.str("whatsapp_business_account") }
        w.endObject()
    }

    private func openEntry(_ w: inout JSONWriter, id: [UInt8]? = nil, time: EntryTime = .none) {
        w.beginObject()
        w.key("id"); w.str(id ?? wabaId)
        switch time {
        case .none: break
        case .int(let t): w.key("time"); w.int(t)
        case .string(let t): w.key("time"); w.digits(UInt64(t))
        }
        w.key("changes"); w.beginArray()
    }

    private func closeEntry(_ w: inout JSONWriter) {
        w.endArray()
        w.endObject()
    }

    private func openValue(_ w: inout JSONWriter, phone: Int?) {
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

    private func closeValue(_ w: inout JSONWriter, field: StaticString) {
        w.endObject()
        w.key("field"); w.str(field)
        w.endObject()
    }

    /// One body with one entry and one change.
    private func body(_ field: StaticString, phone: Int?, capacity: Int = 768,
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

    // MARK: - Content

    private func phrase(_ rng: inout Xoshiro256, business: Bool) -> String {
        let list = business ? Vocabulary.businessPhrases : Vocabulary.userPhrases
        return list[rng.below(list.count)]
    }

    private func writeText(_ w: inout JSONWriter, _ rng: inout Xoshiro256, business: Bool) {
        scratch.removeAll(keepingCapacity: true)
        let long = rng.chance(0.02)
        let count = long ? rng.int(12...40) : (rng.chance(0.75) ? 1 : rng.int(2...3))
        for i in 0..<count {
            if i > 0 { scratch.append(long && rng.chance(0.2) ? 0x0A : 0x20) }
            scratch.append(contentsOf: phrase(&rng, business: business).utf8)
        }
        scratch.withUnsafeBytes { w.string($0) }
    }

    private func writeMediaObject(_ w: inout JSONWriter, _ type: MType, _ rng: inout Xoshiro256, business: Bool) {
        w.beginObject()
        switch type {
        case .image, .video, .document:
            if rng.chance(0.5) {
                w.key("caption"); w.string(Vocabulary.captions[rng.below(Vocabulary.captions.count)])
            }
            if type == .document {
                w.key("filename"); w.string(Vocabulary.fileNames[rng.below(Vocabulary.fileNames.count)])
            }
            w.key("mime_type")
            switch type {
            case .image: w.str(rng.chance(0.8) ? "image/jpeg" : "image/png")
            case .video: w.str("video/mp4")
            default: w.str("application/pdf")
            }
        case .audio:
            w.key("mime_type"); w.str("audio/ogg; codecs=opus")
        default:
            w.key("mime_type"); w.str("image/webp")
        }
        w.key("sha256"); w.hex(&rng, count: 64)
        w.key("id"); w.digits(1_000_000_000_000_000 + rng.below64(8_999_999_999_999_999))
        if rng.chance(0.2) {
            w.key("url")
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=".utf8)
            scratch.append(contentsOf: digitBytes(rng.below64(1_000_000_000_000_000)))
            scratch.withUnsafeBytes { w.string($0) }
        }
        if type == .audio { w.key("voice"); w.bool(rng.chance(0.7)) }
        if type == .sticker { w.key("animated"); w.bool(rng.chance(0.2)) }
        w.endObject()
    }

    /// Writes `"type": T, "T": {...}` (and what else the type carries).
    private func writeContent(_ w: inout JSONWriter, _ m: Msg) {
        var r = Xoshiro256(seed: m.seed)
        switch m.type {
        case .text:
            w.key("type"); w.str("text")
            w.key("text"); w.beginObject()
            if !m.fromBusiness && r.chance(0.05) { w.key("preview_url"); w.bool(true) }
            w.key("body"); writeText(&w, &r, business: m.fromBusiness)
            w.endObject()
        case .image: w.key("type"); w.str("image"); w.key("image"); writeMediaObject(&w, .image, &r, business: m.fromBusiness)
        case .video: w.key("type"); w.str("video"); w.key("video"); writeMediaObject(&w, .video, &r, business: m.fromBusiness)
        case .audio: w.key("type"); w.str("audio"); w.key("audio"); writeMediaObject(&w, .audio, &r, business: m.fromBusiness)
        case .document: w.key("type"); w.str("document"); w.key("document"); writeMediaObject(&w, .document, &r, business: m.fromBusiness)
        case .sticker: w.key("type"); w.str("sticker"); w.key("sticker"); writeMediaObject(&w, .sticker, &r, business: m.fromBusiness)
        case .location:
            let place = Vocabulary.places[r.below(Vocabulary.places.count)]
            w.key("type"); w.str("location")
            w.key("location"); w.beginObject()
            w.key("latitude"); w.fixed(r.int64(37_300_000...37_800_000), decimals: 6)
            w.key("longitude"); w.fixed(r.int64(-122_500_000 ... -121_900_000), decimals: 6)
            if !place.name.isEmpty {
                w.key("name"); w.string(place.name)
                w.key("address"); w.string(place.address)
            }
            w.endObject()
        case .contacts:
            let first = Vocabulary.firstNames[r.below(Vocabulary.firstNames.count)]
            let last = Vocabulary.lastNames[r.below(Vocabulary.lastNames.count)]
            let n = 14_155_550_000 + UInt64(r.below(10_000))
            let d = digitBytes(n)
            w.key("type"); w.str("contacts")
            w.key("contacts"); w.beginArray(); w.beginObject()
            w.key("name"); w.beginObject()
            w.key("formatted_name"); w.string(first + " " + last)
            w.key("first_name"); w.string(first)
            w.key("last_name"); w.string(last)
            w.endObject()
            w.key("phones"); w.beginArray(); w.beginObject()
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: "+1 (".utf8); scratch.append(contentsOf: d[1..<4])
            scratch.append(contentsOf: ") ".utf8); scratch.append(contentsOf: d[4..<7])
            scratch.append(UInt8(ascii: "-")); scratch.append(contentsOf: d[7..<11])
            w.key("phone"); scratch.withUnsafeBytes { w.string($0) }
            w.key("type"); w.str("CELL")
            w.key("wa_id"); w.str(d)
            w.endObject(); w.endArray()
            w.endObject(); w.endArray()
        case .interactive:
            w.key("type"); w.str("interactive")
            w.key("interactive"); w.beginObject()
            if r.chance(0.5) {
                let b = Vocabulary.buttonReplies[r.below(Vocabulary.buttonReplies.count)]
                w.key("type"); w.str("button_reply")
                w.key("button_reply"); w.beginObject()
                w.key("id"); w.string(b.id); w.key("title"); w.string(b.title)
                w.endObject()
            } else {
                let l = Vocabulary.listReplies[r.below(Vocabulary.listReplies.count)]
                w.key("type"); w.str("list_reply")
                w.key("list_reply"); w.beginObject()
                w.key("id"); w.string(l.id); w.key("title"); w.string(l.title)
                w.key("description"); w.string(l.description)
                w.endObject()
            }
            w.endObject()
        case .button:
            let b = Vocabulary.buttonTexts[r.below(Vocabulary.buttonTexts.count)]
            w.key("type"); w.str("button")
            w.key("button"); w.beginObject()
            w.key("payload"); w.string(b.payload); w.key("text"); w.string(b.text)
            w.endObject()
        case .reaction:
            w.key("type"); w.str("reaction")
            w.key("reaction"); w.beginObject()
            w.key("message_id")
            if let target = m.reactTo { w.wamid(target) } else { w.wamid(Wamid(phone: 16_505_550_000, id: r.next(), variant: 0, outbound: true)) }
            w.key("emoji"); w.string(Vocabulary.emojis[r.below(Vocabulary.emojis.count)])
            w.endObject()
        case .order:
            w.key("type"); w.str("order")
            w.key("order"); w.beginObject()
            w.key("catalog_id"); w.digits(1_000_000_000_000_000 + r.below64(1_000_000_000_000))
            w.key("text"); w.str("Please deliver before noon")
            w.key("product_items"); w.beginArray()
            for _ in 0..<r.int(1...3) {
                w.beginObject()
                w.key("product_retailer_id"); w.string(Vocabulary.products[r.below(Vocabulary.products.count)])
                w.key("quantity"); w.int(r.int(1...4))
                w.key("item_price"); w.fixed(Int64(r.int(199...9_999)), decimals: 2)
                w.key("currency"); w.str("USD")
                w.endObject()
            }
            w.endArray()
            w.endObject()
        case .unknown:
            // A type coex does not know (yet): valid, kept as a message of that type.
            w.key("type"); w.str("poll")
            w.key("poll"); w.beginObject()
            w.key("question"); w.str("Which day suits you best?")
            w.key("options"); w.beginArray(); w.str("Monday"); w.str("Wednesday"); w.str("Friday"); w.endArray()
            w.key("selectable_count"); w.int(1)
            w.endObject()
        case .unsupported:
            w.key("type"); w.str("unsupported")
            w.key("errors"); w.beginArray(); w.beginObject()
            w.key("code"); w.int(131_060)
            w.key("title"); w.str("This message is unavailable")
            w.key("message"); w.str("This message is unavailable")
            w.key("error_data"); w.beginObject()
            w.key("details"); w.str("Message unavailable. Please check the WhatsApp Business app on your phone.")
            w.endObject()
            w.endObject(); w.endArray()
            if r.chance(0.5) {
                w.key("unsupported"); w.beginObject(); w.key("type"); w.str("unknown"); w.endObject()
            }
        case .placeholder:
            w.key("type"); w.str("media_placeholder")
        }
    }

    private func writeReferral(_ w: inout JSONWriter, _ m: Msg) {
        var r = Xoshiro256(seed: m.seed ^ 0xAD)
        w.key("referral"); w.beginObject()
        w.key("source_url"); w.str("https://fb.me/3cr4Wqqkv")
        w.key("source_id"); w.digits(120_200_000_000_000_000 + r.below64(100_000_000_000))
        w.key("source_type"); w.str("ad")
        w.key("headline"); w.str("Spring sale: 30% off")
        w.key("body"); w.str("Tap to chat with us on WhatsApp")
        w.key("media_type"); w.str("image")
        w.key("image_url"); w.str("https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg")
        w.key("ctwa_clid"); w.hex(&r, count: 40)
        w.endObject()
    }

    private func writeContext(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation) {
        if m.forwarded {
            w.key("context"); w.beginObject()
            if m.seed & 1 == 0 { w.key("forwarded"); w.bool(true) } else { w.key("frequently_forwarded"); w.bool(true) }
            w.endObject()
        } else if let c = m.context {
            w.key("context"); w.beginObject()
            if m.contextFromBusiness {
                w.key("from"); w.str(phones[users[m.user].phone].display)
            } else if p != .bsuid {
                w.key("from"); w.str(users[m.user].waId)
            }
            w.key("id"); w.wamid(c)
            w.endObject()
        }
    }

    /// A message the user sent (field messages, or history media assets).
    private func writeInbound(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation, intTs: Bool) {
        w.beginObject()
        writeContext(&w, m, p)
        writeUserSide(&w, m.user, p, idKey: "from", userKey: "from_user_id")
        w.key("id"); w.wamid(m.wamid)
        w.key("timestamp"); w.timestamp(m.ts, asInt: intTs)
        writeContent(&w, m)
        if m.referral { writeReferral(&w, m) }
        w.endObject()
    }

    /// A message the business sent from the app (smb_message_echoes, or history media assets).
    private func writeEcho(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation, intTs: Bool) {
        w.beginObject()
        w.key("from"); w.str(phones[users[m.user].phone].display)
        writeUserSide(&w, m.user, p, idKey: "to", userKey: "to_user_id")
        w.key("id"); w.wamid(m.wamid)
        w.key("timestamp"); w.timestamp(m.ts, asInt: intTs)
        writeContent(&w, m)
        w.endObject()
    }

    private func writeChange(_ w: inout JSONWriter, kind: StaticString, edited m: Msg, changeWamid: Wamid,
                             ts: Int64, newSeed: UInt64, p: Presentation, intTs: Bool) {
        w.beginObject()
        if m.fromBusiness {
            w.key("from"); w.str(phones[users[m.user].phone].display)
            writeUserSide(&w, m.user, p, idKey: "to", userKey: "to_user_id")
        } else {
            writeUserSide(&w, m.user, p, idKey: "from", userKey: "from_user_id")
        }
        w.key("id"); w.wamid(changeWamid)
        w.key("timestamp"); w.timestamp(ts, asInt: intTs)
        w.key("type"); w.str(kind)
        w.key(kind); w.beginObject()
        w.key("original_message_id"); w.wamid(m.wamid)
        if kind.utf8CodeUnitCount == 4 {  // "edit"
            var edited = m
            edited.seed = newSeed
            edited.reactTo = nil
            if !(m.type == .text || m.type == .image || m.type == .video || m.type == .document) { edited.type = .text }
            w.key("message"); w.beginObject()
            // A third of the edits quote a message (the one they edit), as the app's reply
            // edits do: the original quoted nothing, its versions must keep it that way. From
            // the seed, not the generator's stream, so that nothing else of a capture moves.
            if newSeed % 3 == 0 { w.key("context"); w.beginObject(); w.key("id"); w.wamid(m.wamid); w.endObject() }
            writeContent(&w, edited)
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }

    private func messagesBody(_ msgs: [Msg], at ms: Int64, echo: Bool, presentation forced: Presentation? = nil) -> [UInt8] {
        let phone = users[msgs[0].user].phone
        let intTs = rng.chance(0.03)
        return body(echo ? "smb_message_echoes" : "messages", phone: phone) { w in
            writeMessagesValue(&w, msgs, at: ms, echo: echo, intTs: intTs, forced: forced)
        }
    }

    private func writeMessagesValue(_ w: inout JSONWriter, _ msgs: [Msg], at ms: Int64, echo: Bool,
                                    intTs: Bool, forced: Presentation? = nil) {
        if echo {
            w.key("message_echoes"); w.beginArray()
            for m in msgs { writeEcho(&w, m, forced ?? presentation(m.user, ms), intTs: intTs) }
            w.endArray()
        } else {
            w.key("contacts"); w.beginArray()
            var written: [Int] = []
            for m in msgs where !written.contains(m.user) {
                written.append(m.user)
                writeContactItem(&w, m.user, forced ?? presentation(m.user, ms))
            }
            w.endArray()
            w.key("messages"); w.beginArray()
            for m in msgs { writeInbound(&w, m, forced ?? presentation(m.user, ms), intTs: intTs) }
            w.endArray()
        }
    }

    // MARK: - Messages with their follow-ups

    private struct FollowUps {
        var edits = 0
        var editsFirst = false
        var revoke = false
        var late = false
        var unsupportedFirst = false
        var statuses = false
    }

    private func pickUser(phone: Int? = nil) -> Int {
        if let phone, !usersByPhone[phone].isEmpty {
            let list = usersByPhone[phone]
            return list[rng.below(list.count)]
        }
        if rng.chance(0.5) { return rng.below(chattyCount) }
        let x = rng.unit()
        return min(chattyCount - 1, Int(Double(chattyCount) * x * x))
    }

    private func makeMsg(_ u: Int, _ type: MType, at ms: Int64, fromBusiness: Bool) -> Msg {
        let wamid = fromBusiness
            ? newWamid(phone: phones[users[u].phone].displayNumber, outbound: true)
            : newWamid(phone: users[u].phoneNumber, outbound: false)
        var m = Msg(wamid: wamid, type: type, seed: rng.next(), ts: ms / 1000, user: u, fromBusiness: fromBusiness)
        if type == .reaction { m.reactTo = users[u].lastWamid }
        return m
    }

    private func randomFollowUps(echo: Bool) -> FollowUps {
        var f = FollowUps()
        if rng.chance(echo ? 0.02 : 0.03) { f.edits = rng.chance(0.7) ? 1 : rng.int(2...3) }
        if rng.chance(echo ? 0.01 : 0.012) { f.revoke = true }
        if echo && rng.chance(0.5) { f.statuses = true }
        if shuffle && f.edits > 0 && rng.chance(0.25) { f.editsFirst = true }
        return f
    }

    private func countMessage(_ m: Msg, echo: Bool) {
        truth.messages += 1
        if echo { truth.echoMessages += 1 } else { truth.liveMessages += 1 }
        if m.type == .unknown { truth.unknownTypeMessages += 1 }
        liveMessages += 1
        users[m.user].lastWamid = m.wamid
        users[m.user].lastFromBusiness = echo
    }

    /// Emits one live message (inbound or echo) in its own body, with its edits, revoke,
    /// statuses and placeholder as asked.
    private func emit(_ m: Msg, echo: Bool, at ms: Int64, _ f: FollowUps, forced: Presentation? = nil) {
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

    private func editOrRevokeBody(kind: StaticString, _ m: Msg, _ changeWamid: Wamid, ts: Int64, newSeed: UInt64,
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

    private func writeStatus(_ w: inout JSONWriter, _ u: Int, _ wamid: Wamid, _ status: StaticString,
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

    private func statusLine(_ u: Int, _ wamid: Wamid, _ status: StaticString, at ms: Int64, api: Bool, failed: Bool = false) {
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
    private func apiSend(_ u: Int, at ms: Int64, failed: Bool, skipSent: Bool = false) -> Wamid {
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

    // MARK: - Live traffic

    private func pickKind() -> LiveKind {
        let x = rng.below(kindTotal)
        for (kind, upTo) in kindTable where x < upTo { return kind }
        return .inboundText
    }

    private func liveStep() {
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

    private func randomMedia() -> MType {
        let r = rng.below(100)
        return r < 55 ? .image : r < 67 ? .video : r < 82 ? .audio : r < 92 ? .document : .sticker
    }

    private func perform(_ kind: LiveKind, at ms: Int64) {
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
    private func mustHaveBatched(_ kind: LiveKind) -> Bool { liveSteps < 80 }

    private func batchedMixed(at ms: Int64) {
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

    private func multiEntry(at ms: Int64) {
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

    private func applyContact(_ u: Int, ts: Int64, remove: Bool) {
        if ts > users[u].contactTs || (ts == users[u].contactTs && remove) {
            users[u].contactTs = ts
            users[u].inList = !remove
        }
    }

    /// One smb_app_state_sync body per phone number touched, with one item per action.
    private func stateSync(at ms: Int64, actions: [(user: Int, remove: Bool)], key: Int64? = nil) {
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

    private func unknownFieldBody(at ms: Int64) {
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

    private func errorsOnlyBody(at ms: Int64) {
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

    // MARK: - Agenda

    private func entryTime(_ ms: Int64) -> EntryTime {
        let r = rng.below(10)
        return r < 6 ? .int(ms / 1000) : (r < 8 ? .string(ms / 1000) : .none)
    }

    private func accountBody(_ ms: Int64, entryId: [UInt8]? = nil, entryFirst: Bool = false,
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

    private func writeWabaInfo(_ w: inout JSONWriter) {
        w.key("waba_info"); w.beginObject()
        w.key("waba_id"); w.str(wabaId)
        w.key("owner_business_id"); w.str(ownerBusinessId)
        w.endObject()
    }

    private func runAgenda(_ item: AgendaItem) {
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

    // MARK: - History

    private func startPhase(_ c: inout HistoryCursor) {
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
    private func phaseRange(_ phase: Int) -> (Int64, Int64) {
        let t0 = t0Ms / 1000
        switch phase {
        case 2: return (t0 - 180 * 86_400, t0 - 90 * 86_400)
        case 1: return (t0 - 90 * 86_400, t0 - 86_400)
        default: return (t0 - 86_400, t0 - 120)
        }
    }

    private func historyChunk(_ ci: Int) {
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
    private func chunkSize(budget: Int, chunks: Int, k: Int, big: Bool) -> Int {
        if big && chunks >= 2 {
            let first = budget * 3 / 10
            if k == 0 { return first }
            let rest = budget - first
            return rest / (chunks - 1) + (k - 1 < rest % (chunks - 1) ? 1 : 0)
        }
        return budget / chunks + (k < budget % chunks ? 1 : 0)
    }

    private func writeHistoryMessage(_ w: inout JSONWriter, _ m: Msg, _ p: Presentation) {
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

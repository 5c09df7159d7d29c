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

    func setUp() {
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

    func makeUsers(chatty: Int, contactOnly: Int) {
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

    func addAgenda(_ ms: Int64, _ event: AgendaEvent) {
        agenda.append(AgendaItem(ms: ms, seq: agendaSeq, event: event))
        agendaSeq += 1
    }

    /// Adds an event after set-up, keeping the agenda sorted.
    func insertAgenda(_ ms: Int64, _ event: AgendaEvent) {
        let item = AgendaItem(ms: ms, seq: agendaSeq, event: event)
        agendaSeq += 1
        var i = agenda.count
        while i > agendaIndex && (agenda[i - 1].ms > ms) { i -= 1 }
        agenda.insert(item, at: i)
    }

    // MARK: - Driving

    /// The earliest time of any event not generated yet.
    var horizon: Int64 {
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

    func generate(before h: Int64) {
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
}

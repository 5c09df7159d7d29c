import CoexJSON

let secondMs: Int64 = 1_000
let minuteMs: Int64 = 60_000
let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 86_400_000

/// A line waiting for its delivery time.
struct Pending {
    var key: Int64
    var seq: UInt64
    var bytes: [UInt8]
}

/// Binary min-heap on (key, seq): deterministic order for equal keys.
struct PendingHeap {
    var items: [Pending] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var minKey: Int64? { items.first?.key }

    @inline(__always) static func less(_ a: Pending, _ b: Pending) -> Bool {
        a.key < b.key || (a.key == b.key && a.seq < b.seq)
    }

    mutating func push(_ p: Pending) {
        items.append(p)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !Self.less(items[i], items[parent]) { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Pending? {
        guard !items.isEmpty else { return nil }
        if items.count == 1 { return items.removeLast() }
        let top = items[0]
        items[0] = items.removeLast()
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n && Self.less(items[l], items[m]) { m = l }
            if r < n && Self.less(items[r], items[m]) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}

struct Phone {
    var id: [UInt8]
    var display: [UInt8]
    var displayNumber: UInt64
}

/// How a user's identity shows on records.
enum IdentityMode: UInt8 {
    /// Phone number only (wa_id, from, to, recipient_id).
    case phone
    /// Phone and BSUID together on every record.
    case pair
    /// Phone only before `switchMs`, BSUID only after; one record shows both.
    case switcher
    /// BSUID only (username users), never a phone number.
    case bsuidOnly
}

enum Presentation { case phone, pair, bsuid }

struct User {
    var phoneNumber: UInt64
    var waId: [UInt8]
    var userId: [UInt8]
    var username: [UInt8]
    var profileName: [UInt8]
    var fullName: [UInt8]
    var firstName: [UInt8]
    var phone: Int
    var mode: IdentityMode
    var switchMs: Int64 = .max
    /// With the BSUID only: write the phone as "" (true) or leave the member out (false).
    var emptyPhoneAsEmptyString: Bool
    /// False for contacts of the business's list who never chat.
    var chatty: Bool
    var lastWamid: Wamid? = nil
    var lastFromBusiness = false
    var lastApiWamid: Wamid? = nil

    // Ground truth flags.
    var hasMessage = false
    var appeared = false
    var phoneShown = false
    var phoneOnlyShown = false
    var bsuidOnlyShown = false
    // Contact list state (smb_app_state_sync): latest timestamp wins, remove wins ties.
    var contactTs: Int64 = -1
    var inList = false
}

enum MType: UInt8 {
    case text, image, video, audio, document, sticker, location, contacts, interactive, button, reaction
    case order, unknown, unsupported, placeholder

    var isMedia: Bool {
        switch self {
        case .image, .video, .audio, .document, .sticker: true
        default: false
        }
    }
}

/// A message to write. Its content is a pure function of `seed`, so the same message written
/// twice (history and live, unsupported and real, redelivered) has the same content.
struct Msg {
    var wamid: Wamid
    var type: MType
    var seed: UInt64
    var ts: Int64
    var user: Int
    var fromBusiness: Bool
    var context: Wamid? = nil
    var contextFromBusiness = true
    var reactTo: Wamid? = nil
    var forwarded = false
    var referral = false
    /// For placeholders: the media type the asset webhook will carry.
    var realType: MType = .image
}

enum LiveKind: CaseIterable {
    case inboundText, inboundMedia, location, contactsMessage, interactive, button, reaction, order
    case unknownType, inboundBurst, replyText, forwarded, referral
    case echoText, echoMedia, echoBurst, apiSend
    case unsupportedThenReal, stateSyncAdd, stateSyncRemove, stateSyncTie, unknownField, errorsOnly
    case batchedMixed, multiEntry, multiUser
    // Forced once per business (the must-have list), never drawn at random.
    case editedManyEditsFirst, revoked, echoEdited, echoRevoked, lateOriginal, apiFailed, audio, video
    case document, sticker, redelivery

    /// Relative frequency of random live steps (0 = only through the must-have list).
    var weight: Int {
        switch self {
        case .inboundText: 3000
        case .inboundMedia: 1100
        case .location: 150
        case .contactsMessage: 100
        case .interactive: 200
        case .button: 150
        case .reaction: 400
        case .order: 30
        case .unknownType: 30
        case .inboundBurst: 400
        case .replyText: 300
        case .forwarded: 80
        case .referral: 80
        case .echoText: 1400
        case .echoMedia: 300
        case .echoBurst: 150
        case .apiSend: 900
        case .unsupportedThenReal: 150
        case .stateSyncAdd: 120
        case .stateSyncRemove: 60
        case .stateSyncTie: 5
        case .unknownField: 30
        case .errorsOnly: 15
        case .batchedMixed: 200
        case .multiEntry: 100
        case .multiUser: 100
        default: 0
        }
    }
}

enum AgendaEvent {
    case onboarding
    case declined(phone: Int)
    case partnerAdded
    case partnerRemovedFull
    case partnerRemovedBasic
    case reconnected
    case offboarded
    case switchUser(Int)
}

struct AgendaItem {
    var ms: Int64
    var seq: Int
    var event: AgendaEvent
}

/// History of one phone number: phases 2, 1, 0, each in several chunks.
struct HistoryCursor {
    var phone: Int
    var users: [Int]
    /// Messages per phase, index 0 = phase 2, 1 = phase 1, 2 = phase 0.
    var budgets: [Int]
    var chunksPerPhase: [Int]
    var totalChunks: Int
    var chunksDone = 0
    var phaseIndex = -1
    var chunkInPhase = 0
    var perUser: [Int] = []
    var order: [Int] = []
    var userCursor = -1
    var threadLeft = 0
    var threadTs: Int64 = 0
    var threadMeanGap: Int64 = 1
    var nextMs: Int64
    var done = false

    static let phases = [2, 1, 0]
}

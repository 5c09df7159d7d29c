import CoexJSON
import Testing

@testable import CoexKit

/// What became of one line: a parse error, a rejected line, or a valid line with dropped records.
fileprivate enum LineOutcome: Equatable, CustomStringConvertible {
    case parseError(JSONParseError)
    case rejected(path: String?, reason: String)
    case valid(dropped: [String])

    init(_ bytes: [UInt8]) {
        let parser = JSONParser()
        do {
            switch WebhookValidator.check(try parser.parse(bytes)) {
            case .rejected(let reason, let path): self = .rejected(path: path, reason: reason)
            case .valid(let dropped): self = .valid(dropped: dropped.map(\.path))
            }
        } catch {
            self = .parseError(error)
        }
    }

    init(_ text: String) { self.init(Array(text.utf8)) }

    var description: String {
        switch self {
        case .parseError(let e): "parse error \(e)"
        case .rejected(let path, let reason): "rejected at \(path ?? "-"): \(reason)"
        case .valid(let dropped): "valid, dropped \(dropped)"
        }
    }

    var isValidWithoutDrops: Bool { self == .valid(dropped: []) }

    var rejectedPath: String?? {
        if case .rejected(let path, _) = self { return .some(path) }
        return nil
    }

    var reason: String? {
        if case .rejected(_, let reason) = self { return reason }
        return nil
    }
}

@Suite("WebhookValidator and WebhookRules")
struct ValidatorTests {
    static let messagePath = "$.entry[0].changes[0].value.messages[0]"

    /// A `messages` body of business A with one message of the given members.
    static func oneMessage(_ members: String) -> String { Unit.messagesBody("[{\(members)}]") }

    static let basics = #""from":"16505551234","id":"wamid.X1","timestamp":"1778577200""#

    // MARK: Fixtures

    @Test("every fixture count holds (so that the parameterized tests below cannot be empty)")
    func fixtureCounts() {
        #expect(Unit.referenceBodies.count == 10)
        #expect(Unit.variantBodies.count >= 40)
    }

    @Test("every reference example is valid, nothing dropped", arguments: Unit.referenceBodies)
    func referenceFixtureIsValid(name: String) throws {
        let outcome = LineOutcome(try Unit.body(name))
        #expect(outcome.isValidWithoutDrops, "\(outcome)")
    }

    @Test("every 2026 variant is valid, nothing dropped", arguments: Unit.variantBodies)
    func variantFixtureIsValid(name: String) throws {
        let outcome = LineOutcome(try Unit.body(name))
        #expect(outcome.isValidWithoutDrops, "\(outcome)")
    }

    @Test("the declined-history example is a change value, not a body")
    func valueOnlyIsNotABody() throws {
        let outcome = LineOutcome(try Unit.body("reference/history-declined.value.json"))
        #expect(outcome == .rejected(path: nil, reason: #"body has no "object""#))
    }

    @Test("every line of the sample nights is valid", arguments: ["night1.ndjson", "night2.ndjson"])
    func sampleNightsAreValid(name: String) throws {
        let lines = try Unit.sampleLines(name)
        #expect(lines.count > 30)
        for (i, line) in lines.enumerated() {
            let outcome = LineOutcome(line)
            #expect(outcome.isValidWithoutDrops, "\(name):\(i + 1): \(outcome)")
        }
    }

    // MARK: samples/malformed.ndjson

    /// What samples/README.md says of each line of malformed.ndjson.
    enum Expected: Sendable {
        case parse(JSONParseError?)  // nil: any error but UTF-8 and depth
        case line(path: String?, reasonContains: String)
        case dropped([String])
        /// The only record of the line is bad: a line reject at `path` or a record reject with `path`.
        case onlyRecord(String)
    }

    static let malformed: [Int: Expected] = [
        1: .parse(nil),
        2: .parse(nil),
        3: .line(path: nil, reasonContains: "body must be a JSON object, not array"),
        4: .line(path: nil, reasonContains: "body must be a JSON object, not string"),
        5: .line(path: nil, reasonContains: #""object" must be "whatsapp_business_account", not "page""#),
        6: .line(path: nil, reasonContains: #"body has no "object""#),
        7: .line(path: nil, reasonContains: #"body has no array "entry""#),
        8: .line(path: "$.entry[0]", reasonContains: "entry must be an object"),
        9: .line(path: "$.entry[0]", reasonContains: #""id""#),
        10: .line(path: "$.entry[0]", reasonContains: #""id""#),
        11: .line(path: "$.entry[0]", reasonContains: #""changes""#),
        12: .line(path: "$.entry[0].changes[0]", reasonContains: #""field""#),
        13: .line(path: "$.entry[0].changes[0]", reasonContains: #""value""#),
        14: .dropped(["$.entry[0].changes[0].value.messages[1]"]),
        15: .onlyRecord(messagePath),
        16: .onlyRecord(messagePath),
        17: .onlyRecord("$.entry[0].changes[0].value.history[0]"),
        18: .onlyRecord("$.entry[0].changes[0].value.history[0]"),
        19: .onlyRecord("$.entry[0].changes[0].value.state_sync[0]"),
        20: .onlyRecord("$.entry[0].changes[0]"),
        21: .line(path: "$.entry[0]", reasonContains: #"entry id is "..""#),
        22: .line(path: "$.entry[0]", reasonContains: #"entry id contains "/""#),
        23: .line(path: "$.entry[0]", reasonContains: "entry id is empty"),
        24: .line(path: "$.entry[0]", reasonContains: "entry id contains a NUL byte"),
        25: .parse(.badNumber("")),
        26: .parse(.badNumber("")),
        27: .parse(.tooDeep),
    ]

    @Test("each line of samples/malformed.ndjson gets the verdict samples/README.md gives it",
          arguments: Array(1...27))
    func malformedLine(number: Int) throws {
        let lines = try Unit.sampleLines("malformed.ndjson")
        try #require(lines.count == 27)
        let outcome = LineOutcome(lines[number - 1])
        let expected = try #require(Self.malformed[number])
        switch expected {
        case .parse(let error):
            guard case .parseError(let got) = outcome else {
                Issue.record("line \(number): \(outcome), expected a parse error")
                return
            }
            switch (error, got) {
            case (nil, .invalidUTF8), (nil, .tooDeep): Issue.record("line \(number): \(got)")
            case (nil, _): break
            case (.badNumber?, .badNumber): break
            case (let e?, _): #expect(got == e, "line \(number)")
            }
        case .line(let path, let text):
            guard case .rejected(let gotPath, let reason) = outcome else {
                Issue.record("line \(number): \(outcome), expected a line reject")
                return
            }
            #expect(gotPath == path, "line \(number)")
            #expect(reason.contains(text), "line \(number): \(reason)")
        case .dropped(let paths):
            #expect(outcome == .valid(dropped: paths), "line \(number)")
        case .onlyRecord(let path):
            switch outcome {
            case .rejected(let gotPath, let reason):
                #expect(gotPath == path, "line \(number)")
                #expect(!reason.isEmpty, "line \(number)")
            case .valid(let dropped):
                #expect(dropped == [path], "line \(number)")
            case .parseError(let e):
                Issue.record("line \(number): parse error \(e)")
            }
        }
    }

    // MARK: Timestamps

    static let timestamps: [(String, Int64?)] = [
        ("1778577200", 1_778_577_200), (#""1778577200""#, 1_778_577_200), ("0", 0), (#""0""#, 0), (#""007""#, 7),
        ("9223372036854775807", Int64.max), (#""999999999999999999""#, 999_999_999_999_999_999),
        ("-1", nil), (#""-1""#, nil), ("1.5", nil), ("1778577200.0", nil), ("1e9", nil), (#""12a""#, nil),
        (#""""#, nil), (#"" 12""#, nil), (#""12 ""#, nil), (#""1e3""#, nil), (#""+5""#, nil), (#""1.5""#, nil),
        ("null", nil), ("true", nil), ("{}", nil), ("[1]", nil), ("18446744073709551615", nil),
        (#""١٢""#, nil),  // Arabic-Indic digits are not ASCII digits
    ]

    @Test("timestamps: integer seconds or ASCII digit strings, nothing else", arguments: timestamps)
    func timestamp(json: String, expected: Int64?) throws {
        let parser = JSONParser()
        let value = try parser.parse(json)
        #expect(WebhookRules.timestamp(value) == expected)
    }

    @Test("a message timestamp as integer or digit string is valid", arguments: ["1778577200", #""1778577200""#, "0"])
    func goodMessageTimestamp(timestamp: String) {
        let outcome = LineOutcome(Self.oneMessage(#""id":"w","timestamp":\#(timestamp),"type":"text","text":{"body":"x"}"#))
        #expect(outcome.isValidWithoutDrops, "\(outcome)")
    }

    @Test("a negative, fractional or non-digit timestamp rejects the message",
          arguments: ["-5", "1.5", #""12a""#, #""-1768464000""#, #""""#, "null", "true"])
    func badMessageTimestamp(timestamp: String) {
        let outcome = LineOutcome(Self.oneMessage(#""id":"w","timestamp":\#(timestamp),"type":"text","text":{"body":"x"}"#))
        #expect(outcome.rejectedPath == .some(Self.messagePath), "\(outcome)")
        #expect(outcome.reason?.contains(#""timestamp""#) == true, "\(outcome)")
    }

    @Test("timestamps of statuses, state_sync items and entries follow the same rule")
    func otherTimestamps() {
        let status = { (t: String) in
            Unit.messagesBody("[]", extra: #","statuses":[{"id":"w","status":"read","timestamp":\#(t),"recipient_id":"1"}]"#)
        }
        #expect(LineOutcome(status("1778577203")).isValidWithoutDrops)
        #expect(LineOutcome(status(#""1778577203""#)).isValidWithoutDrops)
        #expect(LineOutcome(status(#""12a""#)).rejectedPath == .some("$.entry[0].changes[0].value.statuses[0]"))
        #expect(LineOutcome(status("-1")).rejectedPath == .some("$.entry[0].changes[0].value.statuses[0]"))

        let sync = { (t: String) in
            Unit.body(field: "smb_app_state_sync", value: #"{\#(Unit.metadataA),"state_sync":[{"type":"contact","contact":{"phone_number":"16505551234"},"action":"add","metadata":{"timestamp":\#(t)}}]}"#)
        }
        #expect(LineOutcome(sync("1739231022")).isValidWithoutDrops)
        #expect(LineOutcome(sync(#""1739231022""#)).isValidWithoutDrops)
        #expect(LineOutcome(sync("2.5")).rejectedPath == .some("$.entry[0].changes[0].value.state_sync[0]"))

        let account = #"{"event":"ACCOUNT_RECONNECTED"}"#
        #expect(LineOutcome(Unit.body(field: "account_update", value: account)).isValidWithoutDrops)  // no time
        #expect(LineOutcome(Unit.body(field: "account_update", value: account, time: "1768477203")).isValidWithoutDrops)
        #expect(LineOutcome(Unit.body(field: "account_update", value: account, time: #""1768477203""#)).isValidWithoutDrops)
        #expect(LineOutcome(Unit.body(field: "account_update", value: account, time: "null")).isValidWithoutDrops)
        #expect(LineOutcome(Unit.body(field: "account_update", value: account, time: #""12a""#)).rejectedPath == .some("$.entry[0]"))
        #expect(LineOutcome(Unit.body(field: "account_update", value: account, time: "-3")).rejectedPath == .some("$.entry[0]"))
    }

    // MARK: WABA ids

    @Test("a WABA id unsafe as a file name rejects the entry", arguments: ["..", ".", "", "a/b", "/", "../x", "a\\u0000b"])
    func unsafeEntryID(id: String) {
        let outcome = LineOutcome(Unit.body(field: "account_update", value: #"{"event":"ACCOUNT_OFFBOARDED"}"#, entryID: id))
        #expect(outcome.rejectedPath == .some("$.entry[0]"), "\(outcome)")
        #expect(outcome.reason?.hasPrefix("entry id ") == true, "\(outcome)")
    }

    @Test("an empty waba_info.waba_id names no business: the entry id stands")
    func emptyWabaInfoID() throws {
        let value = #"{"event":"PARTNER_REMOVED","waba_info":{"waba_id":""}}"#
        let line = Unit.body(field: "account_update", value: value, entryID: "1187346502918374")
        let outcome = LineOutcome(line)
        #expect(outcome.rejectedPath == nil && outcome.reason == nil, "\(outcome)")
        let parser = JSONParser()
        var normalizer = Normalizer()
        var records: [Record] = []
        normalizer.normalize(try parser.parse(line), provenance: Provenance(source: "t", line: 1), into: &records)
        #expect(records.map(\.wabaID) == ["1187346502918374"])
        #expect(records.first?.entryID == nil)
    }

    @Test("a waba_info.waba_id unsafe as a file name rejects the change", arguments: ["..", "x/y"])
    func unsafeWabaInfoID(id: String) {
        let value = #"{"event":"PARTNER_REMOVED","waba_info":{"waba_id":"\#(id)"}}"#
        let outcome = LineOutcome(Unit.body(field: "account_update", value: value, entryID: "1187346502918374"))
        #expect(outcome.rejectedPath == .some("$.entry[0].changes[0]"), "\(outcome)")
        #expect(outcome.reason?.contains("waba_info.waba_id") == true, "\(outcome)")
    }

    @Test("ids that merely look odd are safe", arguments: ["102290129340398", "...", "a..b", ".hidden", "a b", "é"])
    func safeIDs(id: String) {
        #expect(WebhookRules.unsafeFileNameReason(id) == nil)
        #expect(LineOutcome(Unit.body(field: "account_update", value: #"{"event":"X"}"#, entryID: id)).isValidWithoutDrops)
    }

    @Test func unsafeFileNameReasons() {
        #expect(WebhookRules.unsafeFileNameReason("") == "is empty")
        #expect(WebhookRules.unsafeFileNameReason(".") == #"is ".""#)
        #expect(WebhookRules.unsafeFileNameReason("..") == #"is "..""#)
        #expect(WebhookRules.unsafeFileNameReason("a/b") == #"contains "/""#)
        #expect(WebhookRules.unsafeFileNameReason("a\u{0}b") == "contains a NUL byte")
    }

    // MARK: Unknown is not invalid

    @Test("unknown fields are valid whatever their value object holds",
          arguments: ["calls", "user_preferences", "message_template_status_update", "security", "x_future"])
    func unknownField(field: String) {
        #expect(LineOutcome(Unit.body(field: field, value: #"{"anything":[1,{"deep":null}],"metadata":5}"#)).isValidWithoutDrops)
        #expect(LineOutcome(Unit.body(field: field, value: "{}")).isValidWithoutDrops)
    }

    @Test("a change value must be an object even for unknown fields")
    func unknownFieldValueNotObject() {
        #expect(LineOutcome(Unit.body(field: "calls", value: #""x""#)).rejectedPath == .some("$.entry[0].changes[0]"))
    }

    @Test("unknown message types and keys are valid", arguments: [
        #""type":"poll","poll":{"name":"Which pot?","options":[]}"#,
        #""type":"poll","poll":"any shape""#,
        #""type":"brand_new""#,
        #""type":"text","text":{"body":"x"},"x_unknown":{"a":[1]},"referral":{"source_type":"ad"}"#,
        #""type":"interactive""#,
        #""type":"interactive","context":{"from":"15550783881","id":"wamid.Y"}"#,
        #""type":"unsupported","unsupported":{"type":"event"},"errors":[{"code":131051}]"#,
        #""type":"unsupported","errors":[{"code":131060,"title":"This message is unavailable"}]"#,
        #""type":"contacts","contacts":[{"name":{"formatted_name":"A"},"phones":[{"phone":"+1"}]}]"#,
        #""type":"contacts","contacts":[]"#,
        #""type":"text","text":null"#,
        #""type":"media_placeholder","history_context":{"status":"PLAYED"}"#,
        #""type":"revoke","revoke":{"original_message_id":"wamid.O"}"#,
        #""type":"edit","edit":{"original_message_id":"wamid.O","message":{"type":"text","text":{"body":"y"}}}"#,
        #""type":"edit","edit":{"original_message_id":"wamid.O"}"#,
        #""type":"text","text":{"body":"x"},"to":"","to_user_id":"US.1""#,
    ])
    func validMessage(members: String) {
        let outcome = LineOutcome(Self.oneMessage(#""id":"w","timestamp":"1","from":"1",\#(members)"#))
        #expect(outcome.isValidWithoutDrops, "\(outcome)")
    }

    @Test("mistyped or missing required members reject the message", arguments: [
        (#""id":"w","timestamp":"1","type":"contacts","contacts":{"name":{"formatted_name":"A"}}"#, #"message "contacts" must be an array"#),
        (#""id":"w","timestamp":"1","type":"text","text":"hello""#, #"message "text" must be an object"#),
        (#""id":"w","timestamp":"1","type":"interactive","interactive":"x""#, #"message "interactive" must be an object"#),
        (#""id":"w","timestamp":"1","type":"image","image":[1]"#, #"message "image" must be an object"#),
        (#""timestamp":"1","type":"text","text":{"body":"x"}"#, #"message has no string "id""#),
        (#""id":"","timestamp":"1","type":"text","text":{"body":"x"}"#, #"message has an empty "id""#),
        (#""id":5,"timestamp":"1","type":"text","text":{"body":"x"}"#, #"message has no string "id""#),
        (#""id":"w","type":"text","text":{"body":"x"}"#, #"message has no "timestamp""#),
        (#""id":"w","timestamp":"1","text":{"body":"x"}"#, #"message has no string "type""#),
        (#""id":"w","timestamp":"1","type":"text","from":16505551234"#, #"message "from" must be a string"#),
        (#""id":"w","timestamp":"1","type":"text","to":[]"#, #"message "to" must be a string"#),
        (#""id":"w","timestamp":"1","type":"text","from_user_id":1"#, #"message "from_user_id" must be a string"#),
        (#""id":"w","timestamp":"1","type":"edit""#, #"edit message has no object "edit""#),
        (#""id":"w","timestamp":"1","type":"edit","edit":{"message":{}}"#, #"edit has no string "original_message_id""#),
        (#""id":"w","timestamp":"1","type":"edit","edit":{"original_message_id":"o","message":"x"}"#, #"edit "message" must be an object"#),
        (#""id":"w","timestamp":"1","type":"revoke","revoke":{}"#, #"revoke has no string "original_message_id""#),
        (#""id":"w","timestamp":"1","type":"revoke","revoke":{"original_message_id":""}"#, #"revoke has an empty "original_message_id""#),
        (#""id":"w","timestamp":"1","type":"text","history_context":"READ""#, #"message "history_context" must be an object"#),
        (#""id":"w","timestamp":"1","type":"text","history_context":{"status":3}"#, #"history_context "status" must be a string"#),
        (#""id":"w","timestamp":"1","type":"text","errors":{"code":1}"#, #"message "errors" must be an array"#),
    ])
    func badMessage(members: String, reason: String) {
        let outcome = LineOutcome(Self.oneMessage(members))
        #expect(outcome.rejectedPath == .some(Self.messagePath), "\(outcome)")
        #expect(outcome.reason?.hasPrefix(reason) == true, "\(outcome)")
    }

    // MARK: Other records

    @Test func statuses() {
        func outcome(_ status: String) -> LineOutcome {
            LineOutcome(Unit.messagesBody("[]", extra: #","statuses":[\#(status)]"#))
        }
        let path = "$.entry[0].changes[0].value.statuses[0]"
        #expect(outcome(#"{"id":"w","status":"read","timestamp":"1","recipient_user_id":"US.1"}"#).isValidWithoutDrops)
        #expect(outcome(#"{"id":"w","status":"failed","timestamp":"1","errors":[{"code":131026}]}"#).isValidWithoutDrops)
        #expect(outcome(#"{"id":"w","timestamp":"1"}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"status":"read","timestamp":"1"}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"id":"w","status":"read"}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"id":"w","status":"read","timestamp":"1","recipient_id":16505551234}"#).rejectedPath == .some(path))
        #expect(outcome(#""status""#).rejectedPath == .some(path))
    }

    @Test func contactsAndErrors() {
        let good = #"[{"id":"w","timestamp":"1","type":"text","text":{"body":"x"}}]"#
        let contacts = { (c: String) in LineOutcome(Unit.messagesBody(good, extra: #","contacts":[\#(c)]"#)) }
        #expect(contacts(#"{"profile":{"name":"A","username":"a"},"user_id":"US.1"}"#).isValidWithoutDrops)
        #expect(contacts(#"{"wa_id":16505551234}"#) == .valid(dropped: ["$.entry[0].changes[0].value.contacts[0]"]))
        #expect(contacts(#"{"wa_id":"1","profile":"A"}"#) == .valid(dropped: ["$.entry[0].changes[0].value.contacts[0]"]))
        #expect(contacts(#"{"wa_id":"1","profile":{"name":7}}"#) == .valid(dropped: ["$.entry[0].changes[0].value.contacts[0]"]))

        let errors = { (e: String) in LineOutcome(Unit.messagesBody("[]", extra: #","errors":[\#(e)]"#)) }
        #expect(errors(#"{"code":131000,"title":"Something went wrong"}"#).isValidWithoutDrops)
        #expect(errors(#"{"code":"131000"}"#).rejectedPath == .some("$.entry[0].changes[0].value.errors[0]"))
        #expect(errors(#"{"title":"x"}"#).rejectedPath == .some("$.entry[0].changes[0].value.errors[0]"))
        #expect(errors(#"{"code":1.5}"#).rejectedPath == .some("$.entry[0].changes[0].value.errors[0]"))
    }

    @Test func history() {
        func outcome(_ history: String) -> LineOutcome {
            LineOutcome(Unit.body(field: "history", value: #"{\#(Unit.metadataA),"history":[\#(history)]}"#))
        }
        let item = "$.entry[0].changes[0].value.history[0]"
        let thread = #"{"id":"16505551234","messages":[{"from":"16505551234","id":"w","timestamp":"1","type":"text","text":{"body":"x"},"history_context":{"status":"READ"}}]}"#
        #expect(outcome(#"{"metadata":{"phase":2,"chunk_order":0,"progress":100},"threads":[\#(thread)]}"#).isValidWithoutDrops)
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":1,"progress":0},"threads":[]}"#).isValidWithoutDrops)
        #expect(outcome(#"{"errors":[{"code":2593109}]}"#).isValidWithoutDrops)
        #expect(outcome(#"{"metadata":{"phase":-1,"chunk_order":0,"progress":1},"threads":[]}"#).rejectedPath == .some(item))
        #expect(outcome(#"{"metadata":{"chunk_order":0,"progress":1},"threads":[]}"#).rejectedPath == .some(item))
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":0,"progress":"1"},"threads":[]}"#).rejectedPath == .some(item))
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":0,"progress":1}}"#).rejectedPath == .some(item))
        #expect(outcome(#"{"threads":[]}"#).rejectedPath == .some(item))
        #expect(outcome(#"{"errors":{"code":2593109}}"#).rejectedPath == .some(item))
        // A bad error of a declined-history item is a record of its own.
        #expect(outcome(#"{"errors":[{"code":"2593109"}]}"#) == .valid(dropped: [item + ".errors[0]"]))
        // A bad thread, and a bad message in a thread, are records of their own; the chunk stays.
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":0,"progress":1},"threads":[{"id":"1"}]}"#)
            == .valid(dropped: [item + ".threads[0]"]))
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":0,"progress":1},"threads":[{"id":1,"messages":[]}]}"#)
            == .valid(dropped: [item + ".threads[0]"]))
        #expect(outcome(#"{"metadata":{"phase":0,"chunk_order":0,"progress":1},"threads":[\#(thread),{"id":"2","messages":[{"id":"v","type":"text"}]}]}"#)
            == .valid(dropped: [item + ".threads[1].messages[0]"]))
    }

    @Test func stateSync() {
        func outcome(_ item: String) -> LineOutcome {
            LineOutcome(Unit.body(field: "smb_app_state_sync", value: #"{\#(Unit.metadataA),"state_sync":[\#(item)]}"#))
        }
        let path = "$.entry[0].changes[0].value.state_sync[0]"
        let meta = #""metadata":{"timestamp":"1739231022"}"#
        #expect(outcome(#"{"type":"contact","contact":{"user_id":"US.1","username":"u"},"action":"add",\#(meta)}"#).isValidWithoutDrops)
        #expect(outcome(#"{"type":"contact","contact":{"phone_number":"1"},"action":"remove",\#(meta)}"#).isValidWithoutDrops)
        #expect(outcome(#"{"type":"label","action":"add",\#(meta)}"#).isValidWithoutDrops)
        #expect(outcome(#"{"type":"contact","contact":{"full_name":"A"},"action":"add",\#(meta)}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"type":"contact","contact":{"phone_number":"","user_id":""},"action":"add",\#(meta)}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"type":"contact","contact":{"phone_number":"1"},\#(meta)}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"type":"contact","contact":{"phone_number":"1"},"action":"add"}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"type":"contact","action":"add",\#(meta)}"#).rejectedPath == .some(path))
        #expect(outcome(#"{"type":"contact","contact":{"phone_number":1},"action":"add",\#(meta)}"#).rejectedPath == .some(path))
    }

    @Test func accountUpdate() {
        func outcome(_ value: String) -> LineOutcome {
            LineOutcome(Unit.body(field: "account_update", value: value, time: "1768477204"))
        }
        let change = "$.entry[0].changes[0]"
        #expect(outcome(#"{"event":"ACCOUNT_OFFBOARDED"}"#).isValidWithoutDrops)
        #expect(outcome(#"{"event":"SOMETHING_NEW","whatever":{"a":1}}"#).isValidWithoutDrops)
        #expect(outcome(#"{"event":"PARTNER_REMOVED","waba_info":{"waba_id":"4","owner_business_id":"2"},"disconnection_info":{"reason":"R","initiated_by":"SYSTEM"}}"#).isValidWithoutDrops)
        #expect(outcome(#"{"phone_number":"15550783881"}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":""}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":7}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":"X","phone_number":15550783881}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":"X","waba_info":"4"}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":"X","waba_info":{"waba_id":4}}"#).rejectedPath == .some(change))
        #expect(outcome(#"{"event":"X","disconnection_info":"USER"}"#).rejectedPath == .some(change))
    }

    @Test("messages, history, echoes and state sync need metadata with a phone_number_id")
    func metadata() {
        for field in ["messages", "history", "smb_message_echoes", "smb_app_state_sync"] {
            #expect(LineOutcome(Unit.body(field: field, value: #"{"messaging_product":"whatsapp"}"#)).rejectedPath
                == .some("$.entry[0].changes[0]"), "\(field)")
            #expect(LineOutcome(Unit.body(field: field, value: #"{"metadata":{"phone_number_id":""}}"#)).rejectedPath
                == .some("$.entry[0].changes[0]"), "\(field)")
            #expect(LineOutcome(Unit.body(field: field, value: #"{"metadata":{"phone_number_id":"1","display_phone_number":1}}"#)).rejectedPath
                == .some("$.entry[0].changes[0]"), "\(field)")
            #expect(LineOutcome(Unit.body(field: field, value: #"{"metadata":{"phone_number_id":"1"}}"#)).isValidWithoutDrops,
                    "\(field)")
        }
        #expect(LineOutcome(Unit.messagesBody(#"{"id":"w"}"#)).rejectedPath == .some("$.entry[0].changes[0]"))
    }

    // MARK: Lines and records

    @Test("an empty entry array is a valid body with nothing in it")
    func emptyEntries() {
        #expect(LineOutcome(#"{"object":"whatsapp_business_account","entry":[]}"#).isValidWithoutDrops)
    }

    @Test("a line whose records are all bad is rejected whole; the reason counts the others")
    func allRecordsBad() {
        let outcome = LineOutcome(Unit.messagesBody(#"[{"timestamp":"1","type":"text"},{"id":"w","type":"text"}]"#))
        guard case .rejected(let path, let reason) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(path == nil)
        #expect(reason == #"$.entry[0].changes[0].value.messages[0]: message has no string "id" (missing) (and 1 more bad records)"#)
    }

    @Test("bad records are found by path in any entry and change; the good ones keep the line")
    func pathsAcrossEntries() {
        let goodMessage = #"{"id":"w","timestamp":"1","type":"text","text":{"body":"x"}}"#
        let change = { (messages: String) in
            #"{"value":{\#(Unit.metadataA),"messages":\#(messages)},"field":"messages"}"#
        }
        let body = #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[\#(change("[\(goodMessage)]"))]},{"id":"2","changes":[\#(change("[\(goodMessage)]")),\#(change("[\(goodMessage),\(goodMessage),{\"id\":\"x\"}]"))]},{"id":".."},7]}"#
        #expect(LineOutcome(body) == .valid(dropped: [
            "$.entry[1].changes[1].value.messages[2]", "$.entry[2]", "$.entry[3]",
        ]))
    }

    @Test("dropped records carry their reason")
    func droppedReason() throws {
        let parser = JSONParser()
        let verdict = WebhookValidator.check(try parser.parse(try Unit.sampleLines("malformed.ndjson")[13]))
        #expect(verdict == .valid(dropped: [
            BadRecord(path: "$.entry[0].changes[0].value.messages[1]", reason: #"message has no string "id" (missing)"#),
        ]))
    }
}

import CoexJSON
import Testing

@testable import CoexKit

/// Business A of the reference examples.
fileprivate let wabaA = "102290129340398"
fileprivate let phoneIDA = "106540352242922"
fileprivate let displayA = "15550783881"

fileprivate let sheena = "16505551234"
fileprivate let pablo = "12125557890"
fileprivate let sheenaBSUID = "US.18402957316628475013"
fileprivate let greenThumbBSUID = "US.27730594418265039921"
fileprivate let greenThumbNewBSUID = "US.30118846275901736452"

/// A record of business A with the fields every record of a change of A carries.
fileprivate func recordA(_ kind: RecordKind, _ source: String) -> Record {
    var r = Record(kind: kind, wabaID: wabaA, provenance: Provenance(source: source, line: 1))
    r.phoneNumberID = phoneIDA
    r.displayPhoneNumber = displayA
    return r
}

fileprivate func message(
    _ source: String, wamid: String, contact: String?, _ direction: Direction, _ origin: Origin, _ timestamp: Int64,
    type: String, body: String?, content: String?
) -> Record {
    var r = recordA(.message, source)
    r.wamid = wamid
    r.contactWaID = contact
    r.direction = direction
    r.origin = origin
    r.timestamp = timestamp
    r.type = type
    r.body = body
    r.content = content.map { RawJSON(Array($0.utf8)) }
    return r
}

fileprivate func raw(_ text: String) -> RawJSON { RawJSON(Array(text.utf8)) }

@Suite("Normalizer")
struct NormalizerTests {
    // MARK: Reference examples, record by record

    @Test("history approved: one chunk, four messages; the business's own messages are outbound by `from`")
    func historyApproved() throws {
        let source = "history-approved.json"
        let (records, counts) = try Unit.normalizeFixture("reference/history-approved.json")
        try #require(records.count == 5)

        var chunk = recordA(.historyChunk, source)
        chunk.phase = 0
        chunk.chunkOrder = 1
        chunk.progress = 55
        chunk.threadCount = 2
        chunk.messageCount = 4
        Unit.expectRecord(records[0], chunk)

        let info = "Here's the info you requested! https://www.meta.com/quest/quest-3/"
        var m0 = message(source, wamid: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0N0FCNjMA", contact: sheena,
                         .outbound, .history, 1_739_230_955, type: "text", body: info, content: #"{"body":"\#(info)"}"#)
        m0.status = "read"
        (m0.phase, m0.chunkOrder, m0.threadIndex, m0.messageIndex) = (0, 1, 0, 0)
        Unit.expectRecord(records[1], m0)

        var m1 = message(source, wamid: "wamid.QyNUEHBgLMTY0NjcwNDM1OTUVAgARGBI1Rj3NEYxMzAzMzQ5MkEA", contact: sheena,
                         .outbound, .history, 1_739_230_970, type: "media_placeholder", body: nil, content: nil)
        m1.status = "played"
        (m1.phase, m1.chunkOrder, m1.threadIndex, m1.messageIndex) = (0, 1, 0, 1)
        Unit.expectRecord(records[2], m1)

        var m2 = message(source, wamid: "wamid.N0FCNjMAHBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0", contact: sheena,
                         .inbound, .history, 1_739_230_970, type: "text", body: "Thanks!", content: #"{"body":"Thanks!"}"#)
        m2.status = "read"
        (m2.phase, m2.chunkOrder, m2.threadIndex, m2.messageIndex) = (0, 1, 0, 2)
        Unit.expectRecord(records[3], m2)

        let thanks = "Thanks for your order! As a thank you, use code THANKS30 to get 30% of your next order."
        var m3 = message(source, wamid: "wamid.BIyNDlBOEI5N0FCNjMAHBgLMTY0NjcwNDM1OTUVAgARGQUQ4NDc0", contact: pablo,
                         .outbound, .history, 1_739_230_970, type: "text", body: thanks, content: #"{"body":"\#(thanks)"}"#)
        m3.status = "delivered"
        (m3.phase, m3.chunkOrder, m3.threadIndex, m3.messageIndex) = (0, 1, 1, 0)
        Unit.expectRecord(records[4], m3)

        #expect(counts.records == [.historyChunk: 1, .message: 4])
        #expect(counts.recordTotal == 5)
        #expect(counts.badRecords == 0)
    }

    @Test("media asset: a history message with history_asset set")
    func mediaAsset() throws {
        let source = "media-asset.json"
        let (records, _) = try Unit.normalizeFixture("reference/media-asset.json")
        try #require(records.count == 1)
        var m = message(source, wamid: "wamid.QyNUEHBgLMTY0NjcwNDM1OTUVAgARGBI1Rj3NEYxMzAzMzQ5MkEA", contact: sheena,
                        .inbound, .history, 1_738_796_547, type: "image", body: "Black Prince echeveria",
                        content: #"{"caption":"Black Prince echeveria","mime_type":"image/jpeg","sha256":"3f9d94d399fa61c191bc1d4ca71375a035cd9b9f5b1128e1f0963a415c16b0cc","id":"24230790383178626"}"#)
        m.historyAsset = true
        Unit.expectRecord(records[0], m)
    }

    @Test("edit: kind edit, the new image as content, its caption as body, reply_to M0")
    func edit() throws {
        let source = "edit.json"
        let (records, counts) = try Unit.normalizeFixture("reference/edit.json")
        try #require(records.count == 2)
        var e = recordA(.edit, source)
        e.wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
        e.originalMessageID = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
        e.contactWaID = sheena
        e.direction = .inbound
        e.origin = .live
        e.timestamp = 1_749_854_575
        e.type = "image"
        e.body = "Updated image caption"
        e.replyTo = "M0"
        e.content = raw(#"{"caption":"Updated image caption","mime_type":"image/jpeg","sha256":"a1b2c3d4e5f6...","id":"1234567890","url":"https://media.example.com/updated-image.jpg"}"#)
        e.extra = raw(#"{"context":{"id":"M0"}}"#)
        Unit.expectRecord(records[0], e)
        Unit.expectRecord(records[1], profileContact(source, waID: sheena, name: "Sheena Nelson", timestamp: 1_749_854_575))
        #expect(counts.records == [.edit: 1, .contact: 1])
    }

    @Test("revoke: kind revoke with the original's id")
    func revoke() throws {
        let source = "revoke.json"
        let (records, _) = try Unit.normalizeFixture("reference/revoke.json")
        try #require(records.count == 2)
        var r = recordA(.revoke, source)
        r.wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
        r.originalMessageID = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
        r.contactWaID = sheena
        r.direction = .inbound
        r.origin = .live
        r.timestamp = 1_749_854_575
        r.type = "revoke"
        Unit.expectRecord(records[0], r)
        Unit.expectRecord(records[1], profileContact(source, waID: sheena, name: "Sheena Nelson", timestamp: 1_749_854_575))
    }

    fileprivate func profileContact(_ source: String, waID: String, name: String, timestamp: Int64) -> Record {
        var c = recordA(.contact, source)
        c.action = "profile"
        c.contactWaID = waID
        c.profileName = name
        c.timestamp = timestamp
        c.extra = raw(#"{"profile":{"name":"\#(name)"}}"#)
        return c
    }

    @Test("history declined: a sync_error 2593109 with title and details")
    func historyDeclined() throws {
        let source = "history-declined.json"
        let (records, counts) = try Unit.normalizeFixture("reference/history-declined.json")
        try #require(records.count == 1)
        var s = recordA(.syncError, source)
        s.code = 2_593_109
        s.title = "History sync is turned off by the business from the WhatsApp Business App"
        s.message = "History sync is turned off by the business from the WhatsApp Business App"
        s.details = "History sharing is turned off by the business"
        s.extra = raw(#"{"error_data":{"details":"History sharing is turned off by the business"}}"#)
        Unit.expectRecord(records[0], s)
        #expect(counts.records == [.syncError: 1])
    }

    @Test("account_update examples: PARTNER_REMOVED, ACCOUNT_OFFBOARDED, ACCOUNT_RECONNECTED", arguments: [
        ("account-update-partner-removed.json", wabaA, Int64(1_739_212_624), "PARTNER_REMOVED", displayA as String?),
        ("account-offboarded.json", "862475293675413", Int64(1_768_477_204), "ACCOUNT_OFFBOARDED", nil),
        ("account-reconnected.json", "862475293675413", Int64(1_768_477_203), "ACCOUNT_RECONNECTED", nil),
    ])
    func accountUpdates(file: String, waba: String, time: Int64, event: String, phone: String?) throws {
        let (records, _) = try Unit.normalizeFixture("reference/\(file)")
        try #require(records.count == 1)
        var a = Record(kind: .accountEvent, wabaID: waba, provenance: Provenance(source: file, line: 1))
        a.timestamp = time
        a.event = event
        a.phoneNumber = phone
        Unit.expectRecord(records[0], a)
    }

    @Test("echo: an outbound message of origin echo, the user from `to`")
    func echo() throws {
        let source = "echo-text.json"
        let (records, _) = try Unit.normalizeFixture("reference/echo-text.json")
        try #require(records.count == 1)
        let info = "Here's the info you requested! https://www.meta.com/quest/quest-3/"
        Unit.expectRecord(records[0], message(source, wamid: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0N0FCNjMA",
                                              contact: sheena, .outbound, .echo, 1_700_255_121, type: "text", body: info,
                                              content: #"{"body":"\#(info)"}"#))
    }

    @Test("state sync: one contact record per item, action add")
    func stateSync() throws {
        let source = "smb-app-state-sync.json"
        let (records, _) = try Unit.normalizeFixture("reference/smb-app-state-sync.json")
        try #require(records.count == 2)
        for (record, (phone, full, first)) in zip(records, [(sheena, "Sheena Nelson", "Sheena"), (pablo, "Pablo Morales", "Pablo")]) {
            var c = recordA(.contact, source)
            c.action = "add"
            c.timestamp = 1_739_231_022
            c.contactWaID = phone
            c.fullName = full
            c.firstName = first
            Unit.expectRecord(record, c)
        }
    }

    // MARK: Every fixture

    static let allBodies = Unit.referenceBodies + Unit.variantBodies

    @Test("no record carries an empty string; provenance is the file and line 1", arguments: allBodies)
    func noEmptyStrings(name: String) throws {
        let (records, counts) = try Unit.normalizeFixture(name)
        #expect(counts.badRecords == 0)
        for r in records {
            for (field, value) in Unit.presentStrings(r) {
                #expect(!value.isEmpty, "\(r.kind.rawValue).\(field) is empty")
            }
            #expect(r.source == String(name.split(separator: "/").last!))
            #expect(r.line == 1)
            #expect(r.timestamp.map { $0 >= 0 } ?? true)
            if r.kind == .message || r.kind == .edit || r.kind == .revoke {
                #expect(r.wamid != nil)
                #expect(r.direction != nil && r.origin != nil && r.timestamp != nil && r.type != nil)
            }
        }
    }

    @Test("together the fixtures produce every record kind the normalizer knows")
    func everyKind() throws {
        var kinds: Set<RecordKind> = []
        for name in Self.allBodies { kinds.formUnion(try Unit.normalizeFixture(name).records.map(\.kind)) }
        let normalized: Set<RecordKind> = [
            .message, .edit, .revoke, .status, .contact, .accountEvent, .historyChunk, .syncError, .error, .userIDChange,
        ]
        #expect(kinds == normalized)
    }

    // MARK: Identity (BSUID)

    @Test("a user known only by BSUID: contact_user_id set, contact_wa_id absent (never empty)",
          arguments: ["variants/bsuid-only-inbound-from-missing.json", "variants/bsuid-only-inbound-from-empty.json"])
    func bsuidOnlyInbound(name: String) throws {
        let (records, _) = try Unit.normalizeFixture(name)
        try #require(records.count == 2)
        let m = records[0]
        #expect(m.kind == .message)
        #expect(m.contactWaID == nil)
        #expect(m.contactUserID == greenThumbBSUID)
        #expect(m.username == "green.thumb")
        #expect(m.direction == .inbound)
        #expect(m.extra == nil)  // from/from_user_id are columns, not extras
        let c = records[1]
        #expect(c.kind == .contact)
        #expect(c.action == "profile")
        #expect(c.contactWaID == nil)
        #expect(c.contactUserID == greenThumbBSUID)
        #expect(c.username == "green.thumb")
        #expect(c.profileName == "Green Thumb")
    }

    @Test("an echo to a BSUID-only user")
    func echoBSUIDOnly() throws {
        let (records, _) = try Unit.normalizeFixture("variants/echo-bsuid-only.json")
        try #require(records.count == 1)
        #expect(records[0].contactWaID == nil)
        #expect(records[0].contactUserID == greenThumbBSUID)
        #expect(records[0].origin == .echo)
        #expect(records[0].direction == .outbound)
    }

    @Test("phone, BSUID, parent BSUID and username of one user")
    func phoneAndBSUID() throws {
        let (records, _) = try Unit.normalizeFixture("variants/inbound-phone-and-bsuid.json")
        try #require(records.count == 2)
        #expect(records[0].contactWaID == sheena)
        #expect(records[0].contactUserID == sheenaBSUID)
        #expect(records[0].username == "sheena.n")
        #expect(records[0].extra?.text == #"{"from_parent_user_id":"US.ENT.20481736592018374650"}"#)
        #expect(records[1].contactWaID == sheena)
        #expect(records[1].contactUserID == sheenaBSUID)
        #expect(records[1].username == "sheena.n")
        #expect(records[1].extra?.text.contains(#""parent_user_id":"US.ENT.20481736592018374650""#) == true)
    }

    @Test("history threads: an empty thread id takes the user from the thread's context")
    func historyThreadContext() throws {
        let (records, _) = try Unit.normalizeFixture("variants/history-thread-bsuid-context.json")
        try #require(records.count == 4)
        #expect(records[0].kind == .historyChunk)
        #expect(records[0].threadCount == 2)
        #expect(records[0].messageCount == 3)
        #expect(records[0].phase == 1)
        #expect(records[0].chunkOrder == 3)
        #expect(records[0].progress == 62)
        for r in records[1...2] {
            #expect(r.contactWaID == nil)
            #expect(r.contactUserID == greenThumbBSUID)
            #expect(r.username == "green.thumb")
            #expect(r.countryCode == "US")
            #expect(r.threadIndex == 0)
        }
        #expect(records[1].direction == .inbound)
        #expect(records[2].direction == .outbound)
        #expect(records[1].messageIndex == 0)
        #expect(records[2].messageIndex == 1)
        #expect(records[3].contactWaID == pablo)
        #expect(records[3].contactUserID == "US.41297730581264490317")
        #expect(records[3].username == "pablo.m")
        #expect(records[3].threadIndex == 1)
        #expect(records[3].messageIndex == 0)
    }

    @Test("history thread messages keep the sender's BSUID when the thread has no context")
    func historyMessageBSUIDWithoutContext() throws {
        let thread = #"{"id":"16505551234","messages":[{"from":"16505551234","from_user_id":"US.1","id":"wamid.H1","timestamp":"1778571640","type":"text","text":{"body":"hi"},"history_context":{"status":"READ"}},{"from":"15550783881","to":"16505551234","to_user_id":"US.1","id":"wamid.H2","timestamp":"1778571641","type":"text","text":{"body":"hello"}}]}"#
        let noPhone = #"{"id":"","messages":[{"from":"","from_user_id":"US.2","id":"wamid.H3","timestamp":"1778571642","type":"text","text":{"body":"hey"}}]}"#
        let value = #"{\#(Unit.metadataA),"history":[{"metadata":{"phase":0,"chunk_order":0,"progress":100},"threads":[\#(thread),\#(noPhone)]}]}"#
        let (records, _) = try Unit.normalize(Unit.body(field: "history", value: value))
        let messages = records.filter { $0.kind == .message }
        try #require(messages.count == 3)
        #expect(messages[0].contactWaID == sheena)
        #expect(messages[0].contactUserID == "US.1", "from_user_id of a history message is lost")
        #expect(messages[1].contactWaID == sheena)
        #expect(messages[1].contactUserID == "US.1", "to_user_id of a history message is lost")
        #expect(messages[2].contactWaID == nil)
        #expect(messages[2].contactUserID == "US.2", "a history message of a thread without id or context has no user")
    }

    @Test("the business is recognised by the digits of a formatted display number")
    func formattedDisplayNumber() throws {
        let thread = #"{"id":"16505551234","messages":[{"from":"15550783881","id":"wamid.B1","timestamp":"1","type":"text","text":{"body":"ours"}},{"from":"16505551234","id":"wamid.U1","timestamp":"2","type":"text","text":{"body":"theirs"}}]}"#
        let value = #"{"messaging_product":"whatsapp","metadata":{"display_phone_number":"+1 555-078-3881","phone_number_id":"106540352242922"},"history":[{"metadata":{"phase":0,"chunk_order":0,"progress":1},"threads":[\#(thread)]}]}"#
        let messages = try Unit.normalize(Unit.body(field: "history", value: value)).records.filter { $0.kind == .message }
        #expect(messages.map(\.direction) == [.outbound, .inbound])
        #expect(messages.map(\.contactWaID) == [sheena, sheena])
        #expect(messages.first?.displayPhoneNumber == "+1 555-078-3881")
    }

    @Test("state sync contacts known by BSUID")
    func stateSyncBSUID() throws {
        let (records, _) = try Unit.normalizeFixture("variants/state-sync-bsuid-contact.json")
        try #require(records.count == 2)
        #expect(records[0].contactWaID == nil)
        #expect(records[0].contactUserID == greenThumbBSUID)
        #expect(records[0].username == "green.thumb")
        #expect(records[0].fullName == "Green Thumb")
        #expect(records[1].contactWaID == pablo)
        #expect(records[1].contactUserID == "US.41297730581264490317")
        #expect(records.allSatisfy { $0.action == "add" && $0.timestamp == 1_778_576_520 })
    }

    @Test("user_id_update and user_changed_user_id become user_id_change records with both ids")
    func userIDChanges() throws {
        let (update, counts) = try Unit.normalizeFixture("variants/user-id-update.json")
        try #require(update.count == 1)
        #expect(update[0].kind == .userIDChange)
        #expect(update[0].contactUserID == greenThumbNewBSUID)
        #expect(update[0].previousUserID == greenThumbBSUID)
        #expect(update[0].timestamp == 1_778_576_600)
        #expect(update[0].phoneNumberID == phoneIDA)
        #expect(counts.skippedFields.isEmpty)

        let (system, _) = try Unit.normalizeFixture("variants/system-user-changed-user-id.json")
        try #require(system.count == 2)
        #expect(system[0].kind == .message)
        #expect(system[0].type == "system")
        #expect(system[0].contactUserID == greenThumbBSUID)
        #expect(system[0].body == "User Green Thumb changed from US.27730594418265039921 to US.30118846275901736452")
        #expect(system[1].kind == .userIDChange)
        #expect(system[1].wamid == system[0].wamid)
        #expect(system[1].contactUserID == greenThumbNewBSUID)
        #expect(system[1].previousUserID == greenThumbBSUID)
        #expect(system[1].contactWaID == nil)
        #expect(system[1].type == "user_changed_user_id")
        #expect(system[1].timestamp == 1_778_576_600)

        let (number, _) = try Unit.normalizeFixture("variants/system-user-changed-number.json")
        try #require(number.count == 2)
        #expect(number[0].contactWaID == pablo)
        #expect(number[1].kind == .userIDChange)
        #expect(number[1].contactWaID == "12125550111")
        #expect(number[1].contactUserID == "US.50882013347716290584")
        #expect(number[1].previousUserID == "US.41297730581264490317")
        #expect(number[1].type == "user_changed_number")
    }

    @Test("groups: the message and the status have no contact")
    func groups() throws {
        let group = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDg0OTM3NzE5NTM"
        let (messages, _) = try Unit.normalizeFixture("variants/group-message.json")
        let m = try #require(messages.first { $0.kind == .message })
        #expect(m.groupID == group)
        #expect(m.contactWaID == nil)
        #expect(m.contactUserID == nil)
        #expect(m.username == nil)
        // The sender is kept, in extra.
        #expect(m.extra?.text.contains(#""from":"16505551234""#) == true)
        #expect(m.extra?.text.contains(#""from_user_id":"US.18402957316628475013""#) == true)

        let (statuses, _) = try Unit.normalizeFixture("variants/group-status.json")
        try #require(statuses.count == 1)
        #expect(statuses[0].kind == .status)
        #expect(statuses[0].groupID == group)
        #expect(statuses[0].contactWaID == nil)
        #expect(statuses[0].contactUserID == nil)
        #expect(statuses[0].status == "read")
        #expect(statuses[0].extra?.text.contains(#""recipient_participant_id":"16505551234""#) == true)
    }

    @Test("a status with recipient_user_id only")
    func statusRecipientUserIDOnly() throws {
        let (records, _) = try Unit.normalizeFixture("variants/status-recipient-user-id-only.json")
        let s = try #require(records.first { $0.kind == .status })
        #expect(s.contactWaID == nil)
        #expect(s.recipientID == nil)
        #expect(s.contactUserID == greenThumbBSUID)
        #expect(s.recipientUserID == greenThumbBSUID)
        #expect(s.username == "green.thumb")
        #expect(s.status == "delivered")
        #expect(s.direction == .outbound)
        #expect(s.timestamp == 1_778_576_550)
        #expect(s.extra?.text.hasPrefix(#"{"conversation":"#) == true)
    }

    @Test("a failed status keeps its errors")
    func failedStatus() throws {
        let (records, _) = try Unit.normalizeFixture("variants/status-failed-errors.json")
        try #require(records.count == 1)
        #expect(records[0].status == "failed")
        #expect(records[0].errors?.text.contains(#""code":131026"#) == true)
        #expect(records[0].contactWaID == "14155550199")
    }

    // MARK: account_update variants

    @Test("PARTNER_REMOVED with waba_info: the business is waba_info.waba_id, entry.id kept")
    func partnerRemovedWabaInfo() throws {
        let source = "partner-removed-waba-info.json"
        let (records, _) = try Unit.normalizeFixture("variants/\(source)")
        try #require(records.count == 1)
        var a = Record(kind: .accountEvent, wabaID: "403958172640285", provenance: Provenance(source: source, line: 1))
        a.entryID = "1187346502918374"
        a.timestamp = 1_778_580_000
        a.event = "PARTNER_REMOVED"
        a.reason = "PRIMARY_INACTIVITY"
        a.initiatedBy = "SYSTEM"
        a.ownerBusinessID = "2093847561029384"
        a.extra = raw(#"{"waba_info":{"waba_id":"403958172640285","owner_business_id":"2093847561029384"},"disconnection_info":{"reason":"PRIMARY_INACTIVITY","initiated_by":"SYSTEM"}}"#)
        Unit.expectRecord(records[0], a)
    }

    @Test("account_update variants", arguments: [
        ("partner-removed-user-initiated.json", wabaA, nil, Int64(1_778_580_100) as Int64?, "PARTNER_REMOVED", "USER_INITIATED" as String?, "USER" as String?),
        ("partner-added.json", "403958172640285", "1187346502918374", 1_778_490_000, "PARTNER_ADDED", nil, nil),
        ("account-offboarded-time-string.json", "862475293675413", nil, 1_778_580_200, "ACCOUNT_OFFBOARDED", nil, nil),
        ("account-reconnected-no-time.json", "862475293675413", nil, nil, "ACCOUNT_RECONNECTED", nil, nil),
        ("account-violation.json", "403958172640285", nil, 1_778_580_400, "ACCOUNT_VIOLATION", nil, nil),
        ("disabled-update.json", "403958172640285", nil, 1_778_580_500, "DISABLED_UPDATE", nil, nil),
    ] as [(String, String, String?, Int64?, String, String?, String?)])
    func accountVariants(file: String, waba: String, entry: String?, time: Int64?, event: String, reason: String?, by: String?) throws {
        let (records, _) = try Unit.normalizeFixture("variants/\(file)")
        try #require(records.count == 1)
        let r = records[0]
        #expect(r.kind == .accountEvent)
        #expect(r.wabaID == waba)
        #expect(r.entryID == entry)
        #expect(r.timestamp == time)
        #expect(r.event == event)
        #expect(r.reason == reason)
        #expect(r.initiatedBy == by)
        #expect(r.phoneNumberID == nil)
    }

    @Test("extra keys of account_update are kept")
    func accountExtras() throws {
        #expect(try Unit.normalizeFixture("variants/account-violation.json").records[0].extra?.text
            == #"{"violation_info":{"violation_type":"SCAM"}}"#)
        #expect(try Unit.normalizeFixture("variants/disabled-update.json").records[0].extra?.text
            == #"{"ban_info":{"waba_ban_state":["SCHEDULE_FOR_DISABLE"],"waba_ban_date":"2026-05-19"}}"#)
    }

    // MARK: Batched and mixed bodies

    @Test("a batched body gives every record of every entry, change and array")
    func batched() throws {
        let (records, counts) = try Unit.normalizeFixture("variants/batched.json")
        #expect(records.count == 14)
        #expect(counts.records == [.message: 7, .contact: 4, .status: 3])
        #expect(records.filter { $0.wabaID == wabaA }.count == 8)
        #expect(records.filter { $0.wabaID == "403958172640285" }.count == 6)
        #expect(records.filter { $0.wabaID == "403958172640285" }.allSatisfy { $0.phoneNumberID == "509187364528190" })
        let messages = records.filter { $0.kind == .message }
        #expect(messages.map(\.origin) == [.live, .live, .live, .echo, .echo, .live, .live])
        #expect(messages.map(\.direction) == [.inbound, .inbound, .inbound, .outbound, .outbound, .inbound, .inbound])
        #expect(messages.map(\.contactWaID) == [sheena, "14155550199", sheena, "4915798765432", "4917612345678", "4915798765432", "4917612345678"])
        #expect(Set(messages.compactMap(\.wamid)).count == 7)
        #expect(messages.map(\.type) == ["text", "text", "sticker", "text", "text", "text", "reaction"])
        #expect(messages.last?.body == "👍")
        #expect(records.filter { $0.kind == .status }.map(\.status) == ["sent", "delivered", "read"])
    }

    @Test("field history carrying messages, message_echoes and contacts")
    func historyMediaAssets() throws {
        let (records, _) = try Unit.normalizeFixture("variants/history-media-assets.json")
        try #require(records.count == 3)
        #expect(records.map(\.kind) == [.message, .message, .contact])
        #expect(records[0].historyAsset && records[1].historyAsset)
        #expect(records[0].origin == .history && records[1].origin == .history)
        #expect(records[0].direction == .inbound)
        #expect(records[1].direction == .outbound)
        #expect(records[0].type == "image")
        #expect(records[0].body == "Repotted it, look!")
        #expect(records[1].type == "document")
        #expect(records[1].body == "Care guide")
        for r in records {
            #expect(r.contactWaID == sheena)
            #expect(r.contactUserID == sheenaBSUID)
        }
        #expect(records[0].phase == nil)
    }

    @Test("echo edit and echo revoke are edits and revokes of origin echo")
    func echoEditRevoke() throws {
        let original = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBQzQTQ0RDg5NkI5N0I5NUQwNTAxRgA="
        let (edits, _) = try Unit.normalizeFixture("variants/echo-edit.json")
        try #require(edits.count == 1)
        #expect(edits[0].kind == .edit)
        #expect(edits[0].origin == .echo)
        #expect(edits[0].direction == .outbound)
        #expect(edits[0].originalMessageID == original)
        #expect(edits[0].type == "text")
        #expect(edits[0].body == "Pickup is at 5:30pm, not 5pm. See you!")
        #expect(edits[0].content?.text == #"{"body":"Pickup is at 5:30pm, not 5pm. See you!"}"#)
        #expect(edits[0].contactWaID == sheena)
        #expect(edits[0].contactUserID == sheenaBSUID)

        let (revokes, _) = try Unit.normalizeFixture("variants/echo-revoke.json")
        try #require(revokes.count == 1)
        #expect(revokes[0].kind == .revoke)
        #expect(revokes[0].origin == .echo)
        #expect(revokes[0].direction == .outbound)
        #expect(revokes[0].originalMessageID == original)
        #expect(revokes[0].contactWaID == sheena)
    }

    @Test("a messages value with only errors gives an error record of the business")
    func errorsOnly() throws {
        let source = "messages-errors-only.json"
        let (records, _) = try Unit.normalizeFixture("variants/\(source)")
        try #require(records.count == 1)
        var e = recordA(.error, source)
        e.code = 131_000
        e.title = "Something went wrong"
        e.message = "Something went wrong"
        e.details = "Something went wrong. Please try again later."
        e.extra = raw(#"{"error_data":{"details":"Something went wrong. Please try again later."}}"#)
        Unit.expectRecord(records[0], e)
    }

    @Test("unsupported 131060: a message of type unsupported and an error record with its wamid")
    func unsupported131060() throws {
        let (records, _) = try Unit.normalizeFixture("variants/unsupported-131060.json")
        try #require(records.count == 3)
        #expect(records.map(\.kind) == [.message, .error, .contact])
        #expect(records[0].type == "unsupported")
        #expect(records[0].content == nil)
        #expect(records[0].errors?.text.contains(#""code":131060"#) == true)
        #expect(records[1].code == 131_060)
        #expect(records[1].wamid == records[0].wamid)
        #expect(records[1].timestamp == records[0].timestamp)
        #expect(records[1].title == "This message is unavailable")
    }

    // MARK: Kept keys

    @Test("context, referral, forwarded flags and unknown keys are kept")
    func keptKeys() throws {
        let reply = try Unit.normalizeFixture("variants/message-reply-context.json").records[0]
        #expect(reply.replyTo == "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBQzQTQ0RDg5NkI5N0I5NUQwNTAxRgA=")
        #expect(reply.extra?.text == #"{"context":{"from":"15550783881","id":"wamid.HBgLMTY1MDU1NTEyMzQVAgARGBQzQTQ0RDg5NkI5N0I5NUQwNTAxRgA="}}"#)

        let referral = try Unit.normalizeFixture("variants/message-referral-ad.json").records[0]
        #expect(referral.extra?.text.hasPrefix(#"{"referral":{"source_url":"https://fb.me/8Kq2vLm7a","#) == true)
        #expect(referral.extra?.text.contains(#""ctwa_clid":"ARAkUt3pZ9mFq0XbV4yR1cLwT8sHnE2dK6jGvYoPi5uMa7zQ""#) == true)
        #expect(referral.extra?.text.hasSuffix(#","x_entry_point":{"surface":"ctwa","placement":"feed"}}"#) == true)
        #expect(referral.replyTo == nil)

        let forwarded = try Unit.normalizeFixture("variants/message-forwarded.json").records
        try #require(forwarded.count == 3)
        #expect(forwarded[0].extra?.text == #"{"context":{"forwarded":true}}"#)
        #expect(forwarded[1].extra?.text == #"{"context":{"forwarded":true,"frequently_forwarded":true},"message_origin_hint":"chain"}"#)
        #expect(forwarded[0].replyTo == nil)

        let resolved = try Unit.normalizeFixture("variants/unsupported-131060-resolved.json").records[0]
        #expect(resolved.type == "text")
        #expect(resolved.extra?.text.hasPrefix(#"{"referral":{"#) == true)
    }

    @Test("an edit keeps the unknown keys of both the edit message and the new message")
    func editKeepsOuterKeys() throws {
        let edit = #"{"from":"16505551234","id":"wamid.E1","timestamp":"1749854575","type":"edit","edit":{"original_message_id":"wamid.O1","message":{"context":{"id":"M0"},"type":"text","text":{"body":"new"}}},"x_outer":{"flag":true}}"#
        let (records, _) = try Unit.normalize(Unit.messagesBody("[\(edit)]"))
        let e = try #require(records.first)
        #expect(e.kind == .edit)
        #expect(e.replyTo == "M0")
        #expect(e.extra?.text.contains(#""x_outer":{"flag":true}"#) == true,
                "extra \(e.extra?.text ?? "nil") drops the edit message's own unknown key")
    }

    @Test("history_context beyond a status is kept; a status alone is the status column")
    func historyContextKept() throws {
        let thread = #"{"id":"16505551234","messages":[{"from":"16505551234","id":"wamid.H1","timestamp":"1","type":"text","text":{"body":"a"},"history_context":{"status":"READ"}},{"from":"16505551234","id":"wamid.H2","timestamp":"2","type":"text","text":{"body":"b"},"history_context":{"status":"READ","starred":true}}]}"#
        let value = #"{\#(Unit.metadataA),"history":[{"metadata":{"phase":0,"chunk_order":0,"progress":1},"threads":[\#(thread)]}]}"#
        let messages = try Unit.normalize(Unit.body(field: "history", value: value)).records.filter { $0.kind == .message }
        try #require(messages.count == 2)
        #expect(messages[0].extra == nil)
        #expect(messages[0].status == "read")
        #expect(messages[1].extra?.text == #"{"history_context":{"status":"READ","starred":true}}"#)
        #expect(messages[1].status == "read")
    }

    // MARK: Unknown is not invalid

    @Test("unknown fields are skipped and counted", arguments: [
        ("variants/unknown-field-calls.json", "calls"), ("variants/unknown-field-user-preferences.json", "user_preferences"),
    ])
    func unknownField(name: String, field: String) throws {
        let (records, counts) = try Unit.normalizeFixture(name)
        #expect(records.isEmpty)
        #expect(counts.skippedFields == [field: 1])
        #expect(counts.badRecords == 0)
    }

    @Test("unknown message types are counted and are still messages")
    func unknownType() throws {
        let (records, counts) = try Unit.normalizeFixture("variants/unknown-message-type.json")
        #expect(counts.unknownTypes == ["poll": 1])
        let m = try #require(records.first { $0.kind == .message })
        #expect(m.type == "poll")
        #expect(m.content?.text == #"{"name":"Which pot color?","options":[{"name":"Terracotta","votes":1},{"name":"White","votes":0}],"selectable_count":1}"#)
        #expect(m.body == nil)
        #expect(m.extra == nil)
    }

    @Test("counts add up over several bodies")
    func countsAdd() throws {
        var total = NormalizeCounts()
        for name in ["variants/unknown-field-calls.json", "variants/unknown-field-calls.json", "variants/unknown-message-type.json",
                     "variants/unknown-field-user-preferences.json", "variants/batched.json"] {
            total.add(try Unit.normalizeFixture(name).counts)
        }
        #expect(total.skippedFields == ["calls": 2, "user_preferences": 1])
        #expect(total.unknownTypes == ["poll": 1])
        #expect(total.records == [.message: 8, .contact: 5, .status: 3])
        #expect(total.recordTotal == 16)
    }

    @Test("interactive without an object and unsupported with {type} pass through")
    func interactiveAndUnsupported() throws {
        let (interactive, counts) = try Unit.normalizeFixture("variants/interactive-without-object.json")
        #expect(interactive[0].type == "interactive")
        #expect(interactive[0].content == nil)
        #expect(interactive[0].replyTo == "wamid.HBgLMTQxNTU1NTAxOTkVAgARGBQzQURCM0RDRTM5QkQwRTA0NEMwMgA=")
        #expect(counts.unknownTypes.isEmpty)

        let (unsupported, _) = try Unit.normalizeFixture("variants/unsupported-with-type.json")
        #expect(unsupported.map(\.kind) == [.message, .error, .contact])
        #expect(unsupported[0].type == "unsupported")
        #expect(unsupported[0].content?.text == #"{"type":"event"}"#)
        #expect(unsupported[1].code == 131_051)
    }

    @Test("a contacts message carries its array of cards as content")
    func contactsMessage() throws {
        let cards = #"[{"name":{"formatted_name":"Ana Ruiz","first_name":"Ana"},"phones":[{"phone":"+1 310 555 0187","type":"CELL","wa_id":"13105550187"}]}]"#
        let m = #"{"from":"16505551234","id":"wamid.C1","timestamp":"1768470000","type":"contacts","contacts":\#(cards)}"#
        let (records, counts) = try Unit.normalize(Unit.messagesBody("[\(m)]"))
        try #require(records.count == 1)
        #expect(records[0].kind == .message)
        #expect(records[0].type == "contacts")
        #expect(records[0].content?.text == cards)
        #expect(records[0].contactWaID == sheena)
        #expect(counts.unknownTypes.isEmpty)
    }

    @Test("history statuses of any case are lower-cased")
    func historyStatuses() throws {
        let messages = try Unit.normalizeFixture("variants/history-status-values.json").records.filter { $0.kind == .message }
        #expect(messages.map(\.status) == ["delivered", "error", "pending", "played", "read", "sent"])
        #expect(messages.map(\.direction) == [.outbound, .outbound, .outbound, .outbound, .inbound, .outbound])
        #expect(messages.map(\.messageIndex) == [0, 1, 2, 3, 4, 5])
    }

    @Test("timestamps as integers and digit strings become the same integers")
    func timestamps() throws {
        let (records, _) = try Unit.normalizeFixture("variants/timestamps-int-and-string.json")
        #expect(records.filter { $0.kind == .message }.map(\.timestamp) == [1_778_577_200, 1_778_577_201])
        #expect(records.filter { $0.kind == .status }.map(\.timestamp) == [1_778_577_202, 1_778_577_203])
        #expect(records.filter { $0.kind == .accountEvent }.map(\.timestamp) == [1_778_577_205])
    }

    @Test("a media placeholder in history and the asset that resolves it share wamid and time")
    func placeholderAndAsset() throws {
        let placeholder = try Unit.normalizeFixture("variants/media-placeholder-history.json").records
        let asset = try Unit.normalizeFixture("variants/media-placeholder-resolved.json").records
        let p = try #require(placeholder.first { $0.kind == .message })
        let a = try #require(asset.first { $0.kind == .message })
        #expect(p.type == "media_placeholder")
        #expect(p.countryCode == "US")
        #expect(p.contactUserID == sheenaBSUID)
        #expect((p.phase, p.chunkOrder, p.threadIndex, p.messageIndex) == (0, 0, 0, 0))
        #expect(a.type == "image")
        #expect(a.historyAsset)
        #expect(a.wamid == p.wamid)
        #expect(a.timestamp == p.timestamp)
        #expect(a.body == "The balcony setup")
    }

    @Test("bad records are left out and counted, the good ones kept")
    func badRecordsCounted() throws {
        let messages = #"[{"from":"1","id":"wamid.G","timestamp":"1","type":"text","text":{"body":"ok"}},{"from":"1","timestamp":"2","type":"text"}]"#
        let (records, counts) = try Unit.normalize(Unit.messagesBody(messages))
        #expect(records.map(\.wamid) == ["wamid.G"])
        #expect(counts.badRecords == 1)
    }

    @Test("the provenance given is on every record")
    func provenance() throws {
        let (records, _) = try Unit.normalize(try Unit.body("variants/batched.json"), source: "-", line: 42)
        #expect(records.allSatisfy { $0.source == "-" && $0.line == 42 && $0.provenance == Provenance(source: "-", line: 42) })
    }
}

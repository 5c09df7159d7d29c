import CoexJSON
import Testing

@testable import CoexKit

// Hand-made payloads of shapes real senders produce, breaking "the user is the side that is not
// the business" as the reference draws it. Business A is the reference's (display number
// 15550783881, phone_number_id 106540352242922); the user and ids are invented.
fileprivate let business = "15550783881"
fileprivate let phoneID = "106540352242922"
fileprivate let user = "14155550142"
fileprivate let userBSUID = "US.51820397461128374650"
fileprivate let original = "wamid.HBgLMTQxNTU1NTAxNDIVAgARGBQzQUE3QjExQ0U5MDBGMjQ0QTAwMQA="

fileprivate func metadata(display: String = business) -> String {
    #""messaging_product":"whatsapp","metadata":{"display_phone_number":"\#(display)","phone_number_id":"\#(phoneID)"}"#
}

fileprivate func echoes(_ items: String, display: String = business, extra: String = "") throws -> [Record] {
    let value = #"{\#(metadata(display: display)),"message_echoes":[\#(items)]\#(extra)}"#
    return try Unit.normalize(Unit.body(field: "smb_message_echoes", value: value)).records
}

fileprivate func history(_ threads: String, display: String = business) throws -> [Record] {
    let value = #"{\#(metadata(display: display)),"history":[{"metadata":{"phase":0,"chunk_order":1,"progress":100},"threads":[\#(threads)]}]}"#
    return try Unit.normalize(Unit.body(field: "history", value: value)).records.filter { $0.kind == .message }
}

/// No record names the business as its user: not its display number, not its phone_number_id.
fileprivate func expectNoBusinessUser(_ records: [Record], sourceLocation: SourceLocation = #_sourceLocation) {
    for r in records {
        let wa = r.contactWaID.map { String($0.filter(\.isNumber)) }
        #expect(wa != business && wa != phoneID, "\(r.kind) \(r.wamid ?? "") is filed under the business",
                sourceLocation: sourceLocation)
        #expect(r.contactWaID != "" && r.contactUserID != "", sourceLocation: sourceLocation)
    }
}

@Suite("Who is the user of a chat")
struct ChatUserTests {
    @Test("an echo with from and to swapped: the user is `from`, the echo stays outbound",
          arguments: [business, "+1 555-078-3881", "+1 (555) 078 3881"])
    func swappedEcho(display: String) throws {
        let echo = #"{"from":"\#(user)","to":"15550783881","id":"wamid.E1","timestamp":"1778580000","type":"text","text":{"body":"On my way"}}"#
        let records = try echoes(echo, display: display)
        try #require(records.count == 1)
        #expect(records[0].kind == .message)
        #expect(records[0].contactWaID == user)
        #expect(records[0].contactUserID == nil)
        #expect(records[0].origin == .echo)
        #expect(records[0].direction == .outbound)
        expectNoBusinessUser(records)
    }

    @Test("a swapped echo keeps the user's BSUID beside the user's phone")
    func swappedEchoBSUID() throws {
        let echo = #"{"from":"\#(user)","from_user_id":"\#(userBSUID)","to":"\#(business)","id":"wamid.E2","timestamp":"1778580001","type":"text","text":{"body":"Done"}}"#
        let records = try echoes(echo)
        try #require(records.count == 1)
        #expect(records[0].contactWaID == user)
        #expect(records[0].contactUserID == userBSUID)
    }

    @Test("echo edit and echo revoke with from and to swapped are the user's chat, outbound")
    func swappedEchoEditRevoke() throws {
        let edit = #"{"from":"\#(user)","to":"\#(business)","id":"wamid.EE1","timestamp":"1778580100","type":"edit","edit":{"original_message_id":"\#(original)","message":{"type":"text","text":{"body":"Open until 7pm"}}}}"#
        let revoke = #"{"from":"\#(user)","to":"\#(business)","id":"wamid.ER1","timestamp":"1778580200","type":"revoke","revoke":{"original_message_id":"\#(original)"}}"#
        let records = try echoes("\(edit),\(revoke)")
        try #require(records.count == 2)
        #expect(records.map(\.kind) == [.edit, .revoke])
        for r in records {
            #expect(r.contactWaID == user)
            #expect(r.origin == .echo)
            #expect(r.direction == .outbound)
            #expect(r.originalMessageID == original)
        }
        expectNoBusinessUser(records)
    }

    @Test("an echo whose `to` is the phone_number_id is the chat of `from`")
    func echoToPhoneNumberID() throws {
        let echo = #"{"from":"\#(user)","to":"\#(phoneID)","id":"wamid.E3","timestamp":"1778580002","type":"text","text":{"body":"Ok"}}"#
        let records = try echoes(echo)
        try #require(records.count == 1)
        #expect(records[0].contactWaID == user)
    }

    @Test("a history thread with only context.user_id: messages with from_user_id and to = business are the user's, inbound")
    func historyThreadContextUserIDOnly() throws {
        let thread = #"{"context":{"user_id":"\#(userBSUID)"},"messages":[{"from_user_id":"\#(userBSUID)","to":"+1 555-078-3881","id":"wamid.T1","timestamp":"1778500000","type":"text","text":{"body":"Is the blue one back?"},"history_context":{"status":"READ"}},{"from":"\#(business)","id":"wamid.T2","timestamp":"1778500060","type":"text","text":{"body":"Tomorrow"},"history_context":{"status":"DELIVERED"}}]}"#
        let messages = try history(thread)
        try #require(messages.count == 2)
        #expect(messages.map(\.direction) == [.inbound, .outbound])
        for m in messages {
            #expect(m.contactWaID == nil)
            #expect(m.contactUserID == userBSUID)
        }
        expectNoBusinessUser(messages)
    }

    @Test("the user of a history thread is its id, whatever a message's from/to say")
    func historyThreadIDWins() throws {
        // The user writes to the business (`to` is the business's formatted number), and a
        // business message carries only `from`: both are the thread's chat.
        let thread = #"{"id":"\#(user)","messages":[{"from":"\#(user)","to":"+15550783881","id":"wamid.T3","timestamp":"1778500100","type":"text","text":{"body":"Thanks"}},{"from":"\#(business)","to":"\#(business)","id":"wamid.T4","timestamp":"1778500200","type":"text","text":{"body":"Welcome"}}]}"#
        let messages = try history(thread)
        try #require(messages.count == 2)
        #expect(messages.map(\.direction) == [.inbound, .outbound])
        #expect(messages.map(\.contactWaID) == [user, user])
    }

    @Test("a history thread whose id is the business's number takes the user from its context")
    func historyThreadIDIsBusiness() throws {
        let thread = #"{"id":"\#(business)","context":{"wa_id":"\#(user)","user_id":"\#(userBSUID)"},"messages":[{"from":"\#(user)","id":"wamid.T5","timestamp":"1778500300","type":"text","text":{"body":"Hi"}}]}"#
        let messages = try history(thread)
        try #require(messages.count == 1)
        #expect(messages[0].contactWaID == user)
        #expect(messages[0].contactUserID == userBSUID)
    }

    @Test("a media asset of field history sent to the business is inbound and the sender's")
    func historyAssetToBusiness() throws {
        let value = #"{\#(metadata()),"messages":[{"from":"\#(user)","to":"\#(business)","id":"wamid.A1","timestamp":"1778500400","type":"image","image":{"id":"5512","mime_type":"image/jpeg"}}]}"#
        let records = try Unit.normalize(Unit.body(field: "history", value: value)).records
        try #require(records.count == 1)
        #expect(records[0].direction == .inbound)
        #expect(records[0].contactWaID == user)
    }

    @Test("a message whose only phone is the business's: the user is its BSUID")
    func onlyBusinessPhoneAndBSUID() throws {
        let message = #"[{"from":"\#(business)","from_user_id":"\#(userBSUID)","id":"wamid.L1","timestamp":"1778580300","type":"text","text":{"body":"Hello?"}}]"#
        let records = try Unit.normalize(Unit.messagesBody(message)).records
        try #require(records.count == 1)
        #expect(records[0].contactWaID == nil)
        #expect(records[0].contactUserID == userBSUID)
        #expect(records[0].direction == .inbound)
    }

    @Test("an echo whose only phone is the business's: the user is the contacts[] item, pair and all")
    func onlyBusinessPhoneAndContact() throws {
        let echo = #"{"from":"\#(business)","to":"\#(business)","id":"wamid.E4","timestamp":"1778580400","type":"text","text":{"body":"Ready for pickup"}}"#
        let contacts = #","contacts":[{"profile":{"name":"Shop"},"wa_id":"\#(business)"},{"profile":{"name":"Ana"},"wa_id":"\#(user)","user_id":"\#(userBSUID)"}]"#
        let records = try echoes(echo, extra: contacts)
        let messages = records.filter { $0.kind == .message }
        try #require(messages.count == 1)
        #expect(messages[0].contactWaID == user)
        #expect(messages[0].contactUserID == userBSUID)
        #expect(messages[0].direction == .outbound)
        // The business's own profile is not a contact: only the user's is.
        let profiles = records.filter { $0.kind == .contact }
        #expect(profiles.map(\.contactWaID) == [user])
        #expect(profiles.map(\.profileName) == ["Ana"])
        expectNoBusinessUser(records)
    }

    @Test("a status whose recipient_id is the business's number is the chat of its recipient_user_id")
    func statusRecipientIsBusiness() throws {
        let value = #"{\#(metadata()),"statuses":[{"id":"wamid.S1","status":"delivered","timestamp":"1778580500","recipient_id":"\#(business)","recipient_user_id":"\#(userBSUID)"}]}"#
        let records = try Unit.normalize(Unit.body(field: "messages", value: value)).records
        try #require(records.count == 1)
        #expect(records[0].recipientID == business)  // as received
        #expect(records[0].contactWaID == nil)
        #expect(records[0].contactUserID == userBSUID)
    }
}

import CoexJSON
import CoexEngine
import Testing

@testable import CoexKit

/// Minimal inputs from the coex-fuzz target (Sources/coex-fuzz), each breaking an invariant
/// it checks before the fix that goes with it.
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    /// coex-validate on one line, then coex-normalize on its envelope and on the raw line.
    struct Outcome {
        var validate = ValidateStage()
        var validateRejects: [Reject] = []
        var envelope = NormalizeStage()
        var envelopeRecords: [Record] = []
        var envelopeRejects: [Reject] = []
        var raw = NormalizeStage()
        var rawRecords: [Record] = []
        var rawRejects: [Reject] = []

        init(_ text: String) {
            let line = Array(text.utf8)
            let provenance = Provenance(source: "fuzz.ndjson", line: 1)
            var output = JSONWriter()
            line.withUnsafeBytes {
                validate.process($0, padded: false, provenance: provenance, output: &output, rejects: &validateRejects)
                raw.process($0, padded: false, provenance: provenance, records: &rawRecords, rejects: &rawRejects)
            }
            let envelopeLine = Array(output.bytes.dropLast())
            envelopeLine.withUnsafeBytes {
                envelope.process($0, padded: false, provenance: provenance, records: &envelopeRecords,
                                 rejects: &envelopeRejects)
            }
        }
    }

    static func messages(_ items: String) -> String {
        #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"metadata":{"phone_number_id":"1000000"},"messages":\#(items)},"field":"messages"}]}]}"#
    }

    static let text = #"{"id":"w1","timestamp":"1","type":"text","text":{"body":"a"}}"#

    @Test("a bad errors item of a revoke or edit is counted once, by coex-validate, not again by coex-normalize",
          arguments: [
              #"{"id":"w2","timestamp":"1","type":"revoke","revoke":{"original_message_id":"w1"},"errors":[1]}"#,
              #"{"id":"w2","timestamp":"1","type":"edit","edit":{"original_message_id":"w1"},"errors":[{}]}"#,
          ])
    func badErrorOfEditOrRevoke(change: String) {
        let run = Outcome(Self.messages("[\(Self.text),\(change)]"))
        #expect(run.validate.counts.valid == 1)
        #expect(run.validate.counts.rejectedRecords == 1)
        #expect(run.validateRejects.map(\.path) == ["$.entry[0].changes[0].value.messages[1].errors[0]"])
        // The envelope says one record was dropped: normalize finds that one, and rejects nothing again.
        #expect(run.envelope.counts.normalized == 1)
        #expect(run.envelope.counts.droppedUpstream == 1)
        #expect(run.envelope.counts.rejectedRecords == 0)
        #expect(run.envelopeRejects.isEmpty)
        // The raw line, validated by coex-normalize itself, to the same verdict.
        #expect(run.raw.counts.normalized == 1)
        #expect(run.raw.counts.rejectedRecords == 1)
        #expect(run.rawRejects.map(\.path) == ["$.entry[0].changes[0].value.messages[1].errors[0]"])
        #expect(run.rawRecords == run.envelopeRecords)
    }

    @Test("a good errors item of a revoke is an error record with the revoke's wamid, as for any message")
    func goodErrorOfRevoke() {
        let revoke = #"{"id":"w2","timestamp":"7","type":"revoke","revoke":{"original_message_id":"w1"},"errors":[{"code":131060,"title":"t"}]}"#
        let run = Outcome(Self.messages("[\(revoke)]"))
        #expect(run.validateRejects.isEmpty)
        let errors = run.rawRecords.filter { $0.kind == .error }
        #expect(errors.map(\.wamid) == ["w2"])
        #expect(errors.map(\.code) == [131060])
        #expect(errors.map(\.timestamp) == [7])
        #expect(run.rawRecords.map(\.kind) == [.revoke, .error])
        #expect(run.envelopeRecords == run.rawRecords)
    }
}

extension FuzzFindingsTests {
    /// A `messages` value of `count` messages from distinct users, beside `count` contacts of others.
    static func manyContacts(_ count: Int) -> String {
        let contacts = (0..<count).map { #"{"wa_id":"c\#($0)","profile":{"name":"n","username":"name\#($0)"}}"# }.joined(separator: ",")
        let messages = (0..<count).map { #"{"id":"m\#($0)","timestamp":"1","type":"text","from":"u\#($0)"}"# }
            .joined(separator: ",")
        return #"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"metadata":{"phone_number_id":"1000000"},"contacts":[\#(contacts)],"messages":[\#(messages)]},"field":"messages"}]}]}"#
    }

    /// The fuzzer's timeout (a scan of every contact for every record); speed is a benchmark's
    /// business, this pins that the indexed lookup gives every record its own contact.
    @Test("many messages beside many contacts each find their own contact")
    func manyMessagesBesideManyContacts() throws {
        let body = Self.manyContacts(600).replacingOccurrences(of: #""from":"u"#, with: #""from":"c"#)
        let result = try Unit.normalize(body)
        let messages = result.records.filter { $0.kind == .message }
        #expect(messages.count == 600)
        #expect(messages.map(\.username) == (0..<600).map { "name\($0)" })
    }
}

extension FuzzFindingsTests {
    @Test("with many contacts, a message still takes the first contact matching its wa_id or user_id")
    func manyContactsFirstMatch() throws {
        let padding = (0..<10).map { #"{"wa_id":"p\#($0)"}"# }
        let contacts = padding + [
            #"{"user_id":"US.1","profile":{"username":"by-user-id"}}"#,
            #"{"wa_id":"111","profile":{"username":"by-wa-id"}}"#,
            #"{"wa_id":"222","profile":{"username":"first"}}"#,
            #"{"wa_id":"222","profile":{"username":"second"}}"#,
        ]
        let messages = [
            #"{"id":"m1","timestamp":"1","type":"text","from":"111","from_user_id":"US.1"}"#,
            #"{"id":"m2","timestamp":"1","type":"text","from":"222"}"#,
            #"{"id":"m3","timestamp":"1","type":"text","from":"333"}"#,
        ]
        let body = Unit.messagesBody("[\(messages.joined(separator: ","))]",
                                     extra: #","contacts":[\#(contacts.joined(separator: ","))]"#)
        let records = try Unit.normalize(body).records.filter { $0.kind == .message }
        #expect(records.map(\.username) == ["by-user-id", "first", nil])
    }
}

import CoexIO
import CoexJSON
import Foundation
import Testing

@testable import CoexKit

/// What the unit suites share: fixture and sample files, an in-memory byte source,
/// and short ways to parse, validate and normalize one body.
enum Unit {
    /// Tests/CoexKitTests
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    /// The Fixtures folder copied into the test bundle (the package declares `.copy("Fixtures")`);
    /// the source folder when the bundle has none.
    static let fixtures: URL = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url }
        return testsDirectory.appendingPathComponent("Fixtures")
    }()

    static func fixtureURL(_ relative: String) -> URL { fixtures.appendingPathComponent(relative) }

    static func fixtureBytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtureURL(relative)))
    }

    /// `*.json` files of a fixture folder, sorted; `reference/history-declined.value.json` is a change
    /// value, not a body, and is left out.
    static func fixtureBodies(_ folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtureURL(folder).path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".value.json") }.sorted()
            .map { "\(folder)/\($0)" }
    }

    static let referenceBodies = fixtureBodies("reference")
    static let variantBodies = fixtureBodies("variants")

    /// A fixture body without its final LF.
    static func body(_ relative: String) throws -> [UInt8] {
        var bytes = try fixtureBytes(relative)
        while bytes.last == 0x0A || bytes.last == 0x0D { bytes.removeLast() }
        return bytes
    }

    static func sampleURL(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("samples").appendingPathComponent(name)
    }

    static func sampleBytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: sampleURL(name)))
    }

    /// Physical lines split on LF (a final LF does not start a line), CR before LF and a BOM
    /// on line 1 removed: independent of LineReader, to check it and to feed the stages.
    static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A {
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        for i in lines.indices where lines[i].last == 0x0D { lines[i].removeLast() }
        if let first = lines.first, first.starts(with: [0xEF, 0xBB, 0xBF]) { lines[0].removeFirst(3) }
        return lines
    }

    static func sampleLines(_ name: String) throws -> [[UInt8]] { splitLines(try sampleBytes(name)) }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Parses `bytes` and returns the minified JSON text (checks a parse without keeping the parser).
    static func minified(_ bytes: [UInt8]) throws -> String {
        let parser = JSONParser()
        return try parser.parse(bytes).jsonString
    }

    static func minified(_ text: String) throws -> String { try minified(Array(text.utf8)) }

    /// The validator's verdict on one body.
    static func verdict(_ bytes: [UInt8]) throws -> Verdict {
        let parser = JSONParser()
        return WebhookValidator.check(try parser.parse(bytes))
    }

    static func verdict(_ text: String) throws -> Verdict { try verdict(Array(text.utf8)) }

    /// Normalizes one body with a fresh normalizer.
    static func normalize(_ bytes: [UInt8], source: String = "test.ndjson", line: Int = 1) throws
        -> (records: [Record], counts: NormalizeCounts)
    {
        let parser = JSONParser()
        let root = try parser.parse(bytes)
        var normalizer = Normalizer()
        var records: [Record] = []
        normalizer.normalize(root, provenance: Provenance(source: source, line: line), into: &records)
        return (records, normalizer.counts)
    }

    static func normalize(_ text: String, source: String = "test.ndjson", line: Int = 1) throws
        -> (records: [Record], counts: NormalizeCounts)
    {
        try normalize(Array(text.utf8), source: source, line: line)
    }

    static func normalizeFixture(_ relative: String) throws -> (records: [Record], counts: NormalizeCounts) {
        let name = String(relative.split(separator: "/").last!)
        return try normalize(try body(relative), source: name, line: 1)
    }

    /// A webhook body holding one change of business A (the reference's business).
    static func body(field: String, value: String, entryID: String = "102290129340398", time: String? = nil) -> String {
        let timeMember = time.map { #""time":\#($0),"# } ?? ""
        return #"{"object":"whatsapp_business_account","entry":[{"id":"\#(entryID)",\#(timeMember)"changes":[{"value":\#(value),"field":"\#(field)"}]}]}"#
    }

    static let metadataA = #""messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}"#

    /// A `messages` body of business A holding `messages` (JSON array text) and optional extra value members.
    static func messagesBody(_ messages: String, extra: String = "") -> String {
        body(field: "messages", value: #"{\#(metadataA),"messages":\#(messages)\#(extra)}"#)
    }

    /// Runs a temporary directory for the duration of `body`.
    @discardableResult
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("coex-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }
}

extension Unit {
    /// A byte source over bytes in memory that hands out at most `chunk` bytes per read,
    /// to make lines and frames straddle reads.
    final class MemorySource: ByteSource {
        let name: String
        private let bytes: [UInt8]
        private var offset = 0
        private let chunk: Int
        private(set) var reads = 0

        init(_ bytes: [UInt8], name: String = "memory", chunk: Int = Int.max) {
            self.bytes = bytes
            self.name = name
            self.chunk = max(1, chunk)
        }

        convenience init(_ text: String, name: String = "memory", chunk: Int = Int.max) {
            self.init(Array(text.utf8), name: name, chunk: chunk)
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
            reads += 1
            let n = min(buffer.count, bytes.count - offset, chunk)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n)
            }
            offset += n
            return n
        }
    }

    /// A line as LineReader gives it, copied out of the reader's buffer.
    struct ReadLine: Equatable, CustomStringConvertible {
        var number: Int
        var bytes: [UInt8]
        var isBlank: Bool

        var description: String { "\(number): \(String(reflecting: String(decoding: bytes, as: UTF8.self)))" }
    }

    /// Field-by-field comparison of records, so that a failure names the field.
    static func expectRecord(
        _ actual: Record?, _ expected: Record, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let actual else {
            Issue.record("no record where \(expected.kind.rawValue) \(expected.wamid ?? "") was expected",
                         sourceLocation: sourceLocation)
            return
        }
        let a = recordFields(actual)
        let e = recordFields(expected)
        for (field, value) in e {
            let got = a.first { $0.0 == field }?.1
            #expect(got == value, "field \(field)", sourceLocation: sourceLocation)
        }
        // Catches a field the list above forgot.
        #expect(actual == expected, sourceLocation: sourceLocation)
    }

    /// Every field of a record as text ("nil" when absent), in declaration order.
    static func recordFields(_ r: Record) -> [(String, String)] {
        func s(_ v: String?) -> String { v.map { String(reflecting: $0) } ?? "nil" }
        func i<T: BinaryInteger>(_ v: T?) -> String { v.map { "\($0)" } ?? "nil" }
        return [
            ("kind", r.kind.rawValue), ("waba_id", s(r.wabaID)), ("phone_number_id", s(r.phoneNumberID)),
            ("display_phone_number", s(r.displayPhoneNumber)), ("wamid", s(r.wamid)),
            ("original_message_id", s(r.originalMessageID)), ("contact_wa_id", s(r.contactWaID)),
            ("contact_user_id", s(r.contactUserID)), ("username", s(r.username)), ("country_code", s(r.countryCode)),
            ("direction", s(r.direction?.rawValue)), ("origin", s(r.origin?.rawValue)), ("timestamp", i(r.timestamp)),
            ("type", s(r.type)), ("body", s(r.body)), ("status", s(r.status)), ("reply_to", s(r.replyTo)),
            ("phase", i(r.phase)), ("chunk_order", i(r.chunkOrder)), ("thread_index", i(r.threadIndex)),
            ("message_index", i(r.messageIndex)), ("history_asset", "\(r.historyAsset)"),
            ("content", s(r.content?.text)), ("extra", s(r.extra?.text)), ("errors", s(r.errors?.text)),
            ("recipient_id", s(r.recipientID)), ("recipient_user_id", s(r.recipientUserID)), ("action", s(r.action)),
            ("full_name", s(r.fullName)), ("first_name", s(r.firstName)), ("profile_name", s(r.profileName)),
            ("event", s(r.event)), ("reason", s(r.reason)), ("initiated_by", s(r.initiatedBy)),
            ("owner_business_id", s(r.ownerBusinessID)), ("entry_id", s(r.entryID)), ("phone_number", s(r.phoneNumber)),
            ("progress", i(r.progress)), ("threads", i(r.threadCount)), ("messages", i(r.messageCount)),
            ("code", i(r.code)), ("title", s(r.title)), ("message", s(r.message)), ("details", s(r.details)),
            ("previous_user_id", s(r.previousUserID)), ("group_id", s(r.groupID)), ("source", s(r.source)),
            ("line", "\(r.line)"),
        ]
    }

    /// Every string field of a record that is present (to check that none is empty).
    static func presentStrings(_ r: Record) -> [(String, String)] {
        let strings: [(String, String?)] = [
            ("waba_id", r.wabaID), ("phone_number_id", r.phoneNumberID), ("display_phone_number", r.displayPhoneNumber),
            ("wamid", r.wamid), ("original_message_id", r.originalMessageID), ("contact_wa_id", r.contactWaID),
            ("contact_user_id", r.contactUserID), ("username", r.username), ("country_code", r.countryCode),
            ("type", r.type), ("status", r.status), ("reply_to", r.replyTo), ("recipient_id", r.recipientID),
            ("recipient_user_id", r.recipientUserID), ("action", r.action), ("event", r.event),
            ("owner_business_id", r.ownerBusinessID), ("entry_id", r.entryID), ("phone_number", r.phoneNumber),
            ("previous_user_id", r.previousUserID), ("group_id", r.groupID),
        ]
        return strings.compactMap { name, value in value.map { (name, $0) } }
    }
}

extension LineReader {
    /// Every remaining line, copied.
    func copyAllLines() throws(IOError) -> [Unit.ReadLine] {
        var lines: [Unit.ReadLine] = []
        while let line = try next() {
            lines.append(Unit.ReadLine(number: line.number, bytes: Array(line.bytes), isBlank: line.isBlank))
        }
        return lines
    }
}


import CoexJSON
import CoexKit
import Testing

@Suite struct SignatureTests {
    // RFC 4231-style check against a published HMAC-SHA256 value (key "key").
    static let fox = Array("The quick brown fox jumps over the lazy dog".utf8)
    static let foxMAC = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"

    @Test func knownValueVerifiesInEitherCase() {
        let secrets = AppSecrets(["key"])
        #expect(secrets.check(header: "sha256=" + Self.foxMAC, body: Self.fox) == .valid(secret: 0))
        #expect(secrets.check(header: "sha256=" + Self.foxMAC.uppercased(), body: Self.fox) == .valid(secret: 0))
        #expect(secrets.header(for: Self.fox) == "sha256=" + Self.foxMAC)
    }

    @Test func wrongMissingAndMalformedSignatures() {
        let secrets = AppSecrets(["key"])
        var flipped = Self.fox
        flipped[0] ^= 1
        #expect(secrets.check(header: "sha256=" + Self.foxMAC, body: flipped) == .mismatch)
        #expect(secrets.check(header: nil, body: Self.fox) == .missing)
        #expect(secrets.check(header: Self.foxMAC, body: Self.fox) == .malformed)
        #expect(secrets.check(header: "sha1=" + Self.foxMAC, body: Self.fox) == .malformed)
        #expect(secrets.check(header: "sha256=" + Self.foxMAC.dropLast(), body: Self.fox) == .malformed)
        #expect(secrets.check(header: "sha256=" + Self.foxMAC.dropLast() + "g", body: Self.fox) == .malformed)
    }

    @Test func rotatedSecretVerifiesWithItsIndex() throws {
        let secrets = try AppSecrets.parse("# new first, then the old one\nnew-secret\n\n  key  \n")
        #expect(secrets.count == 2)
        #expect(secrets.check(header: "sha256=" + Self.foxMAC, body: Self.fox) == .valid(secret: 1))
        #expect(throws: SignatureFileError.self) { try AppSecrets.parse("\n# only a comment\n") }
    }

    /// A signature over re-serialized JSON is the classic bug: the raw bytes differ.
    @Test func signatureIsOverRawBytesNotReserializedJSON() throws {
        let raw = Array(#"{"text":"caf\u00e9 \ud83d\ude00"}"#.utf8)
        let secrets = AppSecrets(["s"])
        let header = secrets.header(for: raw)
        // A parsed value lives as long as its parser, so the parser gets a name.
        let parser = JSONParser()
        let reserialized = try parser.parse(raw).json
        #expect(reserialized != raw)
        #expect(secrets.check(header: header, body: raw).isValid)
        #expect(secrets.check(header: header, body: reserialized) == .mismatch)
    }

    @Test func verifyTokenAndConstantTimeCompare() throws {
        #expect(try verifyToken(from: "tok-123\n") == "tok-123")
        #expect(constantTimeEqual("abc", "abc"))
        #expect(!constantTimeEqual("abc", "abd"))
        #expect(!constantTimeEqual("abc", "abcd"))
    }
}

@Suite struct CapturedBodyTests {
    @Test func rawLineBreaksBecomeTabsAndComeBack() throws {
        let body = Array("{\"a\":1,\r\n \"b\":\"x\\ny\"}\n".utf8)
        var line = body
        let breaks = CapturedBody.escapeLineBreaks(&line)
        #expect(breaks == LineBreaks(lf: [8, 21], cr: [7]))
        #expect(!line.contains(0x0A) && !line.contains(0x0D))
        #expect(line.count == body.count)
        let restored = line.withUnsafeBytes { CapturedBody.restore($0, breaks: breaks) }
        #expect(restored == body)
        // The line parses to the same value as the body.
        let parser = JSONParser()
        let a = try parser.parse(line).json
        let b = try parser.parse(body).json
        #expect(a == b)
    }

    /// A raw line break inside a string makes a body invalid JSON; its line stays invalid.
    @Test func invalidBodyStaysInvalid() {
        let body = Array("{\"a\":\"two\nlines\"}".utf8)
        var line = body
        _ = CapturedBody.escapeLineBreaks(&line)
        let parser = JSONParser()
        #expect(throws: JSONParseError.self) { try parser.parse(body) }
        #expect(throws: JSONParseError.self) { try parser.parse(line) }
    }

    @Test func offsetsThatDoNotFitAreRefused() {
        let line = Array("ab\tc".utf8)
        line.withUnsafeBytes { bytes in
            #expect(CapturedBody.restore(bytes, breaks: LineBreaks(lf: [2])) == Array("ab\nc".utf8))
            #expect(CapturedBody.restore(bytes, breaks: LineBreaks(lf: [1])) == nil)
            #expect(CapturedBody.restore(bytes, breaks: LineBreaks(cr: [9])) == nil)
        }
    }

    @Test func signatureRecordRoundTrips() throws {
        let record = SignatureRecord(line: 7, receivedAt: "2026-12-07T15:41:00.123456Z", signature: "sha256=ab",
                                     bytes: 12, breaks: LineBreaks(lf: [3, 5], cr: [4]))
        var w = JSONWriter()
        record.write(to: &w)
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == #"{"line":7,"received_at":"2026-12-07T15:41:00.123456Z","signature":"sha256=ab","bytes":12,"lf":[3,5],"cr":[4]}"# + "\n")
        // A parsed value lives as long as its parser.
        let parser = JSONParser()
        let back = SignatureRecord(try parser.parse(Array(w.bytes.dropLast())))
        #expect(back == record)
        #expect(SignatureRecord(try parser.parse(#"{"line":"7"}"#)) == nil)
    }
}

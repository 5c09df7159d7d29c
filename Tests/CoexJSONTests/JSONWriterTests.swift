import CoexJSON
import Testing

/// The JSON string for `bytes` as the writer must produce it, by the plain rules of RFC 8259:
/// quote and backslash escaped, control characters as the short escapes where JSON has
/// one and as lower-case \u00XX otherwise, every other byte copied.
fileprivate func referenceQuoted(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x22]
    let hex = Array("0123456789abcdef".utf8)
    for b in bytes {
        switch b {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case 0x08: out += [0x5C, UInt8(ascii: "b")]
        case 0x0C: out += [0x5C, UInt8(ascii: "f")]
        case 0x00..<0x20: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
        default: out.append(b)
        }
    }
    out.append(0x22)
    return out
}

fileprivate func written(_ bytes: [UInt8]) -> [UInt8] {
    var w = JSONWriter()
    bytes.withUnsafeBytes { w.string($0) }
    return w.bytes
}

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("every control byte is escaped", arguments: Array(UInt8(0)...UInt8(0x1F)))
    func controlByte(byte: UInt8) throws {
        let out = written([byte])
        #expect(out == referenceQuoted([byte]))
        // No raw control byte may remain in the output.
        #expect(!out.contains { $0 < 0x20 })
        // And it reads back as the same byte.
        let parser = JSONParser()
        #expect(try parser.parse(out).stringBytes.map(Array.init) == [byte])
    }

    @Test func escapesSpelledOut() {
        let cases: [(UInt8, String)] = [
            (0x00, #""\u0000""#), (0x01, #""\u0001""#), (0x07, #""\u0007""#), (0x08, #""\b""#), (0x09, #""\t""#),
            (0x0A, #""\n""#), (0x0B, #""\u000b""#), (0x0C, #""\f""#), (0x0D, #""\r""#), (0x0E, #""\u000e""#),
            (0x1B, #""\u001b""#), (0x1F, #""\u001f""#), (0x22, #""\"""#), (0x5C, #""\\""#), (0x2F, #""/""#),
            (0x20, #"" ""#), (0x7F, "\"\u{7F}\""),
        ]
        for (byte, expected) in cases {
            #expect(Unit.text(written([byte])) == expected, "byte \(byte)")
        }
    }

    @Test("bytes from 0x20 up, but quote and backslash, are copied as they are")
    func printableAndNonASCII() throws {
        let bytes = (UInt8(0x20)...UInt8(0xFF)).filter { $0 != 0x22 && $0 != 0x5C }
        #expect(written(bytes) == [0x22] + bytes + [0x22])
        var w = JSONWriter()
        w.string("Kaffee für 4 😀 中文 \u{2028}")
        #expect(Unit.text(w.bytes) == "\"Kaffee für 4 😀 中文 \u{2028}\"")
    }

    @Test("all 256 byte values in one string")
    func allBytes() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(written(bytes) == referenceQuoted(bytes))
    }

    static let specials: [UInt8] = [0x00, 0x01, 0x0A, 0x1F, 0x22, 0x5C]
    static let fillers: [UInt8] = [0x61, 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA0, 0xE2, 0xFF]

    @Test("one byte to escape at every position of strings across the 8-byte fast path",
          arguments: specials)
    func fastPathBoundary(special: UInt8) {
        var failures = 0
        for filler in Self.fillers {
            for length in 1...33 {
                for position in 0..<length {
                    var bytes = [UInt8](repeating: filler, count: length)
                    bytes[position] = special
                    let got = written(bytes)
                    if got != referenceQuoted(bytes) {
                        failures += 1
                        if failures <= 5 {
                            Issue.record("special \(special) at \(position) of \(length) (filler \(filler)): \(Unit.text(got))")
                        }
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("two bytes to escape at every pair of positions in 2 words")
    func twoSpecials() {
        var failures = 0
        for length in [8, 9, 15, 16, 17] {
            for i in 0..<length {
                for j in i..<length {
                    var bytes = Array("abcdefghijklmnopq".utf8.prefix(length))
                    bytes[i] = 0x22
                    bytes[j] = 0x0A
                    if written(bytes) != referenceQuoted(bytes) { failures += 1 }
                }
            }
        }
        #expect(failures == 0)
    }

    @Test("strings without anything to escape are copied, whatever their length")
    func plainLengths() {
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(0x41 + $0 % 26) }
            #expect(written(bytes) == [0x22] + bytes + [0x22], "length \(length)")
        }
    }

    @Test("random strings read back as the same bytes")
    func randomRoundTrip() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let parser = JSONParser()
        let alphabet: [UInt8] = Array(0...0x7F) + Array("é😀中".utf8)
        for _ in 0..<500 {
            let length = Int(next() % 40)
            // ASCII incl. every control byte, and whole multi-byte characters, so the result is UTF-8.
            var bytes: [UInt8] = []
            for _ in 0..<length {
                let pick = Int(next() % UInt64(0x80 + 3))
                switch pick {
                case 0x80: bytes += Array("é".utf8)
                case 0x81: bytes += Array("😀".utf8)
                case 0x82: bytes += Array("中".utf8)
                default: bytes.append(alphabet[pick])
                }
            }
            let out = written(bytes)
            #expect(out == referenceQuoted(bytes))
            #expect(try parser.parse(out).stringBytes.map(Array.init) == bytes)
        }
    }

    @Test("keys are escaped like strings")
    func keys() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("plain")
        w.int(1)
        w.key("a\"b\\c\nd\u{0}")
        w.string("v")
        w.endObject()
        #expect(Unit.text(w.bytes) == #"{"plain":1,"a\"b\\c\nd\u0000":"v"}"#)
        let parser = JSONParser()
        let v = try parser.parse(w.bytes)
        #expect(v.members.map(\.key) == ["plain", "a\"b\\c\nd\u{0}"])
    }

    @Test("commas between members and elements, none after containers open")
    func structure() {
        var w = JSONWriter()
        w.beginObject()
        w.key("a")
        w.beginArray()
        w.int(1)
        w.string("x")
        w.null()
        w.bool(true)
        w.bool(false)
        w.beginObject()
        w.key("b")
        w.int(-3)
        w.endObject()
        w.beginArray()
        w.endArray()
        w.endArray()
        w.key("c")
        w.beginObject()
        w.endObject()
        w.key("d")
        w.uint(UInt64.max)
        w.key("e")
        w.double(0.5)
        w.endObject()
        #expect(Unit.text(w.bytes) == #"{"a":[1,"x",null,true,false,{"b":-3},[]],"c":{},"d":18446744073709551615,"e":0.5}"#)
    }

    @Test("optional members write nothing when absent")
    func optionalMembers() {
        var w = JSONWriter()
        w.beginObject()
        w.member("a", nil as String?)
        w.member("b", "x")
        w.member("c", nil as Int?)
        w.member("d", 5 as Int?)
        w.member("e", nil as Int64?)
        w.member("f", Int64(-6) as Int64?)
        w.rawMember("g", nil)
        w.rawMember("h", Array(#"{"k":[1]}"#.utf8))
        w.member("i", "")
        w.endObject()
        #expect(Unit.text(w.bytes) == #"{"b":"x","d":5,"f":-6,"h":{"k":[1]},"i":""}"#)
    }

    @Test("raw values, comma(), newline and reset")
    func rawCommaNewlineReset() {
        var w = JSONWriter()
        w.beginArray()
        w.comma()
        w.raw(Array("1".utf8))
        w.comma()
        w.raw(Array(#"{"a":2}"#.utf8))
        w.endArray()
        w.newline()
        w.beginObject()
        w.endObject()
        w.newline()
        #expect(Unit.text(w.bytes) == "[1,{\"a\":2}]\n{}\n")
        w.reset()
        #expect(w.bytes.isEmpty)
        w.int(3)
        #expect(Unit.text(w.bytes) == "3")
    }

    static let integers: [(Int64, String)] = [
        (0, "0"), (9, "9"), (10, "10"), (-1, "-1"), (-9, "-9"), (-10, "-10"), (1_234_567_890, "1234567890"),
        (1_778_577_200, "1778577200"), (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
    ]

    @Test(arguments: integers)
    func integer(value: Int64, expected: String) throws {
        var w = JSONWriter()
        w.int(value)
        #expect(Unit.text(w.bytes) == expected)
        let parser = JSONParser()
        #expect(try parser.parse(w.bytes).int64 == value)
    }

    @Test func unsignedIntegers() {
        for (value, expected) in [(UInt64(0), "0"), (UInt64.max, "18446744073709551615"), (UInt64(1) << 63, "9223372036854775808")] {
            var w = JSONWriter()
            w.uint(value)
            #expect(Unit.text(w.bytes) == expected)
        }
    }

    static let doubles: [(Double, String)] = [
        (0.5, "0.5"), (-2.25, "-2.25"), (1.0, "1.0"), (0.0, "0.0"), (-3.0, "-3.0"), (0.1, "0.1"),
        (1e15, "1000000000000000.0"), (1e16, "1e+16"), (1e20, "1e+20"), (1e300, "1e+300"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (Double.leastNonzeroMagnitude, "5e-324"), (123456.789, "123456.789"), (-1e-7, "-1e-07"),
    ]

    @Test("finite doubles are written so that they read back exactly", arguments: doubles)
    func double(value: Double, expected: String) throws {
        var w = JSONWriter()
        w.double(value)
        #expect(Unit.text(w.bytes) == expected)
        let parser = JSONParser()
        let back = try parser.parse(w.bytes)
        #expect(back.kind == .double)
        #expect(back.double?.bitPattern == value.bitPattern)
    }

    @Test("NaN and infinities, which JSON cannot hold, are written as null",
          arguments: [Double.nan, Double.infinity, -Double.infinity])
    func nonFinite(value: Double) throws {
        var w = JSONWriter()
        w.beginArray()
        w.double(value)
        w.int(1)
        w.endArray()
        #expect(Unit.text(w.bytes) == "[null,1]")
    }
}

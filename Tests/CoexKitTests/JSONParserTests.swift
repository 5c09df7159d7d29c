import CoexJSON
import Testing

@Suite("JSONParser and JSONValue")
struct JSONParserTests {
    // MARK: Round trips

    /// (input, the minified JSON the parser and writer give back)
    static let roundTrips: [(String, String)] = [
        (#"{"a": 1}"#, #"{"a":1}"#),
        (#"[1, -2, 3.5, true, false, null]"#, #"[1,-2,3.5,true,false,null]"#),
        (#"  { "k" : [ 1 , 2 ] , "m" : { } }  "#, #"{"k":[1,2],"m":{}}"#),
        (#""x\"y\\z""#, #""x\"y\\z""#),
        (#""\u0001\n\t\r\b\f""#, #""\u0001\n\t\r\b\f""#),
        (#""a\u0000b""#, #""a\u0000b""#),
        (#""\u001f\u007f""#, "\"\\u001f\u{7F}\""),
        (#""\/""#, #""/""#),
        (#""\u00e9\u4e2d""#, #""é中""#),
        (#""\ud83d\ude00""#, #""😀""#),
        (#""Kaffee für 4 😀 中文""#, #""Kaffee für 4 😀 中文""#),
        (#"{}"#, #"{}"#),
        (#"[]"#, #"[]"#),
        (#"[{}, [], [[]], {"a": {}}]"#, #"[{},[],[[]],{"a":{}}]"#),
        (#"{"a":1,"a":2}"#, #"{"a":1,"a":2}"#),
        (#"{"":""}"#, #"{"":""}"#),
        (#"{"k\"ey\n":"v"}"#, #"{"k\"ey\n":"v"}"#),
        (#"9223372036854775807"#, #"9223372036854775807"#),
        (#"-9223372036854775808"#, #"-9223372036854775808"#),
        (#"18446744073709551615"#, #"18446744073709551615"#),
        (#"[0, -1, 10, -10]"#, #"[0,-1,10,-10]"#),
        (#"0.1"#, #"0.1"#),
        (#"-2.5E-3"#, #"-0.0025"#),
        (#"1.5e3"#, #"1500.0"#),
        (#"1e20"#, #"1e+20"#),
        (#"1.7976931348623157e308"#, #"1.7976931348623157e+308"#),
        (#"true"#, #"true"#),
        (#"null"#, #"null"#),
        (#""s""#, #""s""#),
    ]

    @Test("parse then write gives minified JSON, and again the same", arguments: roundTrips)
    func roundTrip(input: String, expected: String) throws {
        let once = try Unit.minified(input)
        #expect(once == expected)
        #expect(try Unit.minified(once) == expected)
    }

    @Test("the whole reference history example survives a round trip unchanged but for whitespace")
    func roundTripOfAFixture() throws {
        let bytes = try Unit.body("reference/history-approved.json")
        let once = try Unit.minified(bytes)
        #expect(try Unit.minified(once) == once)
        // The reference writes ": " and ", "; nothing else differs.
        let spaced = Unit.text(bytes)
        #expect(once.count < spaced.count)
        #expect(once.contains(#""body":"Here's the info you requested! https://www.meta.com/quest/quest-3/""#))
        #expect(once.hasPrefix(#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":"#))
    }

    // MARK: Strings

    static let unescaped: [(String, [UInt8])] = [
        (#""\u0001""#, [0x01]),
        (#""\u0000""#, [0x00]),
        (#""a\u0000b""#, [0x61, 0x00, 0x62]),
        (#""a\nb""#, [0x61, 0x0A, 0x62]),
        (#""\"""#, [0x22]),
        (#""\\""#, [0x5C]),
        (#""\/""#, [0x2F]),
        (#""\b\f\r\t""#, [0x08, 0x0C, 0x0D, 0x09]),
        (#""é""#, [0xC3, 0xA9]),
        (#""\u00E9""#, [0xC3, 0xA9]),
        (#""\ud83d\ude00""#, [0xF0, 0x9F, 0x98, 0x80]),
        (#""😀""#, [0xF0, 0x9F, 0x98, 0x80]),
        (#""""#, []),
    ]

    @Test("string values are unescaped to their UTF-8 bytes", arguments: unescaped)
    func stringBytes(input: String, expected: [UInt8]) throws {
        let parser = JSONParser()
        let value = try parser.parse(input)
        #expect(value.kind == .string)
        #expect(value.isString)
        #expect(value.stringBytes.map(Array.init) == expected)
        #expect(value.string == String(decoding: expected, as: UTF8.self))
        #expect(value.nonEmptyString == (expected.isEmpty ? nil : String(decoding: expected, as: UTF8.self)))
    }

    // MARK: Numbers

    @Test func integers() throws {
        let parser = JSONParser()
        let v = try parser.parse("[-42, 0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551615]")
        let e = Array(v.elements)
        try #require(e.count == 6)
        #expect(e[0].kind == .int)
        #expect(e[0].int64 == -42)
        #expect(e[0].double == -42)
        #expect(e[1].int64 == 0)
        #expect(e[2].kind == .int)
        #expect(e[2].int64 == Int64.max)
        #expect(e[3].int64 == Int64.min)
        // Above Int64.max: an unsigned 64-bit integer, not an Int64.
        #expect(e[4].kind == .uint)
        #expect(e[4].int64 == nil)
        #expect(e[4].double == 9_223_372_036_854_775_808.0)
        #expect(e[5].kind == .uint)
        #expect(e[5].int64 == nil)
        #expect(e[5].double == Double(UInt64.max))
        #expect(e[5].jsonString == "18446744073709551615")
        for x in e { #expect(x.kind.name == "number") }
        #expect(e[0].string == nil)
        #expect(e[0].bool == nil)
    }

    @Test func doubles() throws {
        let parser = JSONParser()
        let v = try parser.parse("[3.25, -0.5, 1e2, 1E-2, 2.5e+3]")
        let e = Array(v.elements)
        try #require(e.count == 5)
        for x in e { #expect(x.kind == .double) }
        #expect(e.map(\.double) == [3.25, -0.5, 100, 0.01, 2500])
        // A double is never an integer, not even an integral one.
        #expect(e[2].int64 == nil)
        #expect(e[0].int64 == nil)
    }

    @Test("a number beyond double (1e400) is an error: badNumber")
    func exponentOverflow() throws {
        let parser = JSONParser()
        #expect(throws: JSONParseError.self) { try parser.parse("1e400") }
        do {
            _ = try parser.parse(#"{"time":1e400}"#)
            Issue.record("1e400 parsed")
        } catch {
            guard case .badNumber = error else {
                Issue.record("1e400 gave \(error), expected .badNumber")
                return
            }
            #expect(error.description.hasPrefix("number out of range or malformed"))
        }
    }

    @Test("an integer beyond 64 bits (99999999999999999999999) is an error, not a silent double",
          arguments: ["99999999999999999999999", "-99999999999999999999999", "18446744073709551616"])
    func integerOverflow(number: String) throws {
        let parser = JSONParser()
        do {
            let v = try parser.parse(#"{"timestamp":\#(number)}"#)
            Issue.record("\(number) parsed as \(v.jsonString)")
        } catch {
            guard case .badNumber = error else {
                Issue.record("\(number) gave \(error), expected .badNumber")
                return
            }
        }
    }

    // MARK: Errors

    /// simdjson's limit of 1024 levels counts the innermost value: 1024 empty arrays in one
    /// another parse, 1024 arrays around a number do not.
    @Test("nesting within the limit parses", arguments: [1, 64, 1000, 1023])
    func deepNesting(depth: Int) throws {
        let parser = JSONParser()
        let text = String(repeating: "[", count: depth) + "7" + String(repeating: "]", count: depth)
        var value = try parser.parse(text)
        for _ in 0..<depth {
            #expect(value.count == 1)
            value = try #require(value.elements.first(where: { _ in true }))
        }
        #expect(value.int64 == 7)
        #expect(try Unit.minified(text) == text)
        let empty = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        #expect(try Unit.minified(empty) == empty)
    }

    @Test("nesting beyond 1024 levels is tooDeep", arguments: [1025, 1100, 5000])
    func tooDeep(depth: Int) throws {
        let parser = JSONParser()
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: JSONParseError.tooDeep) { try parser.parse(arrays) }
        let objects = String(repeating: #"{"a":"#, count: depth - 1) + "1" + String(repeating: "}", count: depth - 1)
        #expect(throws: JSONParseError.tooDeep) { try parser.parse(objects) }
        let number = String(repeating: "[", count: depth - 1) + "1" + String(repeating: "]", count: depth - 1)
        #expect(throws: JSONParseError.tooDeep) { try parser.parse(number) }
        #expect(JSONParseError.tooDeep.description == "JSON nested deeper than 1024 levels")
    }

    static let invalidUTF8Cases: [[UInt8]] = [
        [0xFF],  // never valid
        [0xFF, 0xFE],
        [0x80],  // lone continuation byte
        [0xC3],  // truncated 2-byte sequence (followed by the closing quote)
        [0xC0, 0xAE, 0xC0, 0xAE],  // overlong '..'
        [0xE0, 0x80, 0xAF],  // overlong '/'
        [0xED, 0xA0, 0xBD],  // UTF-16 surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xF8, 0x88, 0x80, 0x80, 0x80],  // 5-byte form
    ]

    @Test("invalid UTF-8 in a string value or key is invalidUTF8", arguments: invalidUTF8Cases)
    func invalidUTF8(bad: [UInt8]) throws {
        let parser = JSONParser()
        let inValue = Array(#"{"text":{"body":"Kaffee "#.utf8) + bad + Array(#""}}"#.utf8)
        #expect(throws: JSONParseError.invalidUTF8) { try parser.parse(inValue) }
        let inKey = Array(#"{"k"#.utf8) + bad + Array(#"":1}"#.utf8)
        #expect(throws: JSONParseError.invalidUTF8) { try parser.parse(inKey) }
        #expect(JSONParseError.invalidUTF8.description == "not valid UTF-8")
    }

    @Test("every proper prefix of a real body is an error, never a value")
    func truncatedBodies() throws {
        let parser = JSONParser()
        let bytes = try Unit.body("reference/history-approved.json")
        #expect(try parser.parse(bytes).isObject)
        var failures = 0
        for length in 0..<bytes.count {
            do {
                _ = try parser.parse(Array(bytes[..<length]))
                failures += 1
                Issue.record("prefix of \(length) bytes parsed")
            } catch {
                if error == .invalidUTF8 || error == .tooDeep { Issue.record("prefix \(length): \(error)") }
            }
            if failures > 3 { break }
        }
    }

    static let notJSONCases: [String] = [
        "", "   ", #"{"a":"#, #"{"a":1"#, "[1,2", #""abc"#, "tru", "nul", #"{"a" 1}"#, "[1,]", "{,}",
        #"{"a":1}}"#, "{} {}", "this is not json, it is a log line: POST /webhook 200", "{'a':1}", "[01]",
        "[1.]", "[-]", #"{"a":NaN}"#, "[Infinity]",
    ]

    @Test("text that is not one JSON value is an error", arguments: notJSONCases)
    func notJSON(text: String) throws {
        let parser = JSONParser()
        #expect(throws: JSONParseError.self) { try parser.parse(text) }
    }

    @Test func errorDescriptions() {
        #expect(JSONParseError.badNumber("x").description == "number out of range or malformed (x)")
        #expect(JSONParseError.invalidJSON("y").description == "not valid JSON (y)")
        #expect(JSONParseError.outOfMemory.description == "out of memory while parsing")
    }

    // MARK: Parser use

    @Test("a padded parse reads the same as a copying one")
    func paddedParse() throws {
        let parser = JSONParser()
        let bytes = try Unit.body("reference/edit.json")
        let expected = try parser.parse(bytes).jsonString
        var padded = bytes + [UInt8](repeating: 0, count: JSONParser.padding)
        // Garbage after the body must not be read as part of it.
        for i in bytes.count..<padded.count { padded[i] = UInt8(ascii: "}") }
        let got = try padded.withUnsafeBytes { buffer in
            try parser.parse(UnsafeRawBufferPointer(rebasing: buffer[..<bytes.count]), padded: true).jsonString
        }
        #expect(got == expected)
        #expect(JSONParser.padding >= 64)
    }

    @Test("one parser parses many documents in turn")
    func parserReuse() throws {
        let parser = JSONParser()
        for name in Unit.referenceBodies {
            let bytes = try Unit.body(name)
            let value = try parser.parse(bytes)
            #expect(value["object"]?.string == "whatsapp_business_account", "\(name)")
        }
        // An error in between leaves the parser usable.
        #expect(throws: JSONParseError.self) { try parser.parse("{") }
        #expect(try parser.parse(#"{"x":[1,2]}"#)["x"]?.count == 2)
    }

    @Test func emptyInputViaBuffer() throws {
        let parser = JSONParser()
        #expect(throws: JSONParseError.self) { try parser.parse(UnsafeRawBufferPointer(start: nil, count: 0)) }
        #expect(throws: JSONParseError.self) { try parser.parse([UInt8]()) }
    }

    // MARK: Access

    @Test("subscript finds members by key; anything else gives nil")
    func subscripts() throws {
        let parser = JSONParser()
        let v = try parser.parse(#"{"b":1,"a":[1,2,3],"c":{"d":null},"":"empty","é":"x","a2":{"a":"inner"}}"#)
        #expect(v.isObject)
        #expect(v.kind == .object)
        #expect(v.count == 6)
        #expect(v["b"]?.int64 == 1)
        #expect(v["a"]?.count == 3)
        #expect(v["a"]?.isArray == true)
        #expect(v["c"]?["d"]?.isNull == true)
        #expect(v["c"]?["d"]?.kind == .null)
        #expect(v[""]?.string == "empty")
        #expect(v["é"]?.string == "x")
        #expect(v[dynamicKey: "é"]?.string == "x")
        #expect(v[dynamicKey: ""]?.string == "empty")
        #expect(v[dynamicKey: "a2"]?["a"]?.string == "inner")
        // A key of a nested object is not a member of the outer one.
        #expect(v["d"] == nil)
        #expect(v["zz"] == nil)
        #expect(v[dynamicKey: "zz"] == nil)
        // Prefixes and extensions of a key are other keys.
        #expect(v["a2"]?.isObject == true)
        #expect(v["a"]?.isArray == true)
        #expect(v["b "] == nil)
        // Subscripts of non-objects.
        #expect(v["a"]?["0"] == nil)
        #expect(v["b"]?["x"] == nil)
        #expect(v["a"]?[dynamicKey: "x"] == nil)
    }

    @Test("duplicate keys: the subscript gives the first, members give all")
    func duplicateKeys() throws {
        let parser = JSONParser()
        let v = try parser.parse(#"{"a":1,"b":true,"a":2}"#)
        #expect(v["a"]?.int64 == 1)
        #expect(v[dynamicKey: "a"]?.int64 == 1)
        #expect(v.count == 3)
        #expect(v.members.map(\.key) == ["a", "b", "a"])
        #expect(v.members.map { $0.value.jsonString } == ["1", "true", "2"])
    }

    @Test("members and elements walk past nested values in document order")
    func membersAndElements() throws {
        let parser = JSONParser()
        let v = try parser.parse(#"[{"a":[1,{"b":2}],"c":"d"}, 5, "x", [[], [1.5]], null, false, -7, 18446744073709551615]"#)
        let e = Array(v.elements)
        #expect(e.map(\.kind) == [.object, .int, .string, .array, .null, .bool, .int, .uint])
        #expect(v.count == 8)
        #expect(e[1].int64 == 5)
        #expect(e[2].string == "x")
        #expect(e[3].elements.map(\.count) == [0, 1])
        #expect(e[3].elements.map(\.jsonString) == ["[]", "[1.5]"])
        #expect(e[5].bool == false)
        #expect(e[6].int64 == -7)
        let members = Array(e[0].members)
        #expect(members.map(\.key) == ["a", "c"])
        #expect(members[0].keyEquals("a"))
        #expect(!members[0].keyEquals("c"))
        #expect(members[0].value.jsonString == #"[1,{"b":2}]"#)
        #expect(members[1].value.stringEquals("d"))
        #expect(!members[1].value.stringEquals("dd"))
        #expect(e[0]["a"]?.elements.map(\.kind) == [.int, .object])
        // Elements of an object and members of an array are empty.
        #expect(Array(e[0].elements).isEmpty)
        #expect(Array(v.members).isEmpty)
        #expect(Array(e[1].elements).isEmpty)
        #expect(Array(e[2].members).isEmpty)
        #expect(e[1].count == 0)
        #expect(e[2].count == 0)
    }

    @Test func emptyContainers() throws {
        let parser = JSONParser()
        let v = try parser.parse(#"{"o":{},"a":[],"s":""}"#)
        #expect(v["o"]?.count == 0)
        #expect(v["o"]?.isObject == true)
        #expect(Array(v["o"]!.members).isEmpty)
        #expect(v["a"]?.count == 0)
        #expect(Array(v["a"]!.elements).isEmpty)
        #expect(v["s"]?.string == "")
        #expect(v["s"]?.nonEmptyString == nil)
        #expect(v["o"]?.jsonString == "{}")
        #expect(v["a"]?.jsonString == "[]")
    }

    @Test("count of a large array (bigger than a tape word can hold is not tested: 16M elements)")
    func countOfLargeArray() throws {
        let parser = JSONParser()
        let n = 100_000
        let text = "[" + Array(repeating: "1", count: n).joined(separator: ",") + "]"
        let v = try parser.parse(text)
        #expect(v.count == n)
        #expect(v.elements.reduce(0) { $0 + Int($1.int64 ?? 0) } == n)
    }

    @Test func booleansAndNull() throws {
        let parser = JSONParser()
        let v = try parser.parse("[true,false,null]")
        let e = Array(v.elements)
        #expect(e.map(\.bool) == [true, false, nil])
        #expect(e.map(\.kind) == [.bool, .bool, .null])
        #expect(e.map(\.isNull) == [false, false, true])
        #expect(e.map(\.kind.name) == ["boolean", "boolean", "null"])
        #expect(JSONKind.string.name == "string")
        #expect(JSONKind.array.name == "array")
        #expect(JSONKind.object.name == "object")
        #expect(e[0].int64 == nil)
        #expect(e[2].double == nil)
        #expect(e[2].string == nil)
        #expect(e[2].stringBytes == nil)
    }
}

import CSimdJSON

/// Why a line is not a JSON document, in words a user can act on.
public enum JSONParseError: Error, Equatable, CustomStringConvertible {
    case invalidUTF8
    case tooDeep
    case badNumber(String)
    case invalidJSON(String)
    case outOfMemory

    public var description: String {
        switch self {
        case .invalidUTF8: "not valid UTF-8"
        case .tooDeep: "JSON nested deeper than 1024 levels"
        case .badNumber(let detail): "number out of range or malformed (\(detail))"
        case .invalidJSON(let detail): "not valid JSON (\(detail))"
        case .outOfMemory: "out of memory while parsing"
        }
    }
}

/// Owns one simdjson parser. A parsed document borrows the parser's memory, so
/// values from `parse` are valid only until the next `parse` on the same parser.
public final class JSONParser {
    /// Bytes that must be readable after the input for a zero-copy parse.
    public static let padding = Int(COEX_JSON_PADDING)

    private let handle: OpaquePointer

    public init() {
        guard let handle = coex_json_parser_new() else {
            // Allocation of a few hundred bytes failed: nothing sensible can continue.
            preconditionFailure("cannot allocate a JSON parser")
        }
        self.handle = handle
    }

    deinit { coex_json_parser_free(handle) }

    /// Parses `bytes`; `padded` promises `JSONParser.padding` readable bytes after them.
    public func parse(_ bytes: UnsafeRawBufferPointer, padded: Bool = false) throws(JSONParseError) -> JSONValue {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let code: Int32
        if let base {
            code = coex_json_parse(handle, base, bytes.count, padded ? 1 : 0)
        } else {
            var empty: UInt8 = 0
            code = coex_json_parse(handle, &empty, 0, 0)
        }
        if code != 0 {
            if coex_json_error_is_utf8(code) != 0 { throw .invalidUTF8 }
            if coex_json_error_is_depth(code) != 0 { throw .tooDeep }
            let message = String(cString: coex_json_error_message(code))
            if coex_json_error_is_number(code) != 0 { throw .badNumber(message) }
            if code == 2 { throw .outOfMemory }  // simdjson MEMALLOC
            throw .invalidJSON(message)
        }
        var tape: UnsafePointer<UInt64>?
        var strings: UnsafePointer<UInt8>?
        coex_json_document(handle, &tape, &strings)
        return JSONValue(tape: tape!, strings: strings!, index: 1)
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var result: Result<JSONValue, JSONParseError>!
        bytes.withUnsafeBytes { buffer in
            do throws(JSONParseError) { result = .success(try parse(buffer)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

public enum JSONKind: Sendable, Equatable {
    case null, bool, int, uint, double, string, array, object

    public var name: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .uint, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A value inside a parsed document: an index into simdjson's tape. Cheap to
/// copy; valid until the parser that made it parses again.
public struct JSONValue {
    @usableFromInline let tape: UnsafePointer<UInt64>
    @usableFromInline let strings: UnsafePointer<UInt8>
    @usableFromInline let index: Int

    @usableFromInline init(tape: UnsafePointer<UInt64>, strings: UnsafePointer<UInt8>, index: Int) {
        self.tape = tape
        self.strings = strings
        self.index = index
    }

    // Tape type characters.
    @usableFromInline static let object: UInt8 = 0x7B  // {
    @usableFromInline static let array: UInt8 = 0x5B  // [
    @usableFromInline static let string: UInt8 = 0x22  // "
    @usableFromInline static let int64: UInt8 = 0x6C  // l
    @usableFromInline static let uint64: UInt8 = 0x75  // u
    @usableFromInline static let double: UInt8 = 0x64  // d
    @usableFromInline static let trueValue: UInt8 = 0x74  // t
    @usableFromInline static let falseValue: UInt8 = 0x66  // f
    @usableFromInline static let null: UInt8 = 0x6E  // n

    @inlinable var word: UInt64 { tape[index] }
    @inlinable var tag: UInt8 { UInt8(truncatingIfNeeded: tape[index] >> 56) }

    /// The tape index just past this value.
    @inlinable var after: Int { Self.after(tape, index) }

    @inlinable static func after(_ tape: UnsafePointer<UInt64>, _ i: Int) -> Int {
        let word = tape[i]
        switch UInt8(truncatingIfNeeded: word >> 56) {
        case object, array: return Int(UInt32(truncatingIfNeeded: word))
        case int64, uint64, double: return i + 2
        default: return i + 1
        }
    }

    @inlinable static func stringAt(_ tape: UnsafePointer<UInt64>, _ strings: UnsafePointer<UInt8>, _ i: Int)
        -> UnsafeRawBufferPointer
    {
        let offset = Int(tape[i] & 0x00FF_FFFF_FFFF_FFFF)
        let start = UnsafeRawPointer(strings + offset)
        let length = Int(start.loadUnaligned(as: UInt32.self))
        return UnsafeRawBufferPointer(start: start + 4, count: length)
    }

    public var kind: JSONKind {
        switch tag {
        case Self.null: .null
        case Self.trueValue, Self.falseValue: .bool
        case Self.int64: .int
        case Self.uint64: .uint
        case Self.double: .double
        case Self.string: .string
        case Self.array: .array
        default: .object
        }
    }

    @inlinable public var isObject: Bool { tag == Self.object }
    @inlinable public var isArray: Bool { tag == Self.array }
    @inlinable public var isString: Bool { tag == Self.string }
    @inlinable public var isNull: Bool { tag == Self.null }

    /// Number of elements of an array or members of an object; 0 otherwise.
    public var count: Int {
        let t = tag
        guard t == Self.object || t == Self.array else { return 0 }
        let stored = Int((word >> 32) & 0xFF_FFFF)
        if stored < 0xFF_FFFF { return stored }
        // The tape saturates the count; count by walking.
        var n = 0
        var i = index + 1
        let end = Int(UInt32(truncatingIfNeeded: word)) - 1
        while i < end {
            if t == Self.object { i += 1 }
            i = Self.after(tape, i)
            n += 1
        }
        return n
    }

    public var bool: Bool? {
        switch tag {
        case Self.trueValue: true
        case Self.falseValue: false
        default: nil
        }
    }

    /// The value as a signed 64-bit integer when it is an integer that fits.
    @inlinable public var int64: Int64? {
        switch tag {
        case Self.int64: return Int64(bitPattern: tape[index + 1])
        case Self.uint64:
            let u = tape[index + 1]
            return u <= UInt64(Int64.max) ? Int64(u) : nil
        default: return nil
        }
    }

    public var double: Double? {
        switch tag {
        case Self.int64: return Double(Int64(bitPattern: tape[index + 1]))
        case Self.uint64: return Double(tape[index + 1])
        case Self.double: return Double(bitPattern: tape[index + 1])
        default: return nil
        }
    }

    /// The UTF-8 bytes of a string value (unescaped), borrowed from the parser.
    @inlinable public var stringBytes: UnsafeRawBufferPointer? {
        guard tag == Self.string else { return nil }
        return Self.stringAt(tape, strings, index)
    }

    public var string: String? {
        guard let bytes = stringBytes else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A string value that is not empty, else nil: ids are never empty keys.
    public var nonEmptyString: String? {
        guard let bytes = stringBytes, !bytes.isEmpty else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inlinable public func stringEquals(_ other: StaticString) -> Bool {
        guard let bytes = stringBytes else { return false }
        return Self.equal(bytes, other)
    }

    /// Keys are short: a byte loop beats a call to memcmp.
    @inlinable static func sameBytes(_ a: UnsafeRawPointer?, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        guard let a else { return count == 0 }
        var i = 0
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b[i] { return false }
            i += 1
        }
        return true
    }

    @inlinable static func equal(_ bytes: UnsafeRawBufferPointer, _ other: StaticString) -> Bool {
        guard bytes.count == other.utf8CodeUnitCount else { return false }
        return sameBytes(bytes.baseAddress, other.utf8Start, bytes.count)
    }

    /// The member named `key` of an object (the first, if repeated), else nil.
    @inlinable public subscript(key: StaticString) -> JSONValue? {
        let w = word
        guard UInt8(truncatingIfNeeded: w >> 56) == Self.object else { return nil }
        var i = index + 1
        let end = Int(UInt32(truncatingIfNeeded: w)) - 1
        let keyLength = key.utf8CodeUnitCount
        while i < end {
            let k = Self.stringAt(tape, strings, i)
            if k.count == keyLength && Self.sameBytes(k.baseAddress, key.utf8Start, keyLength) {
                return JSONValue(tape: tape, strings: strings, index: i + 1)
            }
            i = Self.after(tape, i + 1)
        }
        return nil
    }

    /// The member named `key` (a runtime string, e.g. a message's `type`).
    public subscript(dynamicKey key: String) -> JSONValue? {
        var key = key
        return key.withUTF8 { keyBytes in
            let w = word
            guard UInt8(truncatingIfNeeded: w >> 56) == Self.object else { return nil }
            var i = index + 1
            let end = Int(UInt32(truncatingIfNeeded: w)) - 1
            while i < end {
                let k = Self.stringAt(tape, strings, i)
                if k.count == keyBytes.count
                    && (keyBytes.isEmpty || memcmp(k.baseAddress!, keyBytes.baseAddress!, keyBytes.count) == 0)
                {
                    return JSONValue(tape: tape, strings: strings, index: i + 1)
                }
                i = Self.after(tape, i + 1)
            }
            return nil
        }
    }

    /// Elements of an array (empty for anything else).
    public var elements: Elements { Elements(value: self) }

    /// Members of an object in document order (empty for anything else).
    public var members: Members { Members(value: self) }

    public struct Elements: Sequence {
        let value: JSONValue
        public struct Iterator: IteratorProtocol {
            let tape: UnsafePointer<UInt64>
            let strings: UnsafePointer<UInt8>
            var i: Int
            let end: Int
            public mutating func next() -> JSONValue? {
                guard i < end else { return nil }
                let v = JSONValue(tape: tape, strings: strings, index: i)
                i = JSONValue.after(tape, i)
                return v
            }
        }
        public func makeIterator() -> Iterator {
            let w = value.word
            let isArray = UInt8(truncatingIfNeeded: w >> 56) == JSONValue.array
            let end = isArray ? Int(UInt32(truncatingIfNeeded: w)) - 1 : value.index + 1
            return Iterator(tape: value.tape, strings: value.strings, i: value.index + 1, end: end)
        }
    }

    public struct Member {
        public let keyBytes: UnsafeRawBufferPointer
        public let value: JSONValue
        public var key: String { String(decoding: keyBytes, as: UTF8.self) }
        public func keyEquals(_ other: StaticString) -> Bool { JSONValue.equal(keyBytes, other) }
    }

    public struct Members: Sequence {
        let value: JSONValue
        public struct Iterator: IteratorProtocol {
            let tape: UnsafePointer<UInt64>
            let strings: UnsafePointer<UInt8>
            var i: Int
            let end: Int
            public mutating func next() -> Member? {
                guard i < end else { return nil }
                let key = JSONValue.stringAt(tape, strings, i)
                let v = JSONValue(tape: tape, strings: strings, index: i + 1)
                i = JSONValue.after(tape, i + 1)
                return Member(keyBytes: key, value: v)
            }
        }
        public func makeIterator() -> Iterator {
            let w = value.word
            let isObject = UInt8(truncatingIfNeeded: w >> 56) == JSONValue.object
            let end = isObject ? Int(UInt32(truncatingIfNeeded: w)) - 1 : value.index + 1
            return Iterator(tape: value.tape, strings: value.strings, i: value.index + 1, end: end)
        }
    }

    /// Writes the value as minified JSON (keys in document order).
    public func write(to writer: inout JSONWriter) {
        var i = index
        writeValue(&i, &writer)
    }

    private func writeValue(_ i: inout Int, _ w: inout JSONWriter) {
        let word = tape[i]
        switch UInt8(truncatingIfNeeded: word >> 56) {
        case Self.null: w.null(); i += 1
        case Self.falseValue: w.bool(false); i += 1
        case Self.trueValue: w.bool(true); i += 1
        case Self.int64: w.int(Int64(bitPattern: tape[i + 1])); i += 2
        case Self.uint64: w.uint(tape[i + 1]); i += 2
        case Self.double: w.double(Double(bitPattern: tape[i + 1])); i += 2
        case Self.string: w.string(Self.stringAt(tape, strings, i)); i += 1
        case Self.array:
            w.beginArray()
            let end = Int(UInt32(truncatingIfNeeded: word)) - 1
            i += 1
            while i < end {
                w.comma()
                writeValue(&i, &w)
            }
            w.endArray()
            i = end + 1
        default:
            w.beginObject()
            let end = Int(UInt32(truncatingIfNeeded: word)) - 1
            i += 1
            while i < end {
                w.key(Self.stringAt(tape, strings, i))
                i += 1
                writeValue(&i, &w)
            }
            w.endObject()
            i = end + 1
        }
    }

    /// The value as minified JSON bytes.
    public var json: [UInt8] {
        var w = JSONWriter()
        write(to: &w)
        return w.bytes
    }

    public var jsonString: String { String(decoding: json, as: UTF8.self) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether two byte ranges hold the same bytes (memcmp: the generic `elementsEqual` costs
/// a few percent of a stage when it runs per member or per line).
@inlinable public func equalBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// Whether `a` holds exactly the UTF-8 bytes of `text`.
@inlinable public func equalBytes(_ a: UnsafeRawBufferPointer, _ text: String) -> Bool {
    var text = text
    return text.withUTF8 { equalBytes(a, UnsafeRawBufferPointer($0)) }
}

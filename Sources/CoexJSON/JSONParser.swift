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
        var count = 0
        let nodes = coex_json_nodes(handle, &count)!
        return JSONValue(nodes: UnsafeBufferPointer(start: nodes, count: count), index: 0)
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

/// A value inside a parsed document. Cheap to copy; valid until the parser that
/// made it parses again.
public struct JSONValue {
    @usableFromInline let nodes: UnsafeBufferPointer<coex_json_node>
    @usableFromInline let index: Int

    @usableFromInline init(nodes: UnsafeBufferPointer<coex_json_node>, index: Int) {
        self.nodes = nodes
        self.index = index
    }

    @inlinable var node: coex_json_node { nodes[index] }

    public var kind: JSONKind {
        switch Int(node.type) {
        case COEX_JSON_NULL: .null
        case COEX_JSON_FALSE, COEX_JSON_TRUE: .bool
        case COEX_JSON_INT64: .int
        case COEX_JSON_UINT64: .uint
        case COEX_JSON_DOUBLE: .double
        case COEX_JSON_STRING: .string
        case COEX_JSON_ARRAY: .array
        default: .object
        }
    }

    public var isObject: Bool { Int(node.type) == COEX_JSON_OBJECT }
    public var isArray: Bool { Int(node.type) == COEX_JSON_ARRAY }
    public var isString: Bool { Int(node.type) == COEX_JSON_STRING }
    public var isNull: Bool { Int(node.type) == COEX_JSON_NULL }

    /// Number of elements of an array or members of an object; 0 otherwise.
    public var count: Int {
        let type = Int(node.type)
        return type == COEX_JSON_ARRAY || type == COEX_JSON_OBJECT ? Int(node.len) : 0
    }

    public var bool: Bool? {
        switch Int(node.type) {
        case COEX_JSON_TRUE: true
        case COEX_JSON_FALSE: false
        default: nil
        }
    }

    /// The value as a signed 64-bit integer when it is an integer that fits.
    public var int64: Int64? {
        let n = node
        switch Int(n.type) {
        case COEX_JSON_INT64: return n.v.i
        case COEX_JSON_UINT64: return n.v.u <= UInt64(Int64.max) ? Int64(n.v.u) : nil
        default: return nil
        }
    }

    public var double: Double? {
        let n = node
        switch Int(n.type) {
        case COEX_JSON_INT64: return Double(n.v.i)
        case COEX_JSON_UINT64: return Double(n.v.u)
        case COEX_JSON_DOUBLE: return n.v.d
        default: return nil
        }
    }

    /// The UTF-8 bytes of a string value (unescaped), borrowed from the parser.
    @inlinable public var stringBytes: UnsafeRawBufferPointer? {
        let n = node
        guard Int(n.type) == COEX_JSON_STRING else { return nil }
        return UnsafeRawBufferPointer(start: n.v.s, count: Int(n.len))
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

    public func stringEquals(_ other: StaticString) -> Bool {
        guard let bytes = stringBytes else { return false }
        return Self.equal(bytes, other)
    }

    @inlinable static func equal(_ bytes: UnsafeRawBufferPointer, _ other: StaticString) -> Bool {
        guard bytes.count == other.utf8CodeUnitCount else { return false }
        if bytes.isEmpty { return true }
        return memcmp(bytes.baseAddress!, other.utf8Start, bytes.count) == 0
    }

    /// The member named `key` of an object (the first, if repeated), else nil.
    @inlinable public subscript(key: StaticString) -> JSONValue? {
        let n = node
        guard Int(n.type) == COEX_JSON_OBJECT else { return nil }
        var i = index + 1
        let end = Int(n.end)
        let keyLength = key.utf8CodeUnitCount
        while i < end {
            let k = nodes[i]
            if Int(k.len) == keyLength && (keyLength == 0 || memcmp(k.v.s, key.utf8Start, keyLength) == 0) {
                return JSONValue(nodes: nodes, index: i + 1)
            }
            i = Int(nodes[i + 1].end)
        }
        return nil
    }

    /// The member named `key` (a runtime string, e.g. a message's `type`).
    public subscript(dynamicKey key: String) -> JSONValue? {
        var key = key
        return key.withUTF8 { keyBytes in
            let n = node
            guard Int(n.type) == COEX_JSON_OBJECT else { return nil }
            var i = index + 1
            let end = Int(n.end)
            while i < end {
                let k = nodes[i]
                if Int(k.len) == keyBytes.count
                    && (keyBytes.isEmpty || memcmp(k.v.s, keyBytes.baseAddress!, keyBytes.count) == 0)
                {
                    return JSONValue(nodes: nodes, index: i + 1)
                }
                i = Int(nodes[i + 1].end)
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
            let nodes: UnsafeBufferPointer<coex_json_node>
            var i: Int
            let end: Int
            public mutating func next() -> JSONValue? {
                guard i < end else { return nil }
                let v = JSONValue(nodes: nodes, index: i)
                i = Int(nodes[i].end)
                return v
            }
        }
        public func makeIterator() -> Iterator {
            let n = value.node
            let isArray = Int(n.type) == COEX_JSON_ARRAY
            return Iterator(nodes: value.nodes, i: value.index + 1, end: isArray ? Int(n.end) : value.index + 1)
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
            let nodes: UnsafeBufferPointer<coex_json_node>
            var i: Int
            let end: Int
            public mutating func next() -> Member? {
                guard i < end else { return nil }
                let k = nodes[i]
                let v = JSONValue(nodes: nodes, index: i + 1)
                i = Int(nodes[i + 1].end)
                return Member(keyBytes: UnsafeRawBufferPointer(start: k.v.s, count: Int(k.len)), value: v)
            }
        }
        public func makeIterator() -> Iterator {
            let n = value.node
            let isObject = Int(n.type) == COEX_JSON_OBJECT
            return Iterator(nodes: value.nodes, i: value.index + 1, end: isObject ? Int(n.end) : value.index + 1)
        }
    }

    /// Writes the value as minified JSON (keys in document order).
    public func write(to writer: inout JSONWriter) {
        var i = index
        writeNode(&i, &writer)
    }

    private func writeNode(_ i: inout Int, _ w: inout JSONWriter) {
        let n = nodes[i]
        switch Int(n.type) {
        case COEX_JSON_NULL: w.null(); i += 1
        case COEX_JSON_FALSE: w.bool(false); i += 1
        case COEX_JSON_TRUE: w.bool(true); i += 1
        case COEX_JSON_INT64: w.int(n.v.i); i += 1
        case COEX_JSON_UINT64: w.uint(n.v.u); i += 1
        case COEX_JSON_DOUBLE: w.double(n.v.d); i += 1
        case COEX_JSON_STRING:
            w.string(UnsafeRawBufferPointer(start: n.v.s, count: Int(n.len))); i += 1
        case COEX_JSON_ARRAY:
            w.beginArray()
            i += 1
            let end = Int(n.end)
            while i < end {
                w.comma()
                writeNode(&i, &w)
            }
            w.endArray()
        default:
            w.beginObject()
            i += 1
            let end = Int(n.end)
            while i < end {
                let k = nodes[i]
                w.key(UnsafeRawBufferPointer(start: k.v.s, count: Int(k.len)))
                i += 1
                writeNode(&i, &w)
            }
            w.endObject()
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

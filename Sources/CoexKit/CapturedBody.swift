import CoexJSON

/// How `coex capture` stores a body as one line, and gets the exact body back.
///
/// A capture line is the body exactly as received, except that each raw line break
/// (CR or LF byte) becomes a TAB. TAB and the line breaks are alike to JSON: whitespace
/// between tokens, and forbidden unescaped inside strings. So the line parses to the same
/// value as the body when the body is JSON, and fails to parse when the body does not,
/// and the line holds no line break. The signature file keeps the offsets of the
/// replaced bytes, which gives back the body byte for byte for the signature check.
public enum CapturedBody {
    /// Replaces CR and LF in `body` by TAB; returns where each was.
    public static func escapeLineBreaks(_ body: inout [UInt8]) -> LineBreaks {
        var breaks = LineBreaks()
        guard body.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return breaks }
        for i in body.indices {
            if body[i] == 0x0A {
                breaks.lf.append(i)
                body[i] = 0x09
            } else if body[i] == 0x0D {
                breaks.cr.append(i)
                body[i] = 0x09
            }
        }
        return breaks
    }

    /// The body a capture line was made from, or nil when the offsets do not fit the line
    /// (an offset past its end, or a byte there that is not the TAB put in its place).
    public static func restore(_ line: UnsafeRawBufferPointer, breaks: LineBreaks) -> [UInt8]? {
        var body = Array(line)
        for (offsets, byte) in [(breaks.lf, UInt8(0x0A)), (breaks.cr, UInt8(0x0D))] {
            for i in offsets {
                guard i >= 0, i < body.count, body[i] == 0x09 else { return nil }
                body[i] = byte
            }
        }
        return body
    }
}

/// Offsets of the raw line breaks of a body, which its capture line holds as TABs.
public struct LineBreaks: Sendable, Equatable {
    public var lf: [Int] = []
    public var cr: [Int] = []
    public init(lf: [Int] = [], cr: [Int] = []) {
        self.lf = lf
        self.cr = cr
    }
    public var isEmpty: Bool { lf.isEmpty && cr.isEmpty }
}

/// One line of a signature file (`NAME.sig` beside `NAME.ndjson`): what the receiver
/// knew of capture line `line` of its file.
///
///     {"line":1,"received_at":"2026-12-07T15:41:00.123456Z","signature":"sha256=…","bytes":1834}
///
/// `lf` and `cr` (arrays of byte offsets) appear only for a body with raw line breaks.
public struct SignatureRecord: Sendable, Equatable {
    public var line: Int
    /// UTC, ISO 8601 with microseconds: when the whole body had arrived.
    public var receivedAt: String
    /// The `X-Hub-Signature-256` header as received.
    public var signature: String
    /// The body's length in bytes (the line's, too: a TAB stands in for each break).
    public var bytes: Int
    public var breaks: LineBreaks

    public init(line: Int, receivedAt: String, signature: String, bytes: Int, breaks: LineBreaks = LineBreaks()) {
        self.line = line
        self.receivedAt = receivedAt
        self.signature = signature
        self.bytes = bytes
        self.breaks = breaks
    }

    /// The record as one NDJSON line, newline included.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("line"); w.int(line)
        w.key("received_at"); w.string(receivedAt)
        w.key("signature"); w.string(signature)
        w.key("bytes"); w.int(bytes)
        if !breaks.lf.isEmpty { w.key("lf"); Self.write(breaks.lf, to: &w) }
        if !breaks.cr.isEmpty { w.key("cr"); Self.write(breaks.cr, to: &w) }
        w.endObject()
        w.newline()
    }

    private static func write(_ offsets: [Int], to w: inout JSONWriter) {
        w.beginArray()
        for o in offsets { w.int(o) }
        w.endArray()
    }

    /// Reads a record; nil when a member is missing or of the wrong type.
    public init?(_ value: JSONValue) {
        guard value.isObject, let line = value["line"]?.int64, let receivedAt = value["received_at"]?.string,
              let signature = value["signature"]?.string, let bytes = value["bytes"]?.int64
        else { return nil }
        var breaks = LineBreaks()
        for (key, into) in [("lf", \LineBreaks.lf), ("cr", \LineBreaks.cr)] {
            guard let list = value[dynamicKey: key] else { continue }
            guard list.isArray else { return nil }
            for e in list.elements {
                guard let o = e.int64 else { return nil }
                breaks[keyPath: into].append(Int(o))
            }
        }
        self.init(line: Int(line), receivedAt: receivedAt, signature: signature, bytes: Int(bytes), breaks: breaks)
    }
}

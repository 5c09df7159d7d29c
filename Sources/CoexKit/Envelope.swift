import CoexJSON

/// How a validated line travels between stages:
/// `{"source":"night1.ndjson","line":12,"dropped":N,"body":{...the webhook as captured...}}`.
/// `body` holds the line's bytes unchanged (less a BOM and CR); `dropped`, present when
/// records of the line were rejected, counts them (each reject names its path).
public enum Envelope {
    public static func write(provenance: Provenance, dropped: Int, body: UnsafeRawBufferPointer, to w: inout JSONWriter) {
        w.beginObject()
        w.key("source"); w.string(provenance.source)
        w.key("line"); w.int(provenance.line)
        if dropped > 0 { w.key("dropped"); w.int(dropped) }
        w.key("body"); w.raw(body)
        w.endObject()
    }

    /// Everything of an envelope before the body's bytes; `tail` follows them.
    public static func writeHead(provenance: Provenance, dropped: Int, to w: inout JSONWriter) {
        w.beginObject()
        w.key("source"); w.string(provenance.source)
        w.key("line"); w.int(provenance.line)
        if dropped > 0 { w.key("dropped"); w.int(dropped) }
        w.key("body")
    }

    /// What follows the body's bytes: the closing brace and the newline.
    public static let tail: [UInt8] = [UInt8(ascii: "}"), 0x0A]

    /// The envelope's parts, or nil when `root` is not an envelope (a raw webhook body).
    public static func read(_ root: JSONValue) -> (provenance: Provenance, body: JSONValue, dropped: Int)? {
        guard root.isObject, root["object"] == nil, let body = root["body"],
            let source = root["source"]?.string, let line = root["line"]?.int64
        else { return nil }
        return (Provenance(source: source, line: Int(line)), body, Int(root["dropped"]?.int64 ?? 0))
    }
}

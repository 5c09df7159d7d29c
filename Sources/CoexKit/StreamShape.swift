import CoexJSON

/// What kind of stream a line belongs to, judged from its first JSON object: a stage fed
/// another stage's stream (a capture into coex-load, records into coex-validate) is told so
/// before it turns every line into a reject.
public enum StreamShape: Sendable, Equatable, CustomStringConvertible {
    /// A webhook body as captured: `{"object":..., "entry":[...]}`.
    case webhook
    /// coex-validate's output: `{"source":..., "line":..., "body":{...}}`.
    case envelope
    /// coex-normalize's output and every stage's after it: `{"kind":..., "waba_id":...}`.
    case record
    /// Not JSON, or JSON of none of those shapes: left to the stage to reject line by line.
    case unknown

    public init(_ value: JSONValue) {
        guard value.isObject else {
            self = .unknown
            return
        }
        if value["kind"]?.isString == true && value["waba_id"] != nil {
            self = .record
        } else if value["body"] != nil && value["source"] != nil && value["line"] != nil {
            self = .envelope
        } else if value["object"] != nil || value["entry"] != nil {
            self = .webhook
        } else {
            self = .unknown
        }
    }

    /// Classifies one line; `nil` when the line is blank (it says nothing).
    /// (The line reader has taken a byte order mark off line 1 already.)
    public static func of(line bytes: UnsafeRawBufferPointer, parser: JSONParser) -> StreamShape? {
        if isBlank(bytes) { return nil }
        guard let value = try? parser.parse(bytes) else { return .unknown }
        return StreamShape(value)
    }

    public var description: String {
        switch self {
        case .webhook: "a raw webhook body (a capture)"
        case .envelope: "an envelope (coex-validate's output)"
        case .record: "a coex record (coex-normalize's output or a later stage's)"
        case .unknown: "not a known stream"
        }
    }

    /// Where a stream of this shape goes, for the message of a stage it was fed to by mistake.
    public var nextStage: String {
        switch self {
        case .webhook: "a capture starts with coex-validate (or coex-normalize, which validates raw bodies), or is imported whole by coex import"
        case .envelope: "envelopes go to coex-normalize"
        case .record: "records go on through coex-dedupe | coex-order | coex-apply | coex-load"
        case .unknown: "a capture starts with coex-validate"
        }
    }
}

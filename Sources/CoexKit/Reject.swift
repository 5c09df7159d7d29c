import CoexJSON
import Foundation

/// A line, or one record of a line, that a stage could not use. The raw bytes
/// are kept exactly so the line can be fixed and replayed.
public struct Reject: Sendable, Equatable {
    public var provenance: Provenance
    public var stage: String
    public var reason: String
    /// JSON path of the bad record when the rest of its line was good.
    public var path: String?
    public var raw: [UInt8]

    public init(provenance: Provenance, stage: String, reason: String, path: String? = nil, raw: [UInt8]) {
        self.provenance = provenance
        self.stage = stage
        self.reason = reason
        self.path = path
        self.raw = raw
    }

    /// `{source, line, stage, reason, path, raw | raw_base64}` as one JSON object.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("source"); w.string(provenance.source)
        w.key("line"); w.int(provenance.line)
        w.key("stage"); w.string(stage)
        w.key("reason"); w.string(reason)
        if let path { w.key("path"); w.string(path) }
        if let text = String(validating: raw, as: UTF8.self) {
            w.key("raw"); w.string(text)
        } else {
            w.key("raw_base64"); w.string(Data(raw).base64EncodedString())
        }
        w.endObject()
    }

    /// `SOURCE:LINE: error: [PATH: ]REASON`, for stderr when no rejects file is given.
    public var message: String {
        let location = path.map { "\($0): " } ?? ""
        let where_ = path != nil && reason.hasPrefix(path!) ? "" : location
        return "\(provenance.source):\(provenance.line): error: \(where_)\(reason)"
    }
}

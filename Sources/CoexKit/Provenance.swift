/// Where a line came from: the input name as given ("-" for stdin) and its
/// 1-based physical line number (blank lines and the BOM line count).
public struct Provenance: Sendable, Hashable {
    public var source: String
    public var line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }

    public var description: String { "\(source):\(line)" }
}

import CoexIO
import CoexJSON
#if canImport(Glibc)
import Glibc
#endif

/// Record lines end to end in one buffer (each followed by a newline, as a stage writes
/// them): a business's records as `coex import` gathers them, in memory or on file.
struct RecordLines {
    private(set) var bytes: [UInt8] = []
    /// Where each line ends (its newline).
    private(set) var ends: [Int] = []

    var count: Int { ends.count }
    var byteCount: Int { bytes.count }
    /// The memory the lines take (arrays grow ahead of their contents).
    var footprint: Int { bytes.capacity + ends.capacity * MemoryLayout<Int>.stride }

    init() {}

    /// The lines of an NDJSON block (each ending in a newline), as a stage writes them.
    init(ndjson block: [UInt8]) {
        bytes = block
        ends = Self.newlines(in: block)
    }

    /// Adds one line written by `body` (without its newline).
    mutating func appendLine(_ body: (inout [UInt8]) -> Void) {
        body(&bytes)
        ends.append(bytes.count)
        bytes.append(0x0A)
    }

    private static func newlines(in bytes: [UInt8]) -> [Int] {
        var found: [Int] = []
        bytes.withUnsafeBytes { all in
            guard let base = all.baseAddress else { return }
            var at = 0
            while at < all.count, let hit = memchr(base + at, 0x0A, all.count - at) {
                let index = base.distance(to: UnsafeRawPointer(hit))
                found.append(index)
                at = index + 1
            }
        }
        return found
    }

    /// Calls `body` with every line, each one followed by at least `JSONParser.padding`
    /// readable bytes, so that it can be parsed in place.
    mutating func withLines<T>(_ body: ([UnsafeRawBufferPointer]) throws -> T) rethrows -> T {
        // In place, not on a copy: a business's lines can be tens of megabytes.
        bytes.append(contentsOf: repeatElement(0, count: JSONParser.padding))
        defer { bytes.removeLast(JSONParser.padding) }
        let ends = self.ends
        return try bytes.withUnsafeBytes { all in
            var lines: [UnsafeRawBufferPointer] = []
            lines.reserveCapacity(ends.count)
            var start = 0
            for end in ends {
                lines.append(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end + 1
            }
            return try body(lines)
        }
    }

    /// Reads a file of `size` bytes written by `write(to:)`, into a buffer of just that
    /// size and the padding (a business's lines can be tens of megabytes).
    static func read(_ path: String, size: Int) throws(IOError) -> RecordLines {
        let source = try FileSource(path: path)
        // Room for the padding `withLines` adds, so that it never reallocates.
        var bytes = [UInt8](repeating: 0, count: size + JSONParser.padding)
        bytes.removeLast(JSONParser.padding)
        var filled = 0
        while filled < size {
            let read = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(IOError) in try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])) }
            }
            let n = try read.get()
            guard n > 0 else { throw .readFailed(path: path, reason: "ends after \(filled) of \(size) bytes") }
            filled += n
        }
        return RecordLines(ndjson: bytes)
    }

    func write(to sink: OutputSink) throws(IOError) {
        try sink.write(bytes)
    }
}

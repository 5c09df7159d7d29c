/// Reads exact byte counts from a source through a large buffer (length-prefixed spill files).
public final class BufferedReader {
    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var finished = false

    public init(source: ByteSource, capacity: Int = 1 << 20) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: capacity)
    }

    /// The next `count` bytes appended to `out`; false at a clean end of input.
    public func read(_ count: Int, into out: inout [UInt8]) throws(IOError) -> Bool {
        var needed = count
        while needed > 0 {
            if start == end {
                if finished { break }
                try refill()
                continue
            }
            let n = min(needed, end - start)
            out.append(contentsOf: buffer[start..<(start + n)])
            start += n
            needed -= n
        }
        if needed == 0 { return true }
        if needed == count { return false }
        throw .readFailed(path: source.name, reason: "file ends inside a record (truncated spill file?)")
    }

    private func refill() throws(IOError) {
        start = 0
        end = 0
        var failure: IOError?
        let n = buffer.withUnsafeMutableBytes { raw -> Int in
            do throws(IOError) { return try source.read(into: raw) } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        if n == 0 { finished = true }
        end = n
    }
}

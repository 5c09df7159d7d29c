#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoexJSON

/// One physical line: its bytes (no line ending, no BOM) and 1-based number.
/// The bytes are borrowed and valid until the next call to `next()`; at least
/// `JSONParser.padding` readable bytes follow them, so they parse without a copy.
public struct Line {
    public let bytes: UnsafeRawBufferPointer
    public let number: Int

    public init(bytes: UnsafeRawBufferPointer, number: Int) {
        self.bytes = bytes
        self.number = number
    }

    /// Empty or only spaces and tabs.
    public var isBlank: Bool {
        for byte in bytes where byte != 0x20 && byte != 0x09 { return false }
        return true
    }
}

/// Splits a byte source into lines, reading large blocks and never holding more
/// than the longest line plus one block.
public final class LineReader {
    public static let blockSize = 1 << 20

    private let source: ByteSource
    public var name: String { source.name }
    private var buffer: UnsafeMutableRawBufferPointer
    /// Usable bytes; `buffer` has `JSONParser.padding` more after them.
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var scanned = 0
    private var finished = false
    private var lineNumber = 0
    public private(set) var bytesRead = 0

    public init(source: ByteSource, blockSize: Int = LineReader.blockSize) {
        self.source = source
        capacity = max(blockSize, 64) * 2
        buffer = Self.resize(nil, to: capacity)
    }

    deinit { free(buffer.baseAddress) }

    /// malloc/realloc rather than allocate-and-copy: glibc grows a large block in place
    /// (mremap), so a huge line never needs the old and the new buffer at once, and
    /// untouched pages cost no memory. The padding past the end is zeroed.
    private static func resize(_ old: UnsafeMutableRawBufferPointer?, to capacity: Int) -> UnsafeMutableRawBufferPointer {
        guard let raw = realloc(old?.baseAddress, capacity + JSONParser.padding) else {
            // Out of memory for a line buffer: nothing sensible can continue.
            preconditionFailure("cannot allocate \(capacity) bytes for a line")
        }
        (raw + capacity).initializeMemory(as: UInt8.self, repeating: 0, count: JSONParser.padding)
        return UnsafeMutableRawBufferPointer(start: raw, count: capacity + JSONParser.padding)
    }

    public func next() throws(IOError) -> Line? {
        while true {
            if let newline = findNewline() {
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = makeLine(from: start, to: lineEnd)
                start = newline + 1
                scanned = start
                return line
            }
            scanned = end
            if finished {
                guard start < end else { return nil }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = makeLine(from: start, to: lineEnd)
                start = end
                scanned = end
                return line
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        guard scanned < end else { return nil }
        let base = buffer.baseAddress!
        guard let hit = memchr(base + scanned, 0x0A, end - scanned) else { return nil }
        return base.distance(to: hit)
    }

    private func makeLine(from lineStart: Int, to lineEnd: Int) -> Line {
        lineNumber += 1
        var from = lineStart
        // A UTF-8 byte order mark is an editor artefact, not content.
        if lineNumber == 1 && lineEnd - from >= 3 && buffer[from] == 0xEF && buffer[from + 1] == 0xBB
            && buffer[from + 2] == 0xBF
        {
            from += 3
        }
        return Line(bytes: UnsafeRawBufferPointer(rebasing: buffer[from..<lineEnd]), number: lineNumber)
    }

    /// Makes room (moving the partial line to the front, growing for long lines) and reads a block.
    private func fill() throws(IOError) {
        if start > 0 {
            let pending = end - start
            if pending > 0 {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pending)
            }
            scanned -= start
            end = pending
            start = 0
        }
        let blockSize = capacity / 2
        if capacity - end < blockSize {
            capacity *= 2
            buffer = Self.resize(buffer, to: capacity)
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<capacity]))
        if n == 0 { finished = true }
        end += n
        bytesRead += n
    }

    /// After a very long line the buffer may have grown; shrink it back when it is idle.
    public func shrinkIfLarge(limit: Int = 16 << 20) {
        guard capacity > limit, end - start < LineReader.blockSize else { return }
        let pending = end - start
        if pending > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pending) }
        capacity = LineReader.blockSize * 2
        buffer = Self.resize(buffer, to: capacity)
        scanned -= start
        end = pending
        start = 0
    }
}

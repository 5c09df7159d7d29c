/// Bytes appended in chunks that never move: growing never copies what is there
/// (a doubling array would copy it, and need twice the memory while it does), and
/// a slot's address stays valid until `removeAll` or the arena's end.
public final class ByteArena {
    public struct Slot: Sendable {
        public var chunk: Int32
        public var offset: UInt32
        public var length: Int
    }

    public static let defaultChunkSize = 16 << 20
    public let chunkSize: Int
    private var chunks: [UnsafeMutableRawBufferPointer] = []
    private var used = 0
    /// Bytes of all chunks, used or not (what the arena costs in memory).
    public private(set) var capacity = 0
    public private(set) var count = 0

    /// `chunkSize`: smaller chunks for small memory budgets.
    public init(chunkSize: Int = ByteArena.defaultChunkSize) {
        self.chunkSize = max(4096, chunkSize)
    }

    deinit { removeAll() }

    /// Appends the parts one after the other as one slot.
    @discardableResult
    public func append(_ parts: UnsafeRawBufferPointer...) -> Slot {
        let length = parts.reduce(0) { $0 + $1.count }
        if chunks.isEmpty || used + length > chunks[chunks.count - 1].count {
            let size = max(chunkSize, length)
            chunks.append(.allocate(byteCount: max(size, 1), alignment: 16))
            capacity += size
            used = 0
        }
        let chunk = chunks[chunks.count - 1]
        let offset = used
        for part in parts where !part.isEmpty {
            (chunk.baseAddress! + used).copyMemory(from: part.baseAddress!, byteCount: part.count)
            used += part.count
        }
        count += length
        return Slot(chunk: Int32(chunks.count - 1), offset: UInt32(offset), length: length)
    }

    @discardableResult
    public func append(_ bytes: [UInt8]) -> Slot {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The slot's bytes, in place.
    public func bytes(_ slot: Slot) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: chunks[Int(slot.chunk)].baseAddress! + Int(slot.offset), count: slot.length)
    }

    public func removeAll() {
        for chunk in chunks { chunk.deallocate() }
        chunks = []
        used = 0
        capacity = 0
        count = 0
    }
}

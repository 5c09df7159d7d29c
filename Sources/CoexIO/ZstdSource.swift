import CZstd

/// Decompresses a zstd stream (one or more concatenated frames) from another source.
public final class ZstdSource: ByteSource {
    public var name: String { inner.name }
    private let inner: ByteSource
    private let stream: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private var inputPosition = 0
    private var inputEnd = 0
    private var innerFinished = false
    private var sawInput = false
    private var midFrame = false

    public init(wrapping inner: ByteSource) throws(IOError) {
        self.inner = inner
        guard let stream = ZSTD_createDStream() else {
            throw .zstd(path: inner.name, reason: "cannot allocate a decoder")
        }
        self.stream = stream
        ZSTD_initDStream(stream)
        input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if inputPosition == inputEnd && !innerFinished {
                inputEnd = try inner.read(into: input)
                inputPosition = 0
                if inputEnd == 0 { innerFinished = true } else { sawInput = true }
            }
            // Called even with no input left: the decoder may still hold output.
            var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: inputEnd, pos: inputPosition)
            var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let hint = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw .zstd(path: name, reason: String(cString: ZSTD_getErrorName(hint)))
            }
            let progressed = inBuffer.pos > inputPosition || outBuffer.pos > 0
            inputPosition = inBuffer.pos
            // A hint of 0 means a frame just ended; anything else that the frame goes on.
            if progressed { midFrame = hint != 0 }
            if outBuffer.pos > 0 { return outBuffer.pos }
            if inputPosition == inputEnd && innerFinished {
                if midFrame && sawInput { throw .truncatedZstd(path: name) }
                return 0
            }
        }
    }
}

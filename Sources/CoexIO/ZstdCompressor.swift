import CZstd

/// Compresses a file to a zstd file (one frame), the counterpart of `ZstdSource`.
public final class ZstdCompressor {
    private let context: OpaquePointer
    private let level: Int32

    public init(level: Int32 = 3) throws(IOError) {
        guard let context = ZSTD_createCCtx() else { throw .zstd(path: "-", reason: "cannot allocate an encoder") }
        self.context = context
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Writes `source` compressed to `destination` (created, never replaced) and syncs it.
    /// Returns the compressed size.
    @discardableResult
    public func compress(_ source: String, to destination: String) throws(IOError) -> Int {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        let input = try FileSource(path: source)
        let out = try DurableFile(appendingTo: destination, exclusive: true)
        let inSize = ZSTD_CStreamInSize()
        let outSize = ZSTD_CStreamOutSize()
        let inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: inSize, alignment: 16)
        let outBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: outSize, alignment: 16)
        defer {
            inBuffer.deallocate()
            outBuffer.deallocate()
        }
        while true {
            let n = try input.read(into: inBuffer)
            let last = n == 0
            var zin = ZSTD_inBuffer(src: inBuffer.baseAddress, size: n, pos: 0)
            while true {
                var zout = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: outSize, pos: 0)
                let remaining = ZSTD_compressStream2(context, &zout, &zin, last ? ZSTD_e_end : ZSTD_e_continue)
                if ZSTD_isError(remaining) != 0 {
                    throw .zstd(path: destination, reason: String(cString: ZSTD_getErrorName(remaining)))
                }
                try out.append(UnsafeRawBufferPointer(rebasing: outBuffer[0..<zout.pos]))
                if last ? remaining == 0 : zin.pos == zin.size { break }
            }
            if last { break }
        }
        try out.sync()
        out.close()
        return out.size
    }
}

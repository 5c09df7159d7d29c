import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One archive member as it is produced: written to a file in the export's work directory
/// through a fixed buffer, hashed (SHA-256) and counted on the way, so that a member of any
/// size costs the same memory. The archive is assembled from these files at the end, once
/// the manifest (which lists every member's size and sum) can be written first.
final class StagedFile {
    /// The member's name inside the archive.
    let entryPath: String
    /// Where the bytes are staged.
    let filePath: String
    private(set) var bytes: Int64 = 0
    private var hasher = SHA256()
    private var buffer: [UInt8] = []
    private var fd: Int32
    private static let flushSize = 1 << 18

    init(entryPath: String, filePath: String) throws(ExportError) {
        self.entryPath = entryPath
        self.filePath = filePath
        fd = open(filePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotWrite(path: filePath, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(Self.flushSize + 4096)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func write(_ data: [UInt8]) throws(ExportError) {
        buffer.append(contentsOf: data)
        if buffer.count >= Self.flushSize { try flush() }
    }

    func write(_ text: String) throws(ExportError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.flushSize { try flush() }
    }

    private func flush() throws(ExportError) {
        guard !buffer.isEmpty else { return }
        hasher.update(data: buffer)
        bytes += Int64(buffer.count)
        let failure: Int32? = buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw .cannotWrite(path: filePath, reason: String(cString: strerror(failure))) }
    }

    /// Writes what is buffered, closes the file and returns the member's manifest entry.
    func finish() throws(ExportError) -> StagedMember {
        try flush()
        let rc = close(fd)
        fd = -1
        if rc != 0 { throw .cannotWrite(path: filePath, reason: String(cString: strerror(errno))) }
        return StagedMember(entryPath: entryPath, filePath: filePath, bytes: bytes, sha256: hex(hasher.finalize()))
    }

    /// The manifest entry of a file written by someone else (the database snapshot), read in chunks.
    static func member(entryPath: String, hashing filePath: String) throws(ExportError) -> StagedMember {
        let fd = open(filePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotWrite(path: filePath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var total: Int64 = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: filePath, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            chunk.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
        }
        return StagedMember(entryPath: entryPath, filePath: filePath, bytes: total, sha256: hex(hasher.finalize()))
    }
}

/// A finished member: its name, where its bytes are, its size and SHA-256 (lower-case hex).
struct StagedMember {
    var entryPath: String
    var filePath: String
    var bytes: Int64
    var sha256: String
}

func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in digest {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

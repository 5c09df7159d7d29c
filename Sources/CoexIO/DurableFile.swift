#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written with write(2) and made durable with fsync(2), for files whose bytes must
/// be on disk before something is acknowledged (capture files). Unbuffered: every
/// `append` is one write of all its bytes.
public final class DurableFile {
    public let path: String
    private var fd: Int32
    /// Bytes in the file (as far as this writer knows).
    public private(set) var size: Int

    /// Opens `path` for appending, creating it (and not replacing it) when `create` is set.
    public init(appendingTo path: String, create: Bool = true, exclusive: Bool = false) throws(IOError) {
        var flags = O_WRONLY | O_APPEND | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoText()
            Glibc.close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        self.path = path
        self.fd = fd
        size = Int(info.st_size)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: errnoText())
            }
            offset += n
            size += n
        }
    }

    public func append(_ bytes: [UInt8]) throws(IOError) {
        try bytes.withBytes { buffer throws(IOError) in try append(buffer) }
    }

    /// Data and size on disk (fdatasync: the size is metadata it does flush).
    public func sync() throws(IOError) {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw .writeFailed(path: path, reason: "fdatasync: \(errnoText())")
        }
    }

    /// Cuts the file back to `length` bytes (after a failed write, the bytes past the last
    /// durable line must not stay).
    public func truncate(to length: Int) throws(IOError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw .writeFailed(path: path, reason: "ftruncate: \(errnoText())") }
        size = length
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Makes the directory entries in `directory` (a new, renamed or removed file) durable.
    public static func syncDirectory(_ directory: String) throws(IOError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: directory, reason: errnoText()) }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw .writeFailed(path: directory, reason: "fsync: \(errnoText())") }
    }

    /// rename(2): atomic within one file system.
    public static func rename(_ from: String, to: String) throws(IOError) {
        guard Glibc.rename(from, to) == 0 else { throw .writeFailed(path: to, reason: "rename from \(from): \(errnoText())") }
    }

    /// unlink(2); a file already gone is not an error.
    public static func remove(_ path: String) throws(IOError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .writeFailed(path: path, reason: "unlink: \(errnoText())") }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Size of the file at `path`, nil when it does not exist.
    public static func size(of path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    /// Names in `directory` (not . and ..), unsorted.
    public static func names(in directory: String) throws(IOError) -> [String] {
        guard let dir = opendir(directory) else { throw .cannotOpen(path: directory, reason: errnoText()) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

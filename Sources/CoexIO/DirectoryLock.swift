#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive flock(2) on a file in a directory, held while this object lives. The kernel
/// drops it when the process ends however it ends (kill -9 too), so a restart finds it free.
/// The holder writes its pid into the file, for the message another process gives.
public final class DirectoryLock {
    public let path: String
    private let fd: Int32

    public enum Outcome {
        case acquired(DirectoryLock)
        /// Another process holds it; its pid, when it wrote one.
        case held(byPID: Int32?)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    public static func acquire(_ path: String) throws(IOError) -> Outcome {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let reason = errnoText()
            let busy = errno == EWOULDBLOCK
            let holder = busy ? readPID(fd) : nil
            Glibc.close(fd)
            if busy { return .held(byPID: holder) }
            throw .cannotOpen(path: path, reason: "flock: \(reason)")
        }
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) != 0 || pwrite(fd, text, text.count, 0) != text.count {
            let reason = errnoText()
            Glibc.close(fd)
            throw .writeFailed(path: path, reason: reason)
        }
        return .acquired(DirectoryLock(path: path, fd: fd))
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = pread(fd, &bytes, bytes.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: bytes[0..<n].filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self))
    }
}

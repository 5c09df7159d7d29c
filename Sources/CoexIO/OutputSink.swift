#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor (stdout, or a file opened for append).
public final class OutputSink {
    public let name: String
    private let fd: Int32
    private var ownsDescriptor: Bool
    private var isClosed = false
    private var pending: [UInt8] = []
    private let flushThreshold: Int
    public private(set) var bytesWritten = 0

    public static func standardOutput() -> OutputSink {
        OutputSink(fd: STDOUT_FILENO, name: "stdout", owns: false)
    }

    public static func standardError() -> OutputSink {
        OutputSink(fd: STDERR_FILENO, name: "stderr", owns: false, threshold: 0)
    }

    /// Opens `path` for appending, creating it when missing.
    public static func appending(to path: String) throws(IOError) -> OutputSink {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        return OutputSink(fd: fd, name: path, owns: true)
    }

    /// Creates or truncates `path`; `bufferSize` bytes are gathered before each write.
    public static func creating(_ path: String, bufferSize: Int = 1 << 20) throws(IOError) -> OutputSink {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        return OutputSink(fd: fd, name: path, owns: true, threshold: max(4096, bufferSize))
    }

    /// Writes to `fd` (a pipe to another stage of the same process); the sink closes it.
    public static func owning(descriptor fd: Int32, name: String) -> OutputSink {
        OutputSink(fd: fd, name: name, owns: true)
    }

    init(fd: Int32, name: String, owns: Bool, threshold: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        ownsDescriptor = owns
        flushThreshold = threshold
        pending.reserveCapacity(threshold + min(threshold, 65536))
    }

    deinit {
        try? flush()
        if ownsDescriptor { Glibc.close(fd) }
    }

    /// Flushes what it can and closes an owned descriptor now (the reader at the other
    /// end of a pipe sees its end); later writes fail.
    public func close() {
        try? flush()
        pending.removeAll()
        if ownsDescriptor {
            Glibc.close(fd)
            ownsDescriptor = false
        }
        isClosed = true
    }

    /// Whether the descriptor is a terminal (progress output goes only there).
    public var isTerminal: Bool { isatty(fd) == 1 }

    public func write(_ bytes: [UInt8]) throws(IOError) {
        try bytes.withBytes { raw throws(IOError) in try write(raw) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        // A large block goes out directly rather than through a second copy in memory.
        if bytes.count >= flushThreshold && flushThreshold > 0 {
            try flush()
            try writeAll(bytes)
            bytesWritten += bytes.count
            return
        }
        pending.append(contentsOf: bytes)
        if pending.count >= flushThreshold { try flush() }
    }

    public func write(_ text: String) throws(IOError) {
        pending.append(contentsOf: text.utf8)
        if pending.count >= flushThreshold { try flush() }
    }

    public func flush() throws(IOError) {
        guard !pending.isEmpty else { return }
        defer {
            bytesWritten += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        try pending.withBytes { bytes throws(IOError) in try writeAll(bytes) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard !isClosed else { throw .writeFailed(path: name, reason: "written after it was closed") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
                continue
            }
            if errno == EINTR { continue }
            throw errno == EPIPE ? .brokenPipe : .writeFailed(path: name, reason: errnoText())
        }
    }
}

/// Whether a file descriptor is open: a stage started with stdout closed must not
/// let its rejects file (or anything else it opens) become descriptor 1.
public func descriptorIsOpen(_ fd: Int32) -> Bool {
    fcntl(fd, F_GETFD) != -1
}

/// Points closed descriptors 0-2 at /dev/null, so that no file or pipe opened later takes
/// their number (and receives what is meant for stdout, or is read as stdin).
public func reopenClosedStandardDescriptors() {
    for fd: Int32 in 0...2 where !descriptorIsOpen(fd) {
        let opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
        if opened >= 0 && opened != fd {
            dup2(opened, fd)
            close(opened)
        }
    }
}

/// A broken pipe must surface as EPIPE on write, not kill the process.
public func ignoreBrokenPipeSignal() {
    signal(SIGPIPE, SIG_IGN)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an input or output could not be read or written.
public enum IOError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    /// A private folder for temporary files could not be made in `path`.
    case cannotCreateDirectory(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case zstd(path: String, reason: String)
    case truncatedZstd(path: String)
    /// The reader of our output went away (`| head`): not a failure of the run.
    case brokenPipe
    /// The input is another stage's stream (the message says which stage reads it).
    case wrongStream(String)
    /// A stage's temporary file did not read back as it was written.
    case damagedSpill(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open: \(reason)"
        case .cannotCreateDirectory(let path, let reason): "\(path): cannot create a temporary directory: \(reason)"
        case .readFailed(let path, let reason): "\(path): read failed: \(reason)"
        case .writeFailed(let path, let reason): "\(path): write failed: \(reason)"
        case .zstd(let path, let reason): "\(path): corrupt zstd data: \(reason)"
        case .truncatedZstd(let path): "\(path): zstd stream ends in the middle of a frame (truncated file?)"
        case .brokenPipe: "output closed by the reader"
        case .wrongStream(let message): message
        case .damagedSpill(let path): "\(path): a temporary spill file does not read back as written (changed or removed while running?)"
        }
    }
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// A stream of bytes read in blocks.
public protocol ByteSource: AnyObject {
    /// Name used in messages: the path as given, or "-" for stdin.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; 0 means end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int
}

/// A file or stdin, read with read(2).
public final class FileSource: ByteSource {
    public let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool

    /// Opens `path`, or stdin when it is "-".
    public init(path: String) throws(IOError) {
        name = path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
            var info = stat()
            if fstat(opened, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw .cannotOpen(path: path, reason: "is a directory")
            }
            fd = opened
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .readFailed(path: name, reason: errnoText())
        }
    }
}

/// Opens an input by name: "-" is stdin, a `.zst` name is decompressed.
public func openInput(_ path: String) throws(IOError) -> ByteSource {
    let file = try FileSource(path: path)
    if path.hasSuffix(".zst") || path.hasSuffix(".zstd") {
        return try ZstdSource(wrapping: file)
    }
    return file
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for bodies that throw `IOError` (the standard one erases typed throws).
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws(IOError) -> T) throws(IOError) -> T {
        var result: Result<T, IOError>!
        withUnsafeBytes { raw in
            do throws(IOError) { result = .success(try body(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}

/// Creates `path` and its missing parents (like `mkdir -p`); the error names the reason.
public func makeDirectories(_ path: String) throws(IOError) {
    var isDirectory = stat()
    if stat(path, &isDirectory) == 0 {
        guard (isDirectory.st_mode & S_IFMT) == S_IFDIR else { throw .cannotOpen(path: path, reason: "exists and is not a directory") }
        return
    }
    let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    if !parent.isEmpty { try makeDirectories(parent) }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
        throw .cannotOpen(path: path, reason: "cannot create the directory: \(errnoText())")
    }
}

/// Whether both paths name one existing file (also through links, `./` or `/dev/fd/N`).
public func isSameFile(_ a: String, _ b: String) -> Bool {
    var x = stat(), y = stat()
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

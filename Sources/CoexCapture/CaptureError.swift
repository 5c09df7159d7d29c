import CoexIO

/// Why the receiver could not start, store a delivery, or finish a file.
public enum CaptureError: Error, CustomStringConvertible {
    /// The captures directory cannot be used (missing, not writable, not a directory).
    case directory(String)
    /// A write or fsync of the capture files failed: the delivery is not stored.
    case storage(IOError)
    /// The receiver is stopping; deliveries are refused (Meta retries them later).
    case stopping
    /// The disk is behind: this many bytes already wait for a commit.
    case busy(waitingBytes: Int)
    /// `--listen` is not HOST:PORT.
    case listen(String)
    /// Stopped, but these captures could not be compressed: they stay plain and whole.
    case unfinished([String])

    public var description: String {
        switch self {
        case .directory(let message): message
        case .storage(let error): "capture not stored: \(error.description)"
        case .stopping: "the receiver is stopping"
        case .busy(let bytes): "the disk is behind: \(bytes) bytes already wait to be written"
        case .listen(let text): "--listen \(text): expected HOST:PORT (PORT 0 picks a free port)"
        case .unfinished(let files):
            "stopped, but \(files.count == 1 ? "a capture" : "\(files.count) captures") could not be compressed and "
                + "\(files.count == 1 ? "stays" : "stay") plain: \(files.joined(separator: ", ")); every acknowledged delivery is in "
                + "\(files.count == 1 ? "it" : "them"), and the next start finishes \(files.count == 1 ? "it" : "them")"
        }
    }
}

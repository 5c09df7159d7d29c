import CoexIO

/// Why the receiver could not start, store a delivery, or finish a file.
public enum CaptureError: Error, CustomStringConvertible {
    /// The captures directory cannot be used (missing, not writable, not a directory).
    case directory(String)
    /// A write or fsync of the capture files failed: the delivery is not stored.
    case storage(IOError)
    /// The receiver is stopping; deliveries are refused (Meta retries them later).
    case stopping
    /// `--listen` is not HOST:PORT.
    case listen(String)

    public var description: String {
        switch self {
        case .directory(let message): message
        case .storage(let error): "capture not stored: \(error.description)"
        case .stopping: "the receiver is stopping"
        case .listen(let text): "--listen \(text): expected HOST:PORT (PORT 0 picks a free port)"
        }
    }
}

/// A failure while writing or reading an archive. Messages name the archive file and, where one is
/// involved, the entry.
public enum ArchiveError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The archive file could not be created (missing directory, no permission, ...).
    case cannotCreate(path: String, reason: String)
    /// The archive file could not be opened for reading, or is not an archive this reader understands.
    case cannotOpen(path: String, reason: String)
    /// libarchive failed while writing; `entry` is nil for failures in setup or in `finish()`.
    case writeFailed(path: String, entry: String?, reason: String)
    /// libarchive failed while reading.
    case readFailed(path: String, entry: String?, reason: String)
    /// The entry name would extract outside the target directory or is not a plain relative file path.
    case invalidEntryPath(path: String, entry: String, reason: String)
    /// The same entry name was added twice; extracting would silently keep only one of them.
    case duplicateEntry(path: String, entry: String)
    /// A file to be copied into the archive could not be read, or changed size while being read.
    case sourceFileFailed(path: String, source: String, reason: String)
    /// `add` or `finish` was called after `finish()`.
    case alreadyFinished(path: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            return "Cannot create archive '\(path)': \(reason)"
        case let .cannotOpen(path, reason):
            return "Cannot open archive '\(path)': \(reason)"
        case let .writeFailed(path, entry?, reason):
            return "Cannot write entry '\(entry)' to archive '\(path)': \(reason)"
        case let .writeFailed(path, nil, reason):
            return "Cannot write archive '\(path)': \(reason)"
        case let .readFailed(path, entry?, reason):
            return "Cannot read entry '\(entry)' of archive '\(path)': \(reason)"
        case let .readFailed(path, nil, reason):
            return "Cannot read archive '\(path)': \(reason)"
        case let .invalidEntryPath(path, entry, reason):
            return "Invalid entry name '\(entry)' for archive '\(path)': \(reason)"
        case let .duplicateEntry(path, entry):
            return "Entry '\(entry)' was already added to archive '\(path)'"
        case let .sourceFileFailed(path, source, reason):
            return "Cannot copy '\(source)' into archive '\(path)': \(reason)"
        case let .alreadyFinished(path):
            return "Archive '\(path)' is already finished; no more entries can be written"
        }
    }
}

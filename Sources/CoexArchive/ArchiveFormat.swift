/// The archive kinds coex writes.
public enum ArchiveFormat: String, Sendable, CaseIterable {
    /// POSIX tar (pax restricted) compressed with zstd: `.tar.zst`.
    case tarZstd
    /// POSIX tar (pax restricted) compressed with gzip: `.tar.gz` or `.tgz`.
    case tarGzip
    /// Zip with deflate: `.zip`.
    case zip

    /// The format implied by the file name's extension (case-insensitive), or nil if it names none
    /// of the supported formats.
    public static func from(path: String) -> ArchiveFormat? {
        let name = path.lowercased()
        if name.hasSuffix(".tar.zst") { return .tarZstd }
        if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") { return .tarGzip }
        if name.hasSuffix(".zip") { return .zip }
        return nil
    }

    /// The usual extension, with its leading dot.
    public var fileExtension: String {
        switch self {
        case .tarZstd: return ".tar.zst"
        case .tarGzip: return ".tar.gz"
        case .zip: return ".zip"
        }
    }
}

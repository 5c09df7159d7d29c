import CArchive

/// Metadata of one archive entry.
public struct ArchiveEntry: Sendable, Equatable {
    public var path: String
    /// Size in bytes of the entry's data.
    public var size: Int64
    /// Seconds since 1970-01-01T00:00:00Z.
    public var modificationTime: Int64
    /// Permission bits, e.g. 0o644.
    public var permissions: UInt32
    public var isRegularFile: Bool
    public var userID: Int64
    public var groupID: Int64
    /// Nil when the format does not record owner names (zip).
    public var userName: String?
    public var groupName: String?
}

/// Reads the tar (plain, gzip or zstd) and zip archives `ArchiveWriter` produces, entry by entry.
public final class ArchiveReader {
    public let path: String
    private let archive: OpaquePointer
    private var currentPath: String?

    public init(path: String) throws {
        guard let archive = archive_read_new() else {
            throw ArchiveError.cannotOpen(path: path, reason: "out of memory")
        }
        self.path = path
        self.archive = archive
        // Only what we write: fewer formats means less parser surface for untrusted input.
        let opened = withUTF8Locale {
            archive_read_support_filter_gzip(archive)
            archive_read_support_filter_zstd(archive)
            archive_read_support_format_tar(archive)
            archive_read_support_format_zip(archive)
            return archive_read_open_filename(archive, path, 1 << 16)
        }
        guard opened == ARCHIVE_OK else {
            throw ArchiveError.cannotOpen(path: path, reason: failureReason(archive))
        }
    }

    deinit {
        archive_read_free(archive)
    }

    /// Moves to the next entry and returns its metadata, or nil at the end of the archive.
    /// Its data, if wanted, must be read with `readData()` before the next call.
    public func nextEntry() throws -> ArchiveEntry? {
        try withUTF8Locale { try readHeader() }
    }

    private func readHeader() throws -> ArchiveEntry? {
        var header: OpaquePointer?
        let rc = archive_read_next_header(archive, &header)
        if rc == ARCHIVE_EOF { return nil }
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let header else {
            throw ArchiveError.readFailed(path: path, entry: nil, reason: failureReason(archive))
        }
        let name = archive_entry_pathname_utf8(header).map { String(cString: $0) }
            ?? archive_entry_pathname(header).map { String(cString: $0) } ?? ""
        currentPath = name
        return ArchiveEntry(
            path: name,
            size: archive_entry_size(header),
            modificationTime: Int64(archive_entry_mtime(header)),
            permissions: UInt32(archive_entry_perm(header)),
            isRegularFile: archive_entry_filetype(header) == coex_archive_regular_file,
            userID: archive_entry_uid(header),
            groupID: archive_entry_gid(header),
            userName: archive_entry_uname_utf8(header).map { String(cString: $0) },
            groupName: archive_entry_gname_utf8(header).map { String(cString: $0) })
    }

    /// The data of the entry last returned by `nextEntry()`.
    public func readData() throws -> [UInt8] {
        try withUTF8Locale { try readCurrentData() }
    }

    private func readCurrentData() throws -> [UInt8] {
        var data: [UInt8] = []
        let chunkSize = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let got = chunk.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, chunkSize) }
            if got == 0 { return data }
            guard got > 0 else {
                throw ArchiveError.readFailed(path: path, entry: currentPath, reason: failureReason(archive))
            }
            data.append(contentsOf: chunk[0..<got])
        }
    }

    /// Every entry of the archive at `path` with its data, in archive order.
    public static func readAll(path: String) throws -> [(entry: ArchiveEntry, data: [UInt8])] {
        let reader = try ArchiveReader(path: path)
        var result: [(entry: ArchiveEntry, data: [UInt8])] = []
        while let entry = try reader.nextEntry() {
            result.append((entry, try reader.readData()))
        }
        return result
    }
}

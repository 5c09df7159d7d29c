import CArchive
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a tar.zst, tar.gz or zip archive of regular files whose bytes depend only on the entries
/// added (names, contents, order) and the modification time given at init.
///
/// Every entry gets the same metadata: the fixed modification time, uid/gid 0, owner and group
/// name "root", permissions 0644. gzip's header timestamp is switched off.
///
/// Zip stores an MS-DOS timestamp in *local* time, so libarchive's output normally depends on the
/// TZ environment variable. The default modification time, 0 (1970-01-01), avoids that without
/// touching the environment: every time zone maps it to a date before 1980, which the DOS field clamps
/// to its minimum, 1980-01-01 00:00. A later time given for zip is written with TZ temporarily set to
/// UTC around each entry header, so callers need not run under TZ=UTC. TZ is process-wide: code on
/// other threads that reads the local time zone at that instant would see UTC, which the default time
/// avoids altogether.
///
/// If the writer is released without `finish()`, the file is left incomplete on purpose (no end
/// marker), so an interrupted export cannot pass for a whole one. Removing it is up to the caller.
public final class ArchiveWriter {
    /// 1970-01-01T00:00:00Z; see the type's documentation for why this is also right for zip.
    public static let defaultModificationTime: Int64 = 0

    public let path: String
    public let format: ArchiveFormat
    /// Seconds since 1970-01-01T00:00:00Z, given to every entry.
    public let modificationTime: Int64

    private var archive: OpaquePointer?
    /// Reused for every entry, so adding many entries does not allocate one each time.
    private let entry: OpaquePointer
    private var entryNames: Set<String> = []

    /// Creates (or truncates) the archive file at `path`.
    public init(
        path: String,
        format: ArchiveFormat,
        modificationTime: Int64 = ArchiveWriter.defaultModificationTime
    ) throws {
        guard let entry = archive_entry_new() else {
            throw ArchiveError.cannotCreate(path: path, reason: "out of memory")
        }
        guard let archive = archive_write_new() else {
            archive_entry_free(entry)
            throw ArchiveError.cannotCreate(path: path, reason: "out of memory")
        }
        self.path = path
        self.format = format
        self.modificationTime = modificationTime
        self.archive = archive
        self.entry = entry
        // From here on a throw releases self, and deinit frees both handles.

        try withUTF8Locale { try setUp(archive) }
    }

    private func setUp(_ archive: OpaquePointer) throws {
        switch format {
        case .tarZstd:
            try configure(archive_write_set_format_pax_restricted(archive))
            try configure(archive_write_add_filter_zstd(archive))
        case .tarGzip:
            try configure(archive_write_set_format_pax_restricted(archive))
            try configure(archive_write_add_filter_gzip(archive))
            // By default the gzip header records the current time.
            try configure(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
        case .zip:
            try configure(archive_write_set_format_zip(archive))
            // Sets the zip "name is UTF-8" flag from the option rather than from the locale, so unzip
            // tools everywhere decode non-ASCII names the same way.
            try configure(archive_write_set_format_option(archive, "zip", "hdrcharset", "UTF-8"))
            // Zip's directory must end the file; padding to a tar-style block would hide it.
            try configure(archive_write_set_bytes_in_last_block(archive, 1))
        }

        guard archive_write_open_filename(archive, path) == ARCHIVE_OK else {
            throw ArchiveError.cannotCreate(path: path, reason: failureReason(archive))
        }
    }

    deinit {
        if let archive {
            // Marking the archive failed stops free() from writing the end-of-archive marker.
            archive_write_fail(archive)
            archive_write_free(archive)
        }
        archive_entry_free(entry)
    }

    /// Adds a regular file named `entryPath` (a relative path such as `"db/coex.sqlite"`).
    ///
    /// Names must be relative, use `/` as separator and contain no empty, `.` or `..` components,
    /// and each name may be added once.
    public func add(path entryPath: String, data: [UInt8]) throws {
        try data.withUnsafeBytes { try add(path: entryPath, bytes: $0) }
    }

    /// Adds a regular file from a byte buffer without copying it into an Array first.
    public func add(path entryPath: String, bytes: UnsafeRawBufferPointer) throws {
        let archive = try openArchive()
        try withUTF8Locale {
            try writeHeader(archive, entryPath: entryPath, size: Int64(bytes.count))
            if let base = bytes.baseAddress {
                try writeData(archive, entryPath: entryPath, base, bytes.count)
            }
            try finishEntry(archive, entryPath: entryPath)
        }
    }

    /// Adds a regular file named `entryPath` with the contents of the file at `sourcePath`, streamed
    /// in chunks so a large file (a database snapshot) need not fit in memory.
    public func add(path entryPath: String, contentsOfFile sourcePath: String) throws {
        let archive = try openArchive()
        try withUTF8Locale { try copy(sourcePath, into: archive, as: entryPath) }
    }

    private func copy(_ sourcePath: String, into archive: OpaquePointer, as entryPath: String) throws {
        let fd = open(sourcePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw sourceError(sourcePath, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw sourceError(sourcePath, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ArchiveError.sourceFileFailed(path: path, source: sourcePath, reason: "not a regular file")
        }
        let size = Int64(info.st_size)
        // The size goes into the header before the data, so it must not change while copying.
        try writeHeader(archive, entryPath: entryPath, size: size)
        let chunkSize = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var copied: Int64 = 0
        while copied < size {
            let wanted = Int(min(Int64(chunkSize), size - copied))
            let got = read(fd, buffer, wanted)
            if got < 0 {
                if errno == EINTR { continue }
                throw sourceError(sourcePath, errno: errno)
            }
            if got == 0 {
                throw ArchiveError.sourceFileFailed(
                    path: path, source: sourcePath,
                    reason: "file shrank from \(size) to \(copied) bytes while being copied")
            }
            try writeData(archive, entryPath: entryPath, buffer, got)
            copied += Int64(got)
        }
        try finishEntry(archive, entryPath: entryPath)
    }

    /// Writes the end of the archive and closes the file. Until this succeeds the file is not a
    /// complete archive.
    public func finish() throws {
        let archive = try openArchive()
        self.archive = nil
        let rc = withUTF8Locale { archive_write_close(archive) }
        let reason = rc == ARCHIVE_OK ? nil : failureReason(archive)
        archive_write_free(archive)
        if let reason {
            throw ArchiveError.writeFailed(path: path, entry: nil, reason: reason)
        }
    }

    // MARK: Internals

    private func openArchive() throws -> OpaquePointer {
        guard let archive else { throw ArchiveError.alreadyFinished(path: path) }
        return archive
    }

    private func configure(_ rc: Int32) throws {
        // ARCHIVE_WARN here means "works, but through a fallback"; only failures stop us.
        guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN else {
            throw ArchiveError.writeFailed(path: path, entry: nil, reason: failureReason(archive))
        }
    }

    private func writeHeader(_ archive: OpaquePointer, entryPath: String, size: Int64) throws {
        if let problem = Self.entryPathProblem(entryPath) {
            throw ArchiveError.invalidEntryPath(path: path, entry: entryPath, reason: problem)
        }
        guard entryNames.insert(entryPath).inserted else {
            throw ArchiveError.duplicateEntry(path: path, entry: entryPath)
        }
        archive_entry_clear(entry)
        archive_entry_set_pathname_utf8(entry, entryPath)
        archive_entry_set_filetype(entry, coex_archive_regular_file)
        archive_entry_set_perm(entry, 0o644)
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, time_t(modificationTime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_uname_utf8(entry, "root")
        archive_entry_set_gname_utf8(entry, "root")

        let rc: Int32
        if format == .zip && modificationTime >= Self.earliestZipTimeNeedingUTC {
            // libarchive converts the time to the DOS field with localtime_r while writing the header
            // (for both the local header and the central directory record), and nowhere else.
            rc = withUTCTimeZone { archive_write_header(archive, entry) }
        } else {
            rc = archive_write_header(archive, entry)
        }
        // A warning here means a name or owner could not be converted as given; the result would
        // not be the archive asked for.
        guard rc == ARCHIVE_OK else {
            throw ArchiveError.writeFailed(path: path, entry: entryPath, reason: failureReason(archive))
        }
    }

    private func writeData(_ archive: OpaquePointer, entryPath: String, _ base: UnsafeRawPointer, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let written = archive_write_data(archive, base + offset, count - offset)
            guard written > 0 else {
                throw ArchiveError.writeFailed(path: path, entry: entryPath, reason: failureReason(archive))
            }
            offset += written
        }
    }

    private func finishEntry(_ archive: OpaquePointer, entryPath: String) throws {
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else {
            throw ArchiveError.writeFailed(path: path, entry: entryPath, reason: failureReason(archive))
        }
    }

    private func sourceError(_ sourcePath: String, errno code: Int32) -> ArchiveError {
        .sourceFileFailed(path: path, source: sourcePath, reason: String(cString: strerror(code)))
    }

    /// Times before this are before 1980 in every time zone (with a week to spare for exotic TZ
    /// strings), so the zip DOS field clamps to 1980-01-01 whatever TZ says.
    static let earliestZipTimeNeedingUTC: Int64 = 315_532_800 - 7 * 86_400

    /// Why `name` is not acceptable as an entry name, or nil if it is.
    static func entryPathProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.utf8.contains(0) { return "the name contains a NUL character" }
        if name.hasPrefix("/") { return "absolute paths are not allowed" }
        if name.contains("\\") { return "backslashes are not allowed; use '/' between components" }
        if !canWriteNonASCIINames && !name.utf8.allSatisfy({ $0 < 0x80 }) {
            return "non-ASCII names need the C.UTF-8 locale, which this system lacks"
        }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": return "empty path components ('//' or a trailing '/') are not allowed"
            case ".", "..": return "'.' and '..' components are not allowed"
            default: continue
            }
        }
        return nil
    }
}

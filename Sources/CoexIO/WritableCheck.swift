#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks made before a run reads any input, so that an output it could never write is
/// reported first, with the operating system's reason, and not after hours of work.
public enum WritableCheck {
    /// Makes `path` (like `mkdir -p`) and proves a file can be created in it.
    public static func directory(_ path: String) throws(IOError) {
        try makeDirectories(path)
        try probe(in: path, for: path)
    }

    /// Proves `path` can be written without changing it: an existing file is opened for
    /// appending (nothing written); a missing one needs a writable folder, made first when
    /// `makingFolder`.
    public static func file(_ path: String, makingFolder: Bool = false) throws(IOError) {
        var info = stat()
        if stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw .cannotOpen(path: path, reason: "is a directory") }
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
            close(fd)
            return
        }
        let folder = parent(of: path)
        var folderInfo = stat()
        if stat(folder, &folderInfo) != 0 {
            guard makingFolder else { throw .cannotOpen(path: path, reason: errnoText()) }
            try makeDirectories(folder)
        }
        try probe(in: folder, for: path)
    }

    /// Every file in `folder` whose name ends in `suffix` must open for reading and writing
    /// (the databases an import may update, with their journals).
    public static func existingFiles(in folder: String, suffixes: [String]) throws(IOError) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard suffixes.contains(where: { name.hasSuffix($0) }) else { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
            close(fd)
        }
    }

    /// The folder part of a path ("." for a bare name).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    private static func probe(in folder: String, for path: String) throws(IOError) {
        var template = Array((folder.hasSuffix("/") ? folder : folder + "/").utf8CString.dropLast())
            + Array(".coex-write-check-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: "cannot write in \(folder): \(errnoText())") }
        close(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A database that does not exist yet, built under a hidden name beside its final path
/// (`DIR/.<waba_id>.sqlite.building`) and renamed into place only when complete: a kill at
/// any moment leaves no database or the whole one, never a half-written file that readers
/// or a later run would take for a database. The name ends in neither `.sqlite` nor one of
/// `BusinessFile.suffixes`, so nothing that lists databases picks it up.
///
/// Runs building the same database exclude each other with a lock on the building file (a
/// later one waits, then finds the database in place and loads into it); a building file no
/// process holds is what a killed run left, and is started afresh.
final class DatabaseBuild {
    let finalPath: String
    let buildPath: String
    /// Holds the lock (and so the claim) until the build is published or discarded.
    private var descriptor: Int32
    private var settled = false

    /// How long to wait for another run building the same database (as SQLite's busy timeout).
    static let waitMilliseconds = 5_000

    private init(finalPath: String, buildPath: String, descriptor: Int32) {
        self.finalPath = finalPath
        self.buildPath = buildPath
        self.descriptor = descriptor
    }

    deinit {
        discard()
    }

    /// `DIR/.<name>.building` for `DIR/<name>`.
    static func buildPath(for path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." + path + ".building" }
        return String(path[...slash]) + "." + String(path[path.index(after: slash)...]) + ".building"
    }

    /// Files SQLite may keep beside a database: none must survive from a killed build, or
    /// SQLite would replay an old journal into the new file.
    static let companions = ["-wal", "-shm", "-journal"]

    /// Claims the building file of `path`, emptied, when no database is at `path`; nil when
    /// one is (then the load updates it).
    static func claim(_ path: String) throws(StoreError) -> DatabaseBuild? {
        let buildPath = buildPath(for: path)
        var waited = 0
        while true {
            if exists(path) { return nil }
            let fd = open(buildPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .cannotCreate(path: path, reason: "\(buildPath): \(errnoText())") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let busy = errno == EWOULDBLOCK
                let reason = busy ? "another run is creating it (\(buildPath) is locked)" : errnoText()
                close(fd)
                guard busy, waited < waitMilliseconds else { throw .cannotCreate(path: path, reason: reason) }
                usleep(50_000)
                waited += 50
                continue
            }
            // The file locked may be one a finished run has renamed away meanwhile: start again.
            var opened = stat(), named = stat()
            guard fstat(fd, &opened) == 0, stat(buildPath, &named) == 0,
                opened.st_dev == named.st_dev, opened.st_ino == named.st_ino
            else {
                close(fd)
                continue
            }
            if exists(path) {
                // A database appeared in place while this file lay here: the file is stale.
                unlink(buildPath)
                close(fd)
                return nil
            }
            for suffix in companions { unlink(buildPath + suffix) }
            guard ftruncate(fd, 0) == 0 else {
                let reason = errnoText()
                close(fd)
                throw .cannotCreate(path: path, reason: "\(buildPath): \(reason)")
            }
            return DatabaseBuild(finalPath: path, buildPath: buildPath, descriptor: fd)
        }
    }

    /// Puts the complete file in place: flushed to disk, renamed over the final name (where
    /// nothing is), the directory flushed so that the rename survives a crash too. The
    /// connection that built it must be closed.
    func publish() throws(StoreError) {
        guard !settled else { return }
        guard fsync(descriptor) == 0 else { throw .cannotCreate(path: finalPath, reason: "fsync: \(errnoText())") }
        // Runs of coex exclude each other through the lock; this only guards against anything
        // else having put a file there meanwhile, which the rename would replace.
        if Self.exists(finalPath) {
            throw .cannotCreate(path: finalPath, reason: "a file appeared at its place during the load")
        }
        guard rename(buildPath, finalPath) == 0 else {
            throw .cannotCreate(path: finalPath, reason: "rename from \(buildPath): \(errnoText())")
        }
        settled = true
        for suffix in Self.companions { unlink(buildPath + suffix) }
        close(descriptor)
        descriptor = -1
        let directory = Self.parent(of: finalPath)
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            // The database is in place whatever this says: a failure only weakens durability
            // after a power loss, which the next run's load repairs.
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// Removes the building file (and anything SQLite kept beside it).
    func discard() {
        guard !settled else { return }
        settled = true
        unlink(buildPath)
        for suffix in Self.companions { unlink(buildPath + suffix) }
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// The folder part of a path ("." for a bare name).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

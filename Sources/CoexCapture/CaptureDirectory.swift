import CoexIO
import Dispatch
import Logging

/// The captures directory: what a previous run left there, and finishing files (each
/// compressed to `.zst` on a background queue, the plain file removed once the
/// compressed one is durable).
public final class CaptureDirectory: @unchecked Sendable {
    public let path: String
    let logger: Logger
    let metrics: CaptureMetrics
    private let queue = DispatchQueue(label: "coex.capture.finish")
    private let lock: DirectoryLock
    /// Held by the receiver writing to the directory (a dot file: `captures/*` leaves it out).
    public static let lockName = ".coex-capture.lock"

    public init(path: String, logger: Logger, metrics: CaptureMetrics) throws(CaptureError) {
        do {
            try WritableCheck.directory(path)
            // One receiver per directory: a second one's recovery would cut and finish the
            // file the first is still appending to, losing what it acknowledges after.
            switch try DirectoryLock.acquire(path + "/" + Self.lockName) {
            case .acquired(let lock): self.lock = lock
            case .held(let pid):
                throw CaptureError.directory("--dir \(path) is in use by another coex capture\(pid.map { " (pid \($0))" } ?? ""): one receiver per directory; stop it, or give another --dir")
            }
        } catch let error as CaptureError {
            throw error
        } catch {
            throw .directory("--dir \(error)")
        }
        self.path = path
        self.logger = logger
        self.metrics = metrics
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// The latest capture name in the directory, in any form.
    func lastName() throws(CaptureError) -> CaptureFileName? {
        try names().compactMap(CaptureFileName.of(file:)).max()
    }

    private func names() throws(CaptureError) -> [String] {
        do { return try DurableFile.names(in: path) } catch { throw .directory("--dir \(error.description)") }
    }

    /// Puts the directory in order after any earlier run, however it ended: half-written
    /// compressed files are removed, and each capture still plain is cut to its last line
    /// that has both its bytes and its signature record (what was acknowledged), the rest
    /// kept aside as NAME.ndjson.torn, then finished. Returns what it found, one line each.
    @discardableResult
    public func recover() throws(CaptureError) -> [String] {
        var notes: [String] = []
        let all = try names()
        let present = Set(all)
        do {
            for name in all where name.hasPrefix(CaptureFileName.prefix) && name.hasSuffix(CaptureFileName.partial) {
                try DurableFile.remove(file(name))
                notes.append("removed \(name) (a compression a stop interrupted)")
            }
            let plain = all.filter { $0.hasPrefix(CaptureFileName.prefix) && $0.hasSuffix(CaptureFileName.bodies) }.sorted()
            for bodies in plain {
                guard let name = CaptureFileName.of(file: bodies) else { continue }
                if present.contains(bodies + CaptureFileName.compressed) {
                    // Compressed and synced before the crash; only the removal was missed.
                    try DurableFile.remove(file(bodies))
                    try DurableFile.remove(file(name.signaturesFile))
                    notes.append("removed \(bodies): \(bodies).zst was already complete")
                    continue
                }
                let (cutNotes, kept) = try cut(name)
                notes += cutNotes
                if kept > 0 {
                    finish(name)
                } else {
                    // Nothing was acknowledged in it: no empty capture is left for the importer.
                    try DurableFile.remove(file(name.bodiesFile))
                    try DurableFile.remove(file(name.signaturesFile))
                    try DurableFile.remove(file(name.signaturesFile + CaptureFileName.compressed))
                    notes.append("removed \(name.bodiesFile): no acknowledged line in it")
                }
            }
            try DurableFile.syncDirectory(path)
        } catch {
            throw .storage(error)
        }
        for note in notes { logger.notice("\(note)") }
        return notes
    }

    /// Cuts an unfinished capture back to the lines that have their signature records.
    private func cut(_ name: CaptureFileName) throws(IOError) -> (notes: [String], kept: Int) {
        let bodies = file(name.bodiesFile)
        let plainSignatures = file(name.signaturesFile)
        let signatures = DurableFile.exists(plainSignatures) ? plainSignatures : plainSignatures + CaptureFileName.compressed
        let lines = try LineScan.scan(bodies)
        let records = DurableFile.exists(signatures) ? try LineScan.scan(signatures) : LineScan.Result(lines: 0, end: 0, size: 0)
        let keep = min(lines.lines, records.lines)
        var notes: [String] = []
        let keptEnd = keep == lines.lines ? lines.end : try LineScan.scan(bodies, stopAfter: keep).end
        if keptEnd < lines.size {
            let aside = try keepAside(bodies, from: keptEnd)
            let torn = lines.size > lines.end ? "an incomplete last line" : "no incomplete line"
            notes.append("\(name.bodiesFile): \(torn), \(lines.lines - keep) complete line(s) without a signature record; "
                         + "\(lines.size - keptEnd) bytes cut and kept aside in \(aside)")
        }
        if signatures == plainSignatures {
            let recordsEnd = keep == records.lines ? records.end : try LineScan.scan(signatures, stopAfter: keep).end
            if recordsEnd < records.size {
                let aside = try keepAside(signatures, from: recordsEnd)
                notes.append("\(name.signaturesFile): \(records.size - recordsEnd) bytes past line \(keep) kept aside in \(aside)")
            }
        }
        return (notes, keep)
    }

    /// Moves the bytes of `path` from `offset` on into a new file beside it.
    private func keepAside(_ path: String, from offset: Int) throws(IOError) -> String {
        var aside = path + CaptureFileName.tornSuffix
        var n = 1
        while DurableFile.exists(aside) {
            aside = path + CaptureFileName.tornSuffix + ".\(n)"
            n += 1
        }
        let tail = try LineScan.read(path, from: offset)
        let out = try DurableFile(appendingTo: aside, exclusive: true)
        try out.append(tail)
        try out.sync()
        out.close()
        // The new name must be durable before the bytes it holds are cut from the capture.
        try DurableFile.syncDirectory(self.path)
        let file = try DurableFile(appendingTo: path, create: false)
        try file.truncate(to: offset)
        try file.sync()
        file.close()
        return String(aside.split(separator: "/").last ?? "")
    }

    /// Compresses a finished capture in the background: the signature records first, so
    /// that a `.ndjson.zst` always has its `.sig.zst` beside it. A capture that cannot be
    /// compressed (disk full) stays plain, whole and acknowledged, but out of the nightly
    /// import's `*.ndjson.zst`: it is tried again every `retryInterval`, and at the stop.
    func finish(_ name: CaptureFileName) {
        queue.async { [self] in
            attempt(name)
            scheduleRetry()
        }
    }

    /// Captures left plain because their compression failed, with why; on the queue only.
    private var unfinished: [CaptureFileName: String] = [:]
    private var retryScheduled = false
    public var retryInterval: DispatchTimeInterval = .seconds(30)

    private func attempt(_ name: CaptureFileName) {
        let started = ContinuousClock.now
        defer { metrics.setUnfinished(unfinished.count) }
        do {
            let compressor = try ZstdCompressor()
            for plain in [name.signaturesFile, name.bodiesFile] where DurableFile.exists(file(plain)) {
                let done = file(plain + CaptureFileName.compressed)
                let partial = done + CaptureFileName.partial
                try DurableFile.remove(partial)
                try compressor.compress(file(plain), to: partial)
                try DurableFile.rename(partial, to: done)
                try DurableFile.syncDirectory(path)
                try DurableFile.remove(file(plain))
                try DurableFile.syncDirectory(path)
            }
            unfinished[name] = nil
            metrics.filesFinished.increment()
            logger.info("finished \(name.bodiesFile).zst in \(started.duration(to: .now))")
        } catch {
            // A half-written .part only takes more of a disk that is likely full.
            for plain in [name.signaturesFile, name.bodiesFile] {
                try? DurableFile.remove(file(plain + CaptureFileName.compressed + CaptureFileName.partial))
            }
            unfinished[name] = "\(error)"
            metrics.finishFailures.increment()
            logger.error("cannot finish \(name.bodiesFile): \(error); it stays plain (every line in it is stored), tried again in \(retryInterval)")
        }
    }

    private func scheduleRetry() {
        guard !unfinished.isEmpty, !retryScheduled else { return }
        retryScheduled = true
        queue.asyncAfter(deadline: .now() + retryInterval) { [self] in
            retryScheduled = false
            for name in unfinished.keys.sorted() { attempt(name) }
            scheduleRetry()
        }
    }

    /// Returns once every file handed to `finish` is done, after one more try for each
    /// capture left plain; returns those still plain, with why (the next start finishes them).
    public func finishAll() -> [(file: String, reason: String)] {
        queue.sync {
            for name in unfinished.keys.sorted() { attempt(name) }
            return stillPlainOnQueue()
        }
    }

    /// The captures left plain after `finishAll`, without trying them again.
    public var stillPlain: [(file: String, reason: String)] { queue.sync { stillPlainOnQueue() } }

    private func stillPlainOnQueue() -> [(file: String, reason: String)] {
        unfinished.keys.sorted().map { (file: $0.bodiesFile, reason: unfinished[$0] ?? "") }
    }
}

/// Lines of a file, counted with memchr.
enum LineScan {
    struct Result {
        /// Complete lines (ending in LF), and the offset just after the last of them.
        var lines: Int
        var end: Int
        /// All bytes (decompressed).
        var size: Int
    }

    /// Counts lines, or stops after line `stopAfter` (then `end` is that line's end).
    static func scan(_ path: String, stopAfter: Int? = nil) throws(IOError) -> Result {
        let source = try openInput(path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var result = Result(lines: 0, end: 0, size: 0)
        if stopAfter == 0 { return result }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return result }
            var position = 0
            while position < n, let hit = memchr(buffer.baseAddress! + position, 0x0A, n - position) {
                let at = buffer.baseAddress!.distance(to: hit)
                result.lines += 1
                result.end = result.size + at + 1
                position = at + 1
                if result.lines == stopAfter { return result }
            }
            result.size += n
        }
    }

    /// The bytes of a plain file from `offset` to its end.
    static func read(_ path: String, from offset: Int) throws(IOError) -> [UInt8] {
        let source = try FileSource(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var seen = 0
        var tail: [UInt8] = []
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return tail }
            if seen + n > offset {
                let from = max(0, offset - seen)
                tail.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[from..<n]))
            }
            seen += n
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

import CoexIO
import CoexJSON
import CoexKit
import Dispatch
import Logging
import Synchronization

/// When a capture file ends and the next begins.
public struct RotationPolicy: Sendable {
    public var interval: Duration
    public var size: Int
    public init(interval: Duration = .seconds(3600), size: Int = 1 << 30) {
        self.interval = interval
        self.size = size
    }
}

/// The capture files being written, with group commit: deliveries that arrive while a
/// commit is on its way to disk wait for the next one, which writes all of them and
/// syncs each file once. A delivery is acknowledged (its `store` returns) only after the
/// commit that holds it is durable. No delay is added to gather a group: at low load
/// each delivery is its own commit. A commit holds at most `maxCommitBytes` of bodies (one
/// larger body is a commit of its own), and at most `maxWaitingBytes` wait: a delivery
/// waits for the commit in progress and at most `maxWaitingBytes / maxCommitBytes` more,
/// its own included. Past that the disk is behind, and a delivery is refused
/// (`CaptureError.busy`, a 503 that Meta retries) instead of waiting longer.
public final class CaptureLog: Sendable {
    private struct Waiting {
        var line: [UInt8]
        var record: SignatureRecord
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue: ~Copyable {
        var waiting: [Waiting] = []
        var waitingBytes = 0
        var stopping = false
        var currentFile: String?
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let writer: Writer
    private let maxCommitBytes: Int
    private let maxWaitingBytes: Int

    public init(directory: CaptureDirectory, rotation: RotationPolicy, maxCommitBytes: Int = 16 << 20,
                maxWaitingBytes: Int = 256 << 20) {
        writer = Writer(directory: directory, rotation: rotation)
        self.maxCommitBytes = maxCommitBytes
        self.maxWaitingBytes = max(maxWaitingBytes, maxCommitBytes)
    }

    /// The file deliveries go to now (nil before the first delivery or after a rotation).
    public var currentFile: String? { queue.withLock { $0.currentFile } }

    /// Starts the writer thread (not one of Swift's cooperative threads: fsync blocks).
    public func start() {
        DispatchQueue(label: "coex.capture.writer").async { [self] in
            run()
            stopped.signal()
        }
    }

    /// Stores `body` as received, with its signature and arrival time; returns once it is
    /// on disk. Throws `CaptureError.stopping` after `stop()`, `.busy` when too much waits
    /// already, `.storage` when the write failed.
    public func store(body: [UInt8], signature: String, receivedAt: CaptureTime) async throws {
        var line = body
        let breaks = CapturedBody.escapeLineBreaks(&line)
        let record = SignatureRecord(line: 0, receivedAt: receivedAt.iso, signature: signature, bytes: body.count,
                                     breaks: breaks)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let refusal = queue.withLock { q -> CaptureError? in
                guard !q.stopping else { return .stopping }
                guard q.waiting.isEmpty || q.waitingBytes + line.count <= maxWaitingBytes else {
                    return .busy(waitingBytes: q.waitingBytes)
                }
                q.waiting.append(Waiting(line: line, record: record, continuation: continuation))
                q.waitingBytes += line.count
                return nil
            }
            if let refusal { continuation.resume(throwing: refusal) } else { wake.signal() }
        }
    }

    /// Refuses new deliveries, commits the waiting ones, closes and finishes (compresses)
    /// the current file, and returns when every file is finished: with the captures that
    /// could not be compressed (still plain, whole; the next start finishes them).
    @discardableResult
    public func stop() async -> [(file: String, reason: String)] {
        queue.withLock { $0.stopping = true }
        wake.signal()
        return await withCheckedContinuation { (done: CheckedContinuation<[(file: String, reason: String)], Never>) in
            DispatchQueue.global().async { [self] in
                stopped.wait()
                stopped.signal()
                done.resume(returning: writer.directory.finishAll())
            }
        }
    }

    private func run() {
        while true {
            let (batch, stopping) = queue.withLock { q -> ([Waiting], Bool) in
                var bytes = 0
                var count = 0
                while count < q.waiting.count && (count == 0 || bytes + q.waiting[count].line.count <= maxCommitBytes) {
                    bytes += q.waiting[count].line.count
                    count += 1
                }
                let batch = Array(q.waiting.prefix(count))
                q.waiting.removeFirst(count)
                q.waitingBytes -= bytes
                return (batch, q.stopping)
            }
            if batch.isEmpty {
                if stopping {
                    writer.close()
                    publish()
                    return
                }
                if let remaining = writer.untilRotation() {
                    if wake.wait(timeout: .now() + .nanoseconds(max(0, nanoseconds(remaining)))) == .timedOut {
                        writer.rotateIfDue()
                        publish()
                    }
                } else {
                    wake.wait()
                }
                continue
            }
            let result = writer.commit(batch.map { ($0.line, $0.record) })
            for waiting in batch {
                switch result {
                case .success: waiting.continuation.resume()
                case .failure(let error): waiting.continuation.resume(throwing: error)
                }
            }
            writer.rotateIfDue()
            publish()
        }
    }

    private func publish() {
        let name = writer.currentName
        queue.withLock { $0.currentFile = name }
    }
}


/// The writer thread's own state: the open files. Used from that thread only.
private final class Writer: @unchecked Sendable {
    struct OpenFile {
        var name: CaptureFileName
        var bodies: DurableFile
        var signatures: DurableFile
        var lines = 0
        var opened: ContinuousClock.Instant
    }

    let directory: CaptureDirectory
    let rotation: RotationPolicy
    private var current: OpenFile?
    private var last: CaptureFileName?
    private var signatureText = JSONWriter(capacity: 1 << 16)
    private var bodyBytes: [UInt8] = []

    init(directory: CaptureDirectory, rotation: RotationPolicy) {
        self.directory = directory
        self.rotation = rotation
    }

    var currentName: String? { current?.name.bodiesFile }

    /// Time left before the open file is due to end; nil with no file open.
    func untilRotation() -> Duration? {
        guard let current else { return nil }
        return rotation.interval - current.opened.duration(to: .now)
    }

    /// Writes the lines and their records, syncs both files; all or nothing.
    func commit(_ lines: [([UInt8], SignatureRecord)]) -> Result<Void, CaptureError> {
        let started = ContinuousClock.now
        var file: OpenFile
        if let current {
            file = current
        } else {
            do throws(CaptureError) { file = try open() } catch { return .failure(error) }
        }
        current = file
        bodyBytes.removeAll(keepingCapacity: true)
        signatureText.reset()
        for (i, (line, record)) in lines.enumerated() {
            bodyBytes += line
            bodyBytes.append(0x0A)
            var numbered = record
            numbered.line = file.lines + i + 1
            numbered.write(to: &signatureText)
        }
        let bodiesSize = file.bodies.size
        let signaturesSize = file.signatures.size
        do throws(IOError) {
            try file.bodies.append(bodyBytes)
            try file.signatures.append(signatureText.bytes)
            try file.bodies.sync()
            try file.signatures.sync()
        } catch {
            // Nothing of this commit may stay: the file ends at its last durable line. The
            // file is then finished, and the next commit starts a new one.
            try? file.bodies.truncate(to: bodiesSize)
            try? file.signatures.truncate(to: signaturesSize)
            try? file.bodies.sync()
            try? file.signatures.sync()
            directory.logger.error("\(error.description); \(lines.count) deliveries refused, \(file.name.bodiesFile) ended")
            end()
            return .failure(.storage(error))
        }
        file.lines += lines.count
        current = file
        directory.metrics.commit(deliveries: lines.count, took: started.duration(to: .now))
        for (line, _) in lines { directory.metrics.accept(bytes: line.count) }
        return .success(())
    }

    private func open() throws(CaptureError) -> OpenFile {
        if last == nil { last = try directory.lastName() }
        let name = CaptureFileName.next(at: .now(), after: last)
        last = name
        do {
            let bodies = try DurableFile(appendingTo: directory.file(name.bodiesFile), exclusive: true)
            let signatures = try DurableFile(appendingTo: directory.file(name.signaturesFile), exclusive: true)
            // The new names must be durable before a line in them is acknowledged.
            try DurableFile.syncDirectory(directory.path)
            directory.metrics.filesOpened.increment()
            directory.logger.info("capturing to \(name.bodiesFile)")
            return OpenFile(name: name, bodies: bodies, signatures: signatures, opened: .now)
        } catch {
            throw .storage(error)
        }
    }

    func rotateIfDue() {
        guard let current else { return }
        if current.bodies.size >= rotation.size || current.opened.duration(to: .now) >= rotation.interval { end() }
    }

    /// Ends the open file: closed, then compressed in the background.
    private func end() {
        guard let file = current else { return }
        current = nil
        file.bodies.close()
        file.signatures.close()
        if file.lines > 0 {
            directory.finish(file.name)
        } else {
            try? DurableFile.remove(directory.file(file.name.bodiesFile))
            try? DurableFile.remove(directory.file(file.name.signaturesFile))
        }
    }

    func close() { end() }
}

import CoexCapture
import CoexIO
import CoexJSON
import CoexKit
import CoexTestSupport
import Foundation
import Logging
import Testing

@Suite struct CaptureFileNameTests {
    @Test func namesSortByTimeAndNeverGoBack() throws {
        let t = CaptureTime(micros: 1_796_658_060_123_456)  // 2026-12-07T15:41:00.123456Z
        #expect(t.iso == "2026-12-07T15:41:00.123456Z")
        let first = CaptureFileName.next(at: t, after: nil)
        #expect(first.base == "capture-20261207T154100.123456Z-0000")
        // The clock went back (or the same microsecond): the sequence goes up instead.
        let second = CaptureFileName.next(at: CaptureTime(micros: t.micros - 5_000_000), after: first)
        #expect(second.base == "capture-20261207T154100.123456Z-0001")
        #expect(second > first)
        let later = CaptureFileName.next(at: CaptureTime(micros: t.micros + 1), after: second)
        #expect(later.base == "capture-20261207T154100.123457Z-0000")
        #expect(later > second)
        #expect(CaptureFileName.of(file: "capture-20261207T154100.123456Z-0001.ndjson.zst") == second)
        #expect(CaptureFileName.of(file: "notes.txt") == nil)
    }
}

/// Files as a crash leaves them, put in order by `CaptureDirectory.recover`.
@Suite struct CaptureRecoveryTests {
    static func directory(_ dir: TempDir) throws -> CaptureDirectory {
        try CaptureDirectory(path: dir.path, logger: Logger(label: "test"), metrics: CaptureMetrics())
    }

    static func record(_ line: Int, _ body: String) -> String {
        var w = JSONWriter()
        SignatureRecord(line: line, receivedAt: "2026-12-07T00:00:00.000000Z",
                        signature: AppSecrets(["s"]).header(for: Array(body.utf8)), bytes: body.utf8.count).write(to: &w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// One receiver per directory: while one holds it, another is refused before its
    /// recovery could touch the open capture; once the first is gone it is free again.
    @Test func aDirectoryInUseIsRefused() throws {
        let dir = try TempDir("coex-capture-lock")
        var first: CaptureDirectory? = try Self.directory(dir)
        #expect(first != nil)
        do {
            _ = try Self.directory(dir)
            Issue.record("a second receiver got the directory")
        } catch let error as CaptureError {
            #expect(error.description == "--dir \(dir.path) is in use by another coex capture (pid \(getpid())): one receiver per directory; stop it, or give another --dir")
        }
        first = nil
        #expect(throws: Never.self) { _ = try Self.directory(dir) }
    }

    @Test func tornLastLineAndUnsignedLinesAreCutAndKeptAside() throws {
        let dir = try TempDir("coex-capture-recover")
        let base = "capture-20261207T000000.000000Z-0000"
        // Three complete lines and half of a fourth; records for the first two only.
        try ("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":" as String).write(toFile: dir.file(base + ".ndjson"), atomically: false, encoding: .utf8)
        try (Self.record(1, "{\"n\":1}") + Self.record(2, "{\"n\":2}") + "{\"line\":3,").write(
            toFile: dir.file(base + ".sig"), atomically: false, encoding: .utf8)
        try "half".write(toFile: dir.file("capture-20261206T000000.000000Z-0000.ndjson.zst.part"), atomically: false, encoding: .utf8)
        let captures = try Self.directory(dir)
        let notes = try captures.recover()
        #expect(notes.count == 3, "\(notes)")
        #expect(try String(contentsOfFile: dir.file(base + ".ndjson.torn"), encoding: .utf8) == "{\"n\":3}\n{\"n\":")
        #expect(try String(contentsOfFile: dir.file(base + ".sig.torn"), encoding: .utf8) == "{\"line\":3,")
        #expect(captures.finishAll().isEmpty)
        let names = try captureFiles(in: dir.path).sorted()
        #expect(names == [base + ".ndjson.torn", base + ".ndjson.zst", base + ".sig.torn", base + ".sig.zst"])
        let text = try Tools.bash("zstd -dc \(Tools.quote(dir.file(base + ".ndjson.zst"))) >&2")
        #expect(text == "{\"n\":1}\n{\"n\":2}\n")
    }

    @Test func compressedCopyWinsOverItsPlainLeftover() throws {
        let dir = try TempDir("coex-capture-recover")
        let base = "capture-20261207T000000.000000Z-0000"
        try "{\"n\":1}\n".write(toFile: dir.file(base + ".ndjson"), atomically: false, encoding: .utf8)
        try Tools.bash("zstd -q \(Tools.quote(dir.file(base + ".ndjson"))) -o \(Tools.quote(dir.file(base + ".ndjson.zst")))")
        let captures = try Self.directory(dir)
        try captures.recover()
        #expect(captures.finishAll().isEmpty)
        #expect(try captureFiles(in: dir.path) == [base + ".ndjson.zst"])
    }

    /// A compression that fails (here a directory squats on the bodies' .part name) leaves
    /// the capture plain and whole; it is tried again on a timer, and finishes once it can.
    @Test func failedCompressionIsTriedAgain() async throws {
        let dir = try TempDir("coex-capture-recover")
        let metrics = CaptureMetrics()
        let captures = try CaptureDirectory(path: dir.path, logger: Logger(label: "test"), metrics: metrics)
        captures.retryInterval = .milliseconds(100)
        let log = CaptureLog(directory: captures, rotation: RotationPolicy())
        log.start()
        try await log.store(body: Array("{\"n\":1}".utf8), signature: "sha256=00", receivedAt: .now())
        let plain = try #require(log.currentFile)
        let squatter = dir.file(plain + ".zst.part")
        try FileManager.default.createDirectory(atPath: squatter + "/x", withIntermediateDirectories: true)
        let left = await log.stop()
        #expect(left.map(\.file) == [plain])
        #expect(DurableFile.exists(dir.file(plain)), "the capture stays plain")
        #expect(metrics.registry.emitToString().contains("coex_capture_unfinished_files 1"))
        try FileManager.default.removeItem(atPath: squatter)
        // The timer tries again without anyone asking.
        let deadline = Date().addingTimeInterval(10)
        while DurableFile.exists(dir.file(plain)) && Date() < deadline { usleep(20_000) }
        #expect(captures.finishAll().isEmpty)
        let base = String(plain.dropLast(".ndjson".count))
        #expect(try captureFiles(in: dir.path).sorted() == [base + ".ndjson.zst", base + ".sig.zst"])
        #expect(try Tools.bash("zstd -dc \(Tools.quote(dir.file(base + ".ndjson.zst"))) >&2") == "{\"n\":1}\n")
        #expect(metrics.registry.emitToString().contains("coex_capture_unfinished_files 0"))
    }

    @Test func captureWithNothingAcknowledgedIsRemoved() throws {
        let dir = try TempDir("coex-capture-recover")
        let base = "capture-20261207T000000.000000Z-0000"
        try "{\"n\":1}\n{\"n".write(toFile: dir.file(base + ".ndjson"), atomically: false, encoding: .utf8)
        try "".write(toFile: dir.file(base + ".sig"), atomically: false, encoding: .utf8)
        let captures = try Self.directory(dir)
        try captures.recover()
        #expect(captures.finishAll().isEmpty)
        #expect(try captureFiles(in: dir.path) == [base + ".ndjson.torn"])
    }
}

@Suite struct CaptureLogTests {
    /// Concurrent stores: every body is in the finished file once, in some order, each with
    /// its record; fewer commits than deliveries (they were grouped).
    @Test func concurrentStoresAreAllDurableAndGrouped() async throws {
        let dir = try TempDir("coex-capture-log")
        let metrics = CaptureMetrics()
        let directory = try CaptureDirectory(path: dir.path, logger: Logger(label: "test"), metrics: metrics)
        let log = CaptureLog(directory: directory, rotation: RotationPolicy())
        log.start()
        let bodies = (0..<400).map { Array("{\"n\":\($0),\"t\":\"caf\u{e9} \u{1F600}\"}".utf8) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for body in bodies {
                group.addTask { try await log.store(body: body, signature: "sha256=00", receivedAt: .now()) }
            }
            try await group.waitForAll()
        }
        await log.stop()
        let names = try captureFiles(in: dir.path).sorted()
        #expect(names.count == 2 && names[0].hasSuffix(".ndjson.zst") && names[1].hasSuffix(".sig.zst"), "\(names)")
        let lines = try Tools.bash("zstd -dc \(Tools.quote(dir.file(names[0]))) >&2").split(separator: "\n").map { Array($0.utf8) }
        #expect(Set(lines) == Set(bodies))
        #expect(lines.count == bodies.count)
        let records = try Tools.bash("zstd -dc \(Tools.quote(dir.file(names[1]))) | wc -l >&2")
        #expect(records.trimmingCharacters(in: .whitespacesAndNewlines) == "400")
        await #expect(throws: CaptureError.self) { try await log.store(body: [], signature: "", receivedAt: .now()) }
    }

    /// The bounds of the wait: a commit holds at most maxCommitBytes of bodies, and past
    /// maxWaitingBytes waiting a delivery is refused (503) instead of waiting longer.
    @Test func waitingIsBoundedAndCommitsStayUnderTheirSize() async throws {
        let dir = try TempDir("coex-capture-log")
        let metrics = CaptureMetrics()
        let directory = try CaptureDirectory(path: dir.path, logger: Logger(label: "test"), metrics: metrics)
        // 40-byte bodies: a commit takes 2 (not 3: 120 would pass 100); 5 may wait.
        let log = CaptureLog(directory: directory, rotation: RotationPolicy(), maxCommitBytes: 100, maxWaitingBytes: 200)
        let body = { @Sendable (n: Int) in Array("{\"n\":\(n),\"pad\":\"\(String(repeating: "x", count: 40 - 15 - String(n).count))\"}".utf8) }
        #expect(body(1).count == 40)
        let stored = Statuses(6)
        // The writer is not started yet: everything waits.
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<5 {
                group.addTask { do { try await log.store(body: body(n), signature: "sha256=00", receivedAt: .now()); stored.set(n, 200) } catch { stored.set(n, 503) } }
            }
            // Once five wait, the sixth is refused at once.
            group.addTask {
                do {
                    try await Task.sleep(for: .milliseconds(300))
                    try await log.store(body: body(5), signature: "sha256=00", receivedAt: .now())
                    stored.set(5, 200)
                } catch CaptureError.busy(let waiting) {
                    #expect(waiting == 200)
                    stored.set(5, 503)
                    log.start()
                } catch {
                    Issue.record("\(error)")
                }
            }
        }
        #expect(stored.all == [200, 200, 200, 200, 200, 503])
        await log.stop()
        let text = metrics.registry.emitToString()
        #expect(text.contains("coex_capture_commits_total 3"), "\(text)")
        #expect(text.contains(#"coex_capture_commit_deliveries_bucket{le="2.0"} 3"#), "\(text)")
    }
}

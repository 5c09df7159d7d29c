import CoexIO
import CoexKit
import CoexTestSupport
import Foundation
import Testing

@Suite(.serialized) struct CrashAndImportTests {
    /// kill -9 in the middle of a concurrent load, then a restart: every acknowledged body
    /// is stored exactly once, and nothing torn is read as data.
    @Test func killNineUnderLoadLosesNothingAcknowledged() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture-kill"))
        try receiver.start(["--rotate-size", "32KiB"])
        let body = { @Sendable (worker: Int, n: Int) in
            Array(#"{"object":"whatsapp_business_account","entry":[{"id":"w\#(worker)-\#(n)","changes":[{"field":"coex_test","value":{"t":"é😀"}}]}]}"#.utf8)
        }
        let acked = AckedBodies()
        let pid = receiver.process!.processIdentifier
        onThreads(7) { worker in
            if worker == 6 {
                // The killer: once enough went through, mid-load.
                let deadline = Date().addingTimeInterval(120)
                while acked.count < 150 && Date() < deadline { usleep(5_000) }
                kill(pid, SIGKILL)
                return
            }
            // Bounded: a worker stops at its first refused or unanswered post, or after 2,000.
            for n in 0..<2_000 {
                let b = body(worker, n)
                let status = (try? receiver.signedPost(b)) ?? 0
                if status == 200 { acked.add(b) } else { break }
            }
        }
        _ = try receiver.stop(SIGKILL)
        #expect(acked.count >= 150)
        // A torn write as a crash at the wrong moment leaves it: half a body, no newline.
        let plain = try FileManager.default.contentsOfDirectory(atPath: receiver.captures).filter { $0.hasSuffix(".ndjson") }
        #expect(!plain.isEmpty, "the open file stays plain after kill -9")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: receiver.captures + "/" + plain[0]))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"object":"whatsapp_business_account","entry":[{"id":"torn"#.utf8))
        try handle.close()

        try receiver.start()
        #expect(receiver.log.contains("kept aside in \(plain[0]).torn"), "\(receiver.log)")
        #expect(try receiver.stop() == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: receiver.captures)
        #expect(!names.contains { $0.hasSuffix(".ndjson") || $0.hasSuffix(".sig") || $0.hasSuffix(".part") }, "\(names)")
        let stored = try receiver.storedBodies()
        var seen: [[UInt8]: Int] = [:]
        for b in stored { seen[b, default: 0] += 1 }
        for b in acked.all { #expect(seen[b] == 1, "\(String(decoding: b, as: UTF8.self)) stored \(seen[b] ?? 0) times") }
        #expect(!stored.contains { String(decoding: $0, as: UTF8.self).contains("torn") })
        // Every stored line verifies and validates: nothing torn is taken as data.
        let out = try Tools.run("coex-validate --app-secret-file \(Tools.quote(receiver.secretFile)) \(Tools.quote(receiver.captures))/*.ndjson.zst")
        #expect(out.stderr.contains("\(stored.count) signatures verified, 0 did not verify"), "\(out.stderr)")
        #expect(out.stderr.contains("\(stored.count) valid, 0 rejected"), "\(out.stderr)")
    }

    /// The samples, delivered one by one through the receiver, import to the databases that
    /// importing the sample files directly gives (only provenance, the file and line a row came from, and `imports` differ).
    @Test func capturedSamplesImportLikeTheSamples() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture-import"))
        try receiver.start()
        var lines: [[UInt8]] = []
        for sample in ["night1.ndjson", "night2.ndjson"] {
            lines += try Receiver.lines(Tools.repository.appendingPathComponent("samples/" + sample).path).filter { !$0.isEmpty }
        }
        for line in lines { #expect(try receiver.signedPost(line) == 200) }
        #expect(try receiver.stop() == 0)
        #expect(try receiver.storedBodies() == lines)
        let s = receiver.scratch
        try Tools.bash("""
            coex import --app-secret-file \(Tools.quote(receiver.secretFile)) \(Tools.quote(receiver.captures))/*.ndjson.zst --out-dir \(Tools.quote(s.file("via-capture")))
            coex import samples/night1.ndjson samples/night2.ndjson --out-dir \(Tools.quote(s.file("direct")))
            """)
        let dump = { (dir: String) throws -> String in
            try Tools.run("""
                cd \(Tools.quote(dir)) && for db in *.sqlite; do
                  cp "$db" /tmp/coex-cmp-$$.sqlite
                  for t in $(sqlite3 /tmp/coex-cmp-$$.sqlite "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type='table' AND c.name='source'"); do
                    sqlite3 /tmp/coex-cmp-$$.sqlite "UPDATE $t SET source = ''"
                  done
                  sqlite3 /tmp/coex-cmp-$$.sqlite "DELETE FROM imports"
                  echo "== $db"; sqlite3 /tmp/coex-cmp-$$.sqlite .dump
                  rm /tmp/coex-cmp-$$.sqlite
                done
                """).stdout
        }
        let direct = try dump(s.file("direct"))
        #expect(direct.contains("INSERT INTO messages"))
        #expect(try dump(s.file("via-capture")) == direct)
    }
    /// `captures/*` names the signature files too: they are left out of the inputs (said
    /// once), still read beside their captures, and never rejected as webhooks. Only a
    /// `.sig` with its capture beside it is left out; naming only signature files is a usage error.
    @Test func aWholeCaptureDirectoryIsInput() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture-dir"))
        try receiver.start()
        let bodies = (0..<3).map { Array(#"{"object":"whatsapp_business_account","entry":[{"id":"d\#($0)","changes":[]}]}"#.utf8) }
        for body in bodies { #expect(try receiver.signedPost(body) == 200) }
        #expect(try receiver.stop() == 0)
        let dir = Tools.quote(receiver.captures)
        let validated = try Tools.run("coex-validate --app-secret-file \(Tools.quote(receiver.secretFile)) \(dir)/*")
        #expect(validated.stdout.split(separator: "\n").count == 3)
        #expect(validated.stderr.contains(".sig.zst: signature file of coex capture, not webhooks: not read as input"), "\(validated.stderr)")
        #expect(validated.stderr.contains("3 signatures verified, 0 did not verify"), "\(validated.stderr)")
        #expect(validated.stderr.contains("3 lines read: 3 valid, 0 rejected"), "\(validated.stderr)")
        let imported = try Tools.run("coex import \(dir)/* --out-dir \(Tools.quote(receiver.scratch.file("db")))")
        #expect(imported.stderr.contains("coex-normalize: 3 lines read: 3 normalized, 0 rejected"), "\(imported.stderr)")
        let only = try Tools.run("coex-validate \(dir)/*.sig.zst", expectStatus: 64)
        #expect(only.stderr.contains("is a signature file of coex capture, not webhooks"), "\(only.stderr)")
        // A .sig without its capture is input like any other file: here, not a webhook.
        try Tools.bash("zstd -dc \(dir)/*.sig.zst > \(Tools.quote(receiver.scratch.file("lonely.sig")))")
        let lonely = try Tools.run("coex-validate \(Tools.quote(receiver.scratch.file("lonely.sig")))", expectStatus: 1)
        #expect(lonely.stderr.contains("lonely.sig:1: error"), "\(lonely.stderr)")
    }
    /// The nightly pipeline re-verifies a capture directory with COEX_APP_SECRET_FILE: under
    /// the right secret every line loads; under another app's, every line is a reject naming
    /// its file and line, and the night exits 2 (past the reject limit).
    @Test func nightlyPipelineVerifiesCaptures() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture-nightly"))
        try receiver.start()
        let lines = try Receiver.lines(Tools.repository.appendingPathComponent("samples/night1.ndjson").path).filter { !$0.isEmpty }
        for line in lines { #expect(try receiver.signedPost(line) == 200) }
        #expect(try receiver.stop() == 0)
        let q = Tools.quote, s = receiver.scratch
        let night = "COEX_BIN=\(q(try Tools.binDirectory().path)) pipelines/nightly-import.sh \(q(receiver.captures))/*"
        let good = try Tools.run("COEX_APP_SECRET_FILE=\(q(receiver.secretFile)) \(night) \(q(s.file("good")))")
        #expect(good.stderr.contains("coex-validate: \(lines.count) signatures verified, 0 did not verify"), "\(good.stderr)")
        #expect(good.stderr.contains("0 rejects"), "\(good.stderr)")
        #expect(!good.stdout.isEmpty, "the report")
        try "another app's secret\n".write(toFile: s.file("other"), atomically: true, encoding: .utf8)
        let bad = try Tools.run("COEX_APP_SECRET_FILE=\(q(s.file("other"))) \(night) \(q(s.file("bad")))", expectStatus: 2)
        #expect(bad.stderr.contains("0 signatures verified, \(lines.count) did not verify"), "\(bad.stderr)")
        let rejects = try String(contentsOfFile: s.file("bad/rejects.ndjson"), encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == lines.count)
        #expect(rejects.contains("signature does not verify") && rejects.contains(#""line":\#(lines.count)"#))
    }
    /// A stop whose compression fails (a directory squats on the .part name) exits 1 and says
    /// the capture stays plain; a restart, once it can, finishes it with every body in it.
    @Test func aStopThatCannotCompressExitsOne() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture-unfinished"))
        try receiver.start()
        let body = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"kept","changes":[]}]}"#.utf8)
        #expect(try receiver.signedPost(body) == 200)
        let health = try receiver.get("/healthz").body
        #expect(health.contains(#""unfinished_files":0"#), "\(health)")
        guard let range = health.range(of: #"capture-[0-9TZ.-]+\.ndjson"#, options: .regularExpression) else {
            Issue.record("no current file in \(health)")
            return
        }
        let plain = String(health[range])
        let squatter = receiver.captures + "/" + plain + ".zst.part"
        try FileManager.default.createDirectory(atPath: squatter + "/x", withIntermediateDirectories: true)
        #expect(try receiver.stop() == 1)
        #expect(receiver.log.contains("could not be compressed and stays plain: \(plain)"), "\(receiver.log)")
        #expect(!receiver.log.contains("files finished"))
        #expect(DurableFile.exists(receiver.captures + "/" + plain))
        try FileManager.default.removeItem(atPath: squatter)
        try receiver.start()
        #expect(try receiver.stop() == 0)
        #expect(try receiver.storedBodies() == [body])
        #expect(!DurableFile.exists(receiver.captures + "/" + plain))
    }
}

final class AckedBodies: @unchecked Sendable {
    private var bodies: [[UInt8]] = []
    private let lock = NSLock()
    func add(_ b: [UInt8]) { lock.lock(); bodies.append(b); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return bodies.count }
    var all: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return bodies }
}

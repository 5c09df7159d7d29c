import CoexKit
import CoexTestSupport
import Foundation
import Testing

/// `coex capture` over real HTTP on loopback, then its files through coex-validate and coex import.
@Suite(.serialized) struct ReceiverTests {
    @Test func verificationHandshake() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start()
        defer { _ = try? receiver.stop() }
        let right = try receiver.get("/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
        #expect(right.status == 200 && right.body == "1158201444")
        #expect(try receiver.get("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").status == 403)
        #expect(try receiver.get("/webhook?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1").status == 403)
        #expect(try receiver.get("/webhook?hub.mode=subscribe&hub.verify_token=verify-me").status == 403)
        #expect(try receiver.get("/webhook").status == 403)
        #expect(try receiver.stop() == 0)
    }

    /// Good, rotated-secret, bad and missing signatures; emoji, escaped and raw line breaks,
    /// a body that is not JSON, an oversized body. Only the 200s are stored, byte for byte,
    /// and they verify again through coex-validate.
    @Test func onlySignedBodiesAreStoredExactly() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start(["--max-body", "64KiB"])
        let accepted: [[UInt8]] = [
            Array(#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}"#.utf8),
            Array(#"{"object":"whatsapp_business_account","entry":[{"id":"2","changes":[{"field":"coex_test","value":{"text":"ol\u00e1 😀 café"}}]}]}"#.utf8),
            Array("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"3\",\"changes\":[{\"field\":\"coex_test\",\"value\":{\"body\":\"line\\nbreak\"}}]}]}".utf8),
            Array("{\n  \"object\": \"whatsapp_business_account\",\r\n  \"entry\": [{\"id\": \"4\", \"changes\": []}]\n}\n".utf8),
            Array("not json at all\nsecond line".utf8),
        ]
        var statuses: [Int] = []
        for body in accepted { statuses.append(try receiver.signedPost(body)) }
        // The old secret of a rotation still verifies.
        let rotated = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"5","changes":[]}]}"#.utf8)
        statuses.append(try receiver.post(rotated, signature: Receiver.oldSigner.header(for: rotated)))
        #expect(statuses == [200, 200, 200, 200, 200, 200], "\(receiver.log)")

        let refused = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"refused","changes":[]}]}"#.utf8)
        #expect(try receiver.post(refused, signature: nil) == 401)
        #expect(try receiver.post(refused, signature: AppSecrets(["another app"]).header(for: refused)) == 401)
        #expect(try receiver.post(refused, signature: "sha256=zz") == 401)
        // Signed over the re-serialized JSON instead of the raw bytes.
        let raw = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"refused","changes":[{"value":{"t":"caf\u00e9"}}]}]}"#.utf8)
        let reserialized = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"refused","changes":[{"value":{"t":"café"}}]}]}"#.utf8)
        #expect(try receiver.post(raw, signature: Receiver.signer.header(for: reserialized)) == 401)
        let oversized = Array(("{\"refused\":\"" + String(repeating: "x", count: 70_000) + "\"}").utf8)
        #expect(try receiver.signedPost(oversized) == 413)
        #expect(try receiver.get("/healthz").body.contains(#""accepted":6"#))
        #expect(try receiver.get("/metrics").body.contains(#"coex_capture_rejected_total{reason="bad_signature"} 3"#))
        #expect(try receiver.stop() == 0)
        #expect(!receiver.log.contains("refused"), "a refused body must never reach the log")

        let bodies = try receiver.storedBodies()
        #expect(bodies == accepted + [rotated])
        #expect(try receiver.stored().allSatisfy { !$0.line.contains(0x0A) && !$0.line.contains(0x0D) })
        for name in try captureFiles(in: receiver.captures) {
            let text = try Tools.bash("zstd -dc \(Tools.quote(receiver.captures + "/" + name)) >&2")
            #expect(!text.contains("refused"), "\(name) holds a refused body")
        }
        // Re-verified line by line; only the non-JSON body is quarantined, with file and line.
        let rejects = receiver.scratch.file("rejects.ndjson")
        let out = try Tools.run("coex-validate --app-secret-file \(Tools.quote(receiver.secretFile)) --rejects \(Tools.quote(rejects)) "
                                + "--max-rejects 100% \(Tools.quote(receiver.captures))/*.ndjson.zst")
        #expect(out.stderr.contains("6 signatures verified, 0 did not verify"), "\(out.stderr)")
        #expect(out.stdout.split(separator: "\n").count == 5)
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(rejected.split(separator: "\n").count == 1)
        #expect(rejected.contains(#""line":5"#) && rejected.contains(".ndjson.zst"))
        // Under another app's secret nothing verifies.
        try "someone else's\n".write(toFile: receiver.scratch.file("other"), atomically: true, encoding: .utf8)
        let other = try Tools.run("coex-validate --app-secret-file \(Tools.quote(receiver.scratch.file("other"))) "
                                  + "\(Tools.quote(receiver.captures))/*.ndjson.zst", expectStatus: 1)
        #expect(other.stdout.isEmpty)
        #expect(other.stderr.contains(":1: error: signature does not verify"))
    }

    /// A client that sends its head and then trickles: 408 after --body-timeout, and the
    /// receiver goes on serving everyone else meanwhile.
    @Test func slowClientTimesOut() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start(["--body-timeout", "1s"])
        defer { _ = try? receiver.stop() }
        let started = Date()
        // Promises 1000 bytes, sends 10, then waits longer than the timeout.
        let answer = try receiver.servingOthersWhile { out in """
            exec 3<>/dev/tcp/127.0.0.1/\(receiver.port)
            printf 'POST /webhook HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1000\\r\\nX-Hub-Signature-256: sha256=00\\r\\n\\r\\n{"object":' >&3
            timeout 10 cat <&3 > \(out)
            """ }
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(Date().timeIntervalSince(started) < 8)
        #expect(try receiver.stop() == 0)
        #expect(try receiver.storedBodies() == [Receiver.emptyDelivery])
    }

    /// A signed body that is empty or only whitespace (raw line breaks included) is stored as
    /// a blank line; the importer quarantines it with file and line instead of skipping it as blank.
    @Test func emptySignedBodiesAreQuarantinedNotSkipped() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start()
        let good = Array(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
        for body in [[], Array(" \r\n\t ".utf8), good] { #expect(try receiver.signedPost(body) == 200) }
        #expect(try receiver.stop() == 0)
        let rejects = receiver.scratch.file("rejects.ndjson")
        let out = try Tools.run("coex-validate --app-secret-file \(Tools.quote(receiver.secretFile)) --rejects \(Tools.quote(rejects)) "
                                + "--max-rejects 100% \(Tools.quote(receiver.captures))/*.ndjson.zst")
        #expect(out.stderr.contains("3 signatures verified, 0 did not verify; 2 verified bodies empty, rejected"), "\(out.stderr)")
        #expect(out.stderr.contains("3 lines read: 1 valid, 2 rejected, 0 blank"), "\(out.stderr)")
        #expect(out.stdout.split(separator: "\n").count == 1)
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
        #expect(rejected.count == 2)
        #expect(rejected.first?.contains(#""line":1"#) == true && rejected.last?.contains(#""line":2"#) == true)
        #expect(rejected.allSatisfy { $0.contains("body is empty or only whitespace") })
        // Without the signatures a blank line is only blank: nothing says it was a delivery.
        let plain = try Tools.run("coex-validate \(Tools.quote(receiver.captures))/*.ndjson.zst")
        #expect(plain.stderr.contains("3 lines read: 1 valid, 0 rejected, 2 blank"), "\(plain.stderr)")
    }

    /// A client that trickles its head, a byte at a time, never gets to a body timeout: its
    /// connection is closed once --idle-timeout passes without a complete head (the idle
    /// clock counts HTTP parts, not bytes), and everyone else is served meanwhile.
    @Test func slowHeadIsClosedAtTheIdleTimeout() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start(["--idle-timeout", "1s"])
        defer { _ = try? receiver.stop() }
        let answer = try receiver.servingOthersWhile { out in """
            trap '' PIPE
            exec 3<>/dev/tcp/127.0.0.1/\(receiver.port)
            printf 'POST /webhook HTTP/1.1\\r\\nHost: x\\r\\n' >&3
            for i in $(seq 1 40); do
              sleep 0.2
              printf 'X' >&3 2>/dev/null || { echo "closed after $i" > \(out); exit 0; }
            done
            echo "open after 8 s" > \(out)
            """ }
        let ticks = Int(answer.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "") ?? 99
        #expect(answer.hasPrefix("closed after") && ticks <= 15, "\(answer)")
        #expect(try receiver.stop() == 0)
        #expect(try receiver.storedBodies() == [Receiver.emptyDelivery])
    }

    /// A second receiver on the same --dir exits 1 before it touches anything; the first
    /// goes on storing.
    @Test func secondReceiverOnTheDirectoryIsRefused() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start()
        defer { _ = try? receiver.stop() }
        let first = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}"#.utf8)
        #expect(try receiver.signedPost(first) == 200)
        let q = Tools.quote, s = receiver.scratch
        let second = try Tools.run("coex capture --listen 127.0.0.1:0 --dir \(q(receiver.captures)) --app-secret-file \(q(receiver.secretFile)) --verify-token-file \(q(s.file("token")))", expectStatus: 1)
        #expect(second.stderr.contains("is in use by another coex capture (pid \(receiver.process!.processIdentifier))"), "\(second.stderr)")
        let after = Array(#"{"object":"whatsapp_business_account","entry":[{"id":"2","changes":[]}]}"#.utf8)
        #expect(try receiver.signedPost(after) == 200)
        #expect(try receiver.stop() == 0)
        #expect(try receiver.storedBodies() == [first, after])
    }

    /// Clients at once: every 200 is stored exactly once, and group commit gathered them.
    @Test func concurrentClients() throws {
        let receiver = try Receiver(scratch: try TempDir("coex-capture"))
        try receiver.start()
        let bodies = (0..<160).map { Array(#"{"object":"whatsapp_business_account","entry":[{"id":"\#($0)","changes":[]}]}"#.utf8) }
        let statuses = Statuses(bodies.count)
        onThreads(8) { worker in
            for i in stride(from: worker, to: bodies.count, by: 8) {
                statuses.set(i, (try? receiver.signedPost(bodies[i])) ?? 0)
            }
        }
        #expect(statuses.all.allSatisfy { $0 == 200 })
        #expect(try receiver.stop() == 0)
        let stored = try receiver.storedBodies()
        #expect(stored.count == bodies.count)
        #expect(Set(stored) == Set(bodies))
    }
}

/// Results written from several threads.
final class Statuses: @unchecked Sendable {
    private var values: [Int]
    private let lock = NSLock()
    init(_ count: Int) { values = Array(repeating: 0, count: count) }
    func set(_ i: Int, _ v: Int) { lock.lock(); values[i] = v; lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return values }
}

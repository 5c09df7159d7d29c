import CoexCapture
import CoexIO
import CoexJSON
import CoexKit
import CoexTestSupport
import Foundation
import Testing

/// A real `coex capture` on a loopback port picked by the kernel, talked to with curl.
final class Receiver: @unchecked Sendable {
    static let secret = "app-secret-\u{e9}"
    static let oldSecret = "the-previous-secret"
    static let token = "verify-me"
    static let signer = AppSecrets([secret])
    static let oldSigner = AppSecrets([oldSecret])

    let scratch: TempDir
    var captures: String { scratch.file("captures") }
    var secretFile: String { scratch.file("secret") }
    private(set) var process: Process?
    private(set) var port = 0
    private var runs = 0
    var log: String { (try? String(contentsOfFile: scratch.file("log-\(runs)"), encoding: .utf8)) ?? "" }

    init(scratch: TempDir) throws {
        self.scratch = scratch
        try FileManager.default.createDirectory(atPath: scratch.file("captures"), withIntermediateDirectories: true)
        try "\(Self.secret)\n\(Self.oldSecret)\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try "\(Self.token)\n".write(toFile: scratch.file("token"), atomically: true, encoding: .utf8)
    }

    /// Starts the receiver and waits until it listens.
    func start(_ extra: [String] = []) throws {
        runs += 1
        let process = Process()
        process.executableURL = try Tools.binDirectory().appendingPathComponent("coex")
        process.arguments = ["capture", "--listen", "127.0.0.1:0", "--dir", captures, "--app-secret-file", secretFile,
                             "--verify-token-file", scratch.file("token")] + extra
        let logPath = scratch.file("log-\(runs)")
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = log.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(log[range].split(separator: ":").last!)!
                return
            }
            guard process.isRunning else { throw TestError("coex capture exited \(process.terminationStatus):\n\(log)") }
            usleep(20_000)
        }
        throw TestError("coex capture did not listen within 30 s:\n\(log)")
    }

    static let emptyDelivery = Array(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)

    /// Runs a misbehaving client (`script` gets the quoted path it writes what it saw to)
    /// and, while it runs, checks that a signed delivery still gets its 200; returns what
    /// the client wrote.
    func servingOthersWhile(_ script: (_ out: String) -> String) throws -> String {
        let out = scratch.file("client-\(UUID().uuidString)")
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/bin/bash")
        client.arguments = ["-c", script(Tools.quote(out))]
        try client.run()
        usleep(300_000)
        #expect(try signedPost(Self.emptyDelivery) == 200)
        client.waitUntilExit()
        return try String(contentsOfFile: out, encoding: .utf8)
    }

    /// Sends a signal and waits for the exit; returns the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) throws -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// POSTs `body` with a signature header (none when nil); returns the HTTP status (0: no answer).
    func post(_ body: [UInt8], signature: String?, path: String = "/webhook") throws -> Int {
        let file = scratch.file("body-\(UUID().uuidString)")
        try Data(body).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let header = signature.map { "-H " + Tools.quote("X-Hub-Signature-256: " + $0) } ?? ""
        let out = try Tools.run("curl -s -o /dev/null -w '%{http_code}' --max-time 20 \(header) "
                                + "-H 'Content-Type: application/json' --data-binary @\(Tools.quote(file)) \(Tools.quote(url + path)) || true")
        return Int(out.stdout) ?? 0
    }

    func signedPost(_ body: [UInt8]) throws -> Int { try post(body, signature: Self.signer.header(for: body)) }

    /// GETs `path`; returns the status and the body.
    func get(_ path: String) throws -> (status: Int, body: String) {
        let out = try Tools.run("curl -s -w '\\n%{http_code}' --max-time 20 \(Tools.quote(url + path))")
        var lines = out.stdout.components(separatedBy: "\n")
        let status = Int(lines.removeLast()) ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    /// Every stored line with its signature record, from the finished (.zst) files in name order.
    func stored() throws -> [(line: [UInt8], record: SignatureRecord)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: captures).filter { $0.hasSuffix(".ndjson.zst") }.sorted()
        var all: [(line: [UInt8], record: SignatureRecord)] = []
        let parser = JSONParser()
        for name in names {
            let lines = try Self.lines(captures + "/" + name)
            let records = try Self.lines(captures + "/" + name.replacingOccurrences(of: ".ndjson.zst", with: ".sig.zst"))
            guard lines.count == records.count else { throw TestError("\(name): \(lines.count) lines, \(records.count) records") }
            for (line, record) in zip(lines, records) {
                guard let parsed = SignatureRecord(try parser.parse(record)) else { throw TestError("bad record in \(name)") }
                all.append((line, parsed))
            }
        }
        return all
    }

    /// The bodies exactly as received: each line with its line breaks put back.
    func storedBodies() throws -> [[UInt8]] {
        try stored().map { entry in
            guard let body = entry.line.withUnsafeBytes({ CapturedBody.restore($0, breaks: entry.record.breaks) }) else {
                throw TestError("line breaks do not fit line \(entry.record.line)")
            }
            return body
        }
    }

    static func lines(_ path: String) throws -> [[UInt8]] {
        let reader = LineReader(source: try openInput(path))
        var lines: [[UInt8]] = []
        while let line = try reader.next() { lines.append(Array(line.bytes)) }
        return lines
    }
}

/// Runs `work` on `count` threads of their own and waits for all of them. Not
/// `concurrentPerform`: that runs only as many at once as there are cores, so a worker that
/// waits for the others (the killer below) would never start on a small machine.
func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        Thread.detachNewThread { work(index); done.leave() }
    }
    done.wait()
}

/// What the receiver wrote in a captures directory, without its lock file.
func captureFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0 != CaptureDirectory.lockName }
}

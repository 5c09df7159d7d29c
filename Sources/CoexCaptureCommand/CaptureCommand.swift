import ArgumentParser
import CoexCLI
import CoexCapture
import CoexIO
import CoexKit
import Logging

/// `coex capture`: the webhook receiver that writes the captures coex imports.
public struct CaptureCommand: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex capture",
        abstract: "Receive Meta's webhooks: verify signatures, store each delivery before its 200, rotate and compress.",
        discussion: """
            GET with hub.mode=subscribe and the right hub.verify_token: 200 and the
            hub.challenge as text; any other GET: 403. POST: the body must carry
            X-Hub-Signature-256 = HMAC-SHA256 of the raw body under an app secret (401
            otherwise, never stored); a body over --max-body: 413; a body not all
            received within --body-timeout: 408; while 256 MiB of deliveries already
            wait for the disk: 503 (Meta retries). A good body is appended to
            DIR/capture-<UTC time>-<seq>.ndjson as one line, exactly as received (raw
            CR/LF as TAB), its signature and arrival time to the .sig file beside it,
            and the 200 goes out after both are fsync'd (group commit). Finished files
            are compressed to .ndjson.zst and .sig.zst. GET /healthz (JSON) and
            GET /metrics (Prometheus text) count deliveries since start.
            Import with: coex import --app-secret-file F DIR/*.ndjson.zst --out-dir DBS

            EXIT STATUS
              0   stopped by SIGTERM or SIGINT: in-flight requests answered, files
                  closed and compressed
              1   could not start (address in use, DIR not creatable or not writable or
                  in use by another receiver, a secret or token file unreadable or empty),
                  failed while running, or stopped with a capture it could not compress
                  (left plain and whole; the next start compresses it)
              64  usage error
            """,
        version: coexVersion)

    @Option(help: ArgumentHelp("Address to listen on; port 0 picks a free port (the log says which).", valueName: "HOST:PORT"))
    var listen: String = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Directory of the capture files (created if missing).", valueName: "CAPTURES"))
    var dir: String

    @Option(name: .customLong("app-secret-file"), help: ArgumentHelp(
        "The app secret, one per line: during a rotation, old and new (a body signed by any of them is accepted).", valueName: "F"))
    var appSecretFile: String

    @Option(name: .customLong("verify-token-file"), help: ArgumentHelp("The verify token of the subscription handshake.", valueName: "F"))
    var verifyTokenFile: String

    @Option(name: .customLong("max-body"), help: ArgumentHelp(
        "Largest body accepted (413 above). Meta's payloads stay under 3 MB; 4MiB leaves room and caps what one request can hold in memory.",
        valueName: "SIZE"))
    var maxBody: String = "4MiB"

    @Option(help: ArgumentHelp("Start a new capture file after this long (e.g. 1h, 15m, 90s).", valueName: "DURATION"))
    var rotate: String = "1h"

    @Option(name: .customLong("rotate-size"), help: ArgumentHelp("Start a new capture file once it holds this much.", valueName: "SIZE"))
    var rotateSize: String = "1GiB"

    @Option(name: .customLong("body-timeout"), help: ArgumentHelp("A body must have arrived this long after its request began (408).", valueName: "DURATION"))
    var bodyTimeout: String = "10s"

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close a connection with nothing sent or received for this long.", valueName: "DURATION"))
    var idleTimeout: String = "60s"

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "LEVEL"))
    var logLevel: String = "info"

    public func validate() throws {
        _ = try address()
        for (flag, value) in [("--max-body", maxBody), ("--rotate-size", rotateSize)] {
            guard let n = parseSize(value), n > 0 else { throw ValidationError("\(flag) must be a size like 4MiB or 1GiB (got \(value))") }
        }
        for (flag, value) in [("--rotate", rotate), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout)] {
            guard parseDuration(value) != nil else { throw ValidationError("\(flag) must be a duration like 1h, 15m, 10s or 500ms, at most 365d (got \(value))") }
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
    }

    public func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "coex capture")
        let (host, port) = try address()
        let secrets: AppSecrets
        let token: String
        do {
            secrets = try AppSecrets.parse(try readSmallFile(appSecretFile))
            token = try verifyToken(from: try readSmallFile(verifyTokenFile))
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode.failure
        }
        let settings = CaptureSettings(
            host: host, port: port, directory: dir, secrets: secrets, verifyToken: token,
            maxBody: parseSize(maxBody) ?? 4 << 20,
            rotation: RotationPolicy(interval: parseDuration(rotate) ?? .seconds(3600), size: parseSize(rotateSize) ?? 1 << 30),
            bodyTimeout: parseDuration(bodyTimeout) ?? .seconds(10), idleTimeout: parseDuration(idleTimeout) ?? .seconds(60),
            logger: logger)
        do {
            try await CaptureServer.run(settings)
        } catch {
            logger.critical("\(error)")
            throw ExitCode.failure
        }
    }

    private func address() throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port) else { throw ValidationError(CaptureError.listen(listen).description) }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// "1h", "15m", "90s", "500ms", "2d" → a duration; nil for anything else, zero, or over
/// 365 days (no timeout or rotation needs more, and the timers count in nanoseconds).
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, millis) in units where text.hasSuffix(suffix) {
        guard let n = Int64(text.dropLast(suffix.count)), n > 0 else { return nil }
        let (total, overflow) = n.multipliedReportingOverflow(by: millis)
        guard !overflow, total <= 365 * 86_400_000 else { return nil }
        return .milliseconds(total)
    }
    return nil
}

extension CaptureCommand {
    /// Parses and runs the command (ArgumentParser's `main(_:)` with arguments is the
    /// synchronous one); exits with the command's status.
    public static func run(arguments: [String]) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if let capture = command as? CaptureCommand {
                try await capture.run()
            } else {
                try command.run()
            }
            exit(withError: nil)
        } catch {
            exit(withError: error)
        }
    }
}

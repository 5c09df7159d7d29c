import CoexKit
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What `coex capture` is told.
public struct CaptureSettings: Sendable {
    public var host: String
    public var port: Int
    public var directory: String
    public var secrets: AppSecrets
    public var verifyToken: String
    /// Bodies larger than this get 413. Meta's payloads stay under 3 MB.
    public var maxBody: Int
    public var rotation: RotationPolicy
    /// A request's whole body must arrive within this time of its head (else 408).
    public var bodyTimeout: Duration
    /// A connection with nothing read or written for this long is closed.
    public var idleTimeout: Duration
    public var logger: Logger

    public init(host: String, port: Int, directory: String, secrets: AppSecrets, verifyToken: String,
                maxBody: Int = 4 << 20, rotation: RotationPolicy = RotationPolicy(), bodyTimeout: Duration = .seconds(10),
                idleTimeout: Duration = .seconds(60), logger: Logger) {
        self.host = host
        self.port = port
        self.directory = directory
        self.secrets = secrets
        self.verifyToken = verifyToken
        self.maxBody = maxBody
        self.rotation = rotation
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }
}

/// The receiver: puts the captures directory in order, then serves until SIGTERM or
/// SIGINT, then stops accepting, lets the requests in flight finish, commits, and
/// finishes (compresses) the open file.
public enum CaptureServer {
    /// Runs until a signal stops it; `onListening` gets the bound address ("127.0.0.1:8080").
    public static func run(_ settings: CaptureSettings, onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let logger = settings.logger
        let metrics = CaptureMetrics()
        let directory = try CaptureDirectory(path: settings.directory, logger: logger, metrics: metrics)
        try directory.recover()
        let log = CaptureLog(directory: directory, rotation: settings.rotation)
        log.start()
        let responder = WebhookResponder(settings: settings, log: log, metrics: metrics)
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(nanoseconds(settings.idleTimeout))))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil, backlog: 1024,
                                 reuseAddress: true),
            services: [CaptureLogService(log: log)],
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? settings.host):\($0.port ?? settings.port)" }
                    ?? "\(settings.host):\(settings.port)"
                logger.notice("listening on \(address), capturing to \(settings.directory)")
                onListening(address)
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        do {
            try await group.run()
        } catch {
            // The log is closed by its service in a graceful stop; after a failure (the
            // port is taken, say) it still must not leave its file open.
            await log.stop()
            throw error
        }
        // The log's stop already tried each of them once more.
        let left = directory.stillPlain
        guard left.isEmpty else {
            throw CaptureError.unfinished(left.map { "\($0.file) (\($0.reason))" })
        }
        logger.notice("stopped: every acknowledged delivery is on disk, files finished")
    }
}

/// Stops the capture log after the HTTP server has stopped (a service group stops its
/// services in reverse order: the server, added after this one, stops first).
struct CaptureLogService: Service {
    let log: CaptureLog

    func run() async throws {
        try? await gracefulShutdown()
        await log.stop()
    }
}

func nanoseconds(_ d: Duration) -> Int {
    Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000)
}

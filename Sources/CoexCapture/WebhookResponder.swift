import CoexKit
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Answers Meta's requests. `GET` with `hub.mode=subscribe` is the subscription handshake;
/// `POST` is a delivery, stored before its 200. `GET /healthz` and `GET /metrics` are for
/// monitors. Any other path is the callback URL: Meta calls whatever path was configured.
struct WebhookResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let settings: CaptureSettings
    let log: CaptureLog
    let metrics: CaptureMetrics

    static let signatureHeader = HTTPField.Name("X-Hub-Signature-256")!

    func respond(to request: Request, context: Context) async throws -> Response {
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"), (.head, "/healthz"):
            return Self.response(.ok, contentType: "application/json", metrics.health(status: "ok", currentFile: log.currentFile))
        case (.get, "/metrics"):
            return Self.response(.ok, contentType: "text/plain; version=0.0.4", metrics.registry.emitToBuffer())
        case (.get, _):
            return verify(request)
        case (.post, _):
            return await deliver(request)
        default:
            var response = refuse(.method, .methodNotAllowed, "only GET and POST are answered", request)
            response.headers[.allow] = "GET, POST"
            return response
        }
    }

    /// The handshake: the challenge back, as text, for the right token; 403 otherwise.
    private func verify(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        guard query["hub.mode"] == "subscribe", let token = query["hub.verify_token"],
              constantTimeEqual(String(token), settings.verifyToken), let challenge = query["hub.challenge"]
        else {
            return refuse(.verifyRefused, .forbidden, "verification refused (wrong or missing hub.mode, hub.verify_token or hub.challenge)",
                          request, body: "forbidden\n", close: false)
        }
        metrics.verified.increment()
        settings.logger.notice("subscription verified")
        return Self.response(.ok, String(challenge))
    }

    private func deliver(_ request: Request) async -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > settings.maxBody {
            return refuse(.tooLarge, .contentTooLarge, "body of \(length) bytes is over --max-body \(settings.maxBody)", request)
        }
        let body: [UInt8]
        switch await BodyCollector.collect(request.body, limit: settings.maxBody, timeout: settings.bodyTimeout) {
        case .body(let bytes): body = bytes
        case .tooLarge: return refuse(.tooLarge, .contentTooLarge, "body over --max-body \(settings.maxBody)", request)
        case .timedOut:
            return refuse(.slowClient, .requestTimeout, "body not received within \(settings.bodyTimeout)", request)
        case .failed(let error):
            return refuse(.incompleteBody, .badRequest, "body not received: \(error)", request)
        }
        let receivedAt = CaptureTime.now()
        let header = request.headers[Self.signatureHeader]
        switch settings.secrets.check(header: header, body: body) {
        case .valid: break
        case .missing:
            return refuse(.missingSignature, .unauthorized, "no X-Hub-Signature-256 (\(body.count) bytes, not stored)", request)
        case .malformed:
            return refuse(.badSignature, .unauthorized, "X-Hub-Signature-256 is not sha256=<64 hex digits> (\(body.count) bytes, not stored)", request)
        case .mismatch:
            return refuse(.badSignature, .unauthorized, "signature does not verify under any app secret (\(body.count) bytes, not stored)", request)
        }
        do {
            try await log.store(body: body, signature: header ?? "", receivedAt: receivedAt)
        } catch {
            switch error as? CaptureError {
            case .stopping?: return refuse(.stopping, .serviceUnavailable, "stopping: delivery refused, Meta retries it", request)
            case .busy?: return refuse(.overloaded, .serviceUnavailable, "\(error): delivery refused, Meta retries it", request)
            default: return refuse(.storageFailed, .serviceUnavailable, "\(error)", request)
            }
        }
        return Self.response(.ok, "")
    }

    /// Counts and logs a refused request, with its method, path and declared size, never its
    /// body, and answers it. The connection is closed (unless `close` is off, for a request
    /// without a body): the rest of an unread body must not be taken for the next request.
    private func refuse(_ reason: CaptureMetrics.Reason, _ status: HTTPResponse.Status, _ message: String,
                        _ request: Request, body: String? = nil, close: Bool = true) -> Response {
        metrics.reject(reason)
        let size = request.headers[.contentLength].map { "Content-Length \($0)" }
            ?? (request.headers[.transferEncoding] != nil ? "chunked" : "no body")
        settings.logger.notice("\(status.code) \(reason.rawValue): \(request.method) \(request.uri.path) (\(size)): \(message)")
        var response = Self.response(status, body ?? "\(status.reasonPhrase)\n")
        if close { response.headers[.connection] = "close" }
        return response
    }

    static func response(_ status: HTTPResponse.Status, contentType: String = "text/plain; charset=utf-8", _ text: String) -> Response {
        response(status, contentType: contentType, Array(text.utf8))
    }

    static func response(_ status: HTTPResponse.Status, contentType: String, _ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Reads a request body within a size and a time limit.
enum BodyCollector {
    enum Outcome: Sendable {
        case body([UInt8])
        case tooLarge
        case timedOut
        case failed(String)
    }

    static func collect(_ body: RequestBody, limit: Int, timeout: Duration) async -> Outcome {
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                do {
                    for try await chunk in body {
                        if bytes.count + chunk.readableBytes > limit { return .tooLarge }
                        bytes.append(contentsOf: chunk.readableBytesView)
                    }
                } catch {
                    return .failed("\(error)")
                }
                return .body(bytes)
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return .failed("cancelled") }
                return .timedOut
            }
            let first = await group.next() ?? .failed("no result")
            group.cancelAll()
            return first
        }
    }
}

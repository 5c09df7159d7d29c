@preconcurrency import Crypto
import Foundation

/// Meta's `X-Hub-Signature-256` check: HMAC-SHA256 of the raw body bytes under the app
/// secret. Taken over the bytes exactly as they arrived, never over re-serialized JSON
/// (which differs in escapes of emoji and accents and so never verifies).
public struct AppSecrets: Sendable {
    private let keys: [SymmetricKey]

    public var count: Int { keys.count }

    /// Several secrets verify during a rotation: a body passes if any of them signed it.
    public init(_ secrets: [String]) {
        keys = secrets.map { SymmetricKey(data: Array($0.utf8)) }
    }

    /// One secret per line; blank lines and lines starting with `#` are skipped, and
    /// surrounding spaces (a trailing newline from `echo`) are not part of a secret.
    public static func parse(_ text: String) throws(SignatureFileError) -> AppSecrets {
        let secrets = lines(of: text)
        guard !secrets.isEmpty else { throw .empty("no app secret in the file") }
        return AppSecrets(secrets)
    }

    static func lines(of text: String) -> [String] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingSpaces() }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// Checks a signature header value (`sha256=<64 hex digits>`) against `body`.
    public func check(header: String?, body: some DataProtocol) -> SignatureCheck {
        guard let header else { return .missing }
        guard let mac = Self.decode(header) else { return .malformed }
        return check(mac: mac, body: body)
    }

    /// Checks a decoded 32-byte MAC; each comparison takes the same time whatever the bytes.
    public func check(mac: [UInt8], body: some DataProtocol) -> SignatureCheck {
        for (index, key) in keys.enumerated()
        where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) {
            return .valid(secret: index)
        }
        return .mismatch
    }

    /// The signature header for `body` under the first secret (for tests and load generators).
    public func header(for body: some DataProtocol) -> String {
        guard let key = keys.first else { return "" }
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return "sha256=" + hex(Array(mac))
    }

    /// `sha256=` then 64 hex digits (either case) → 32 bytes; anything else is malformed.
    public static func decode(_ header: String) -> [UInt8]? {
        var text = Substring(header.trimmingSpaces())
        guard text.lowercased().hasPrefix("sha256=") else { return nil }
        text = text.dropFirst(7)
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = nibble(digits[2 * i]), let low = nibble(digits[2 * i + 1]) else { return nil }
            bytes[i] = high << 4 | low
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// What a signature check found.
public enum SignatureCheck: Sendable, Equatable {
    /// Signed by the secret at this index of the file.
    case valid(secret: Int)
    case missing
    /// Not `sha256=` and 64 hex digits.
    case malformed
    /// Well formed, but no configured secret produced it.
    case mismatch

    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }
}

/// A secret or token file that cannot be used.
public enum SignatureFileError: Error, CustomStringConvertible, Equatable {
    case empty(String)

    public var description: String {
        switch self {
        case .empty(let message): message
        }
    }
}

/// The verify token Meta echoes in the subscription handshake: the file's first
/// non-blank, non-comment line.
public func verifyToken(from text: String) throws(SignatureFileError) -> String {
    guard let token = AppSecrets.lines(of: text).first else { throw .empty("no verify token in the file") }
    return token
}

/// Equal strings, compared in a time that depends only on their lengths.
public func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" || c == "\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" || c == "\n" { s.removeLast() }
        return String(s)
    }
}

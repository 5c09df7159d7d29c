import CoexJSON

/// A message id in the shape of real ones: "wamid." + base64 of
/// 1c 18 0b <11 phone digits> 15 02 00 <11 out | 12 in> 18 <n> <n hex chars> 00.
/// `id` is unique per business (a bijective mix of a counter), so wamids never collide.
struct Wamid: Equatable {
    var phone: UInt64
    var id: UInt64
    /// 0: 20 hex chars ("3A" + 18), 1: 18 hex chars, 2: 16 hex chars.
    var variant: UInt8
    var outbound: Bool

    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    static let base64: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Writes the wamid text into `out` (needs 80 bytes) and returns its length.
    func render(_ out: UnsafeMutablePointer<UInt8>) -> Int {
        var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &raw) { rawBuffer -> Int in
            let r = rawBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = 0
            r[0] = 0x1C; r[1] = 0x18; r[2] = 0x0B; n = 3
            var p = phone
            for i in stride(from: 10, through: 0, by: -1) {
                r[n + i] = UInt8(ascii: "0") &+ UInt8(p % 10)
                p /= 10
            }
            n += 11
            r[n] = 0x15; r[n + 1] = 0x02; r[n + 2] = 0x00; r[n + 3] = outbound ? 0x11 : 0x12; r[n + 4] = 0x18
            n += 5
            let hexCount = variant == 0 ? 20 : (variant == 1 ? 18 : 16)
            r[n] = UInt8(hexCount); n += 1
            if variant == 0 { r[n] = UInt8(ascii: "3"); r[n + 1] = UInt8(ascii: "A"); n += 2 }
            var v = id
            for i in stride(from: 15, through: 0, by: -1) {
                r[n + i] = Wamid.hexDigits[Int(v & 0xF)]
                v >>= 4
            }
            n += 16
            if variant <= 1 {
                // Two more hex chars derived from the id (keeps the wamid a pure function of the fields).
                let extra = SplitMix64.mix(id) & 0xFF
                r[n] = Wamid.hexDigits[Int(extra >> 4)]; r[n + 1] = Wamid.hexDigits[Int(extra & 0xF)]
                n += 2
            }
            r[n] = 0x00; n += 1
            // "wamid." + base64 with padding.
            let prefix: StaticString = "wamid."
            var o = 0
            prefix.withUTF8Buffer { for b in $0 { out[o] = b; o += 1 } }
            var i = 0
            while i + 3 <= n {
                let x = UInt32(r[i]) << 16 | UInt32(r[i + 1]) << 8 | UInt32(r[i + 2])
                out[o] = Wamid.base64[Int(x >> 18)]; out[o + 1] = Wamid.base64[Int((x >> 12) & 63)]
                out[o + 2] = Wamid.base64[Int((x >> 6) & 63)]; out[o + 3] = Wamid.base64[Int(x & 63)]
                o += 4; i += 3
            }
            let rest = n - i
            if rest == 1 {
                let x = UInt32(r[i]) << 16
                out[o] = Wamid.base64[Int(x >> 18)]; out[o + 1] = Wamid.base64[Int((x >> 12) & 63)]
                out[o + 2] = UInt8(ascii: "="); out[o + 3] = UInt8(ascii: "=")
                o += 4
            } else if rest == 2 {
                let x = UInt32(r[i]) << 16 | UInt32(r[i + 1]) << 8
                out[o] = Wamid.base64[Int(x >> 18)]; out[o + 1] = Wamid.base64[Int((x >> 12) & 63)]
                out[o + 2] = Wamid.base64[Int((x >> 6) & 63)]; out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    var text: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buf in
            let n = render(buf.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: buf[0..<n]), as: UTF8.self)
        }
    }
}

/// Renders an unsigned integer as ASCII digits (zero-padded to `width`).
@inline(__always)
func digitBytes(_ value: UInt64, width: Int = 0) -> [UInt8] {
    var out: [UInt8] = []
    var v = value
    repeat { out.append(UInt8(ascii: "0") &+ UInt8(v % 10)); v /= 10 } while v > 0
    while out.count < width { out.append(UInt8(ascii: "0")) }
    return out.reversed()
}

extension JSONWriter {
    /// A constant string value.
    @inline(__always)
    mutating func str(_ s: StaticString) {
        s.withUTF8Buffer { string(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    mutating func str(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { string($0) }
    }

    /// A string of decimal digits, e.g. a digit-string timestamp or a media id.
    mutating func digits(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buf in
            var i = 24
            var v = value
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
            } while v > 0
            string(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[i..<24])))
        }
    }

    /// A Unix timestamp in seconds: a digit string, or an integer when `asInt`.
    @inline(__always)
    mutating func timestamp(_ seconds: Int64, asInt: Bool) {
        if asInt { int(seconds) } else { digits(UInt64(seconds)) }
    }

    mutating func wamid(_ w: Wamid) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buf in
            let n = w.render(buf.baseAddress!)
            string(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[0..<n])))
        }
    }

    /// `count` random lowercase hex characters (sha256 hashes, conversation ids).
    mutating func hex(_ rng: inout Xoshiro256, count: Int) {
        let digits: StaticString = "0123456789abcdef"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { buf in
            var bits: UInt64 = 0
            var left = 0
            digits.withUTF8Buffer { d in
                for i in 0..<count {
                    if left == 0 { bits = rng.next(); left = 16 }
                    buf[i] = d[Int(bits & 0xF)]
                    bits >>= 4
                    left -= 1
                }
            }
            string(UnsafeRawBufferPointer(UnsafeBufferPointer(buf)))
        }
    }

    /// A fixed-point decimal number with `decimals` digits after the point (e.g. coordinates).
    mutating func fixed(_ scaled: Int64, decimals: Int) {
        var text: [UInt8] = []
        let negative = scaled < 0
        var m = scaled.magnitude
        var frac: [UInt8] = []
        for _ in 0..<decimals { frac.append(UInt8(ascii: "0") &+ UInt8(m % 10)); m /= 10 }
        if negative { text.append(UInt8(ascii: "-")) }
        text.append(contentsOf: digitBytes(m))
        if decimals > 0 { text.append(UInt8(ascii: ".")); text.append(contentsOf: frac.reversed()) }
        text.withUnsafeBytes { raw($0) }
    }
}

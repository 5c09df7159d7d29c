#if canImport(Glibc)
import Glibc
#endif
/// Edits of a record line in place of a decode and re-encode: the stages after
/// coex-normalize add their member (arrival, seq) before the closing brace.
public enum RecordLine {
    /// `line` with `,"NAME":VALUE` added before its closing brace; a line that does not
    /// end in a brace is copied unchanged.
    public static func append(
        _ line: UnsafeRawBufferPointer, member name: StaticString, value: Int, to out: inout [UInt8]
    ) {
        var end = line.count
        while end > 0 && (line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D) { end -= 1 }
        guard end > 1, line[end - 1] == UInt8(ascii: "}") else {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[0..<end]))
            return
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[0..<(end - 1)]))
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
        appendDecimal(value, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The decimal digits of `value` (no String in between: this runs for every record).
    public static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 {
            out.append(contentsOf: String(value).utf8)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// A record line's members before its provenance, as coex writes them (`source`,
    /// `line`, then `arrival` and `seq` last): what two deliveries of one fact have in
    /// common. The last `,"source":` is the top-level one: a quote inside a string is
    /// escaped, and nested objects come before the provenance. Nil when there is none.
    public static func content(of line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let marker: StaticString = #","source":"#
        let n = marker.utf8CodeUnitCount
        var at = line.count - n
        while at >= 0 {
            if line[at] == 0x2C && line[at + 1] == 0x22 && memcmp(line.baseAddress! + at, marker.utf8Start, n) == 0 {
                return UnsafeRawBufferPointer(rebasing: line[..<at])
            }
            at -= 1
        }
        return nil
    }
}

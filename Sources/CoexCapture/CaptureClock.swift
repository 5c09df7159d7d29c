#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock times as the capture files write them: UTC, to the microsecond.
public struct CaptureTime: Sendable, Comparable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public let micros: Int64

    public init(micros: Int64) { self.micros = micros }

    public static func now() -> CaptureTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return CaptureTime(micros: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    public static func < (a: CaptureTime, b: CaptureTime) -> Bool { a.micros < b.micros }

    /// `2026-12-07T15:41:00.123456Z`, for signature records.
    public var iso: String { format(dateSeparator: "-", timeSeparator: ":") }

    /// `20261207T154100.123456Z`, for file names (sorts as it reads).
    public var compact: String { format(dateSeparator: "", timeSeparator: "") }

    private func format(dateSeparator d: String, timeSeparator t: String) -> String {
        var seconds = time_t(micros / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let fraction = String(micros % 1_000_000)
        return pad(parts.tm_year + 1900, 4) + d + pad(parts.tm_mon + 1, 2) + d + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + t + pad(parts.tm_min, 2) + t + pad(parts.tm_sec, 2) + "."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}

import CArchive
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libarchive's own text, with the OS error appended when it carries one (e.g. "No such file or directory").
func failureReason(_ archive: OpaquePointer?) -> String {
    guard let archive else { return "unknown error" }
    let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
    let code = archive_errno(archive)
    guard code > 0 else { return message }
    let system = String(cString: strerror(code))
    return message.contains(system) ? message : "\(message): \(system)"
}

// MARK: Character set

/// A UTF-8 C locale, or nil where the C library has none.
private nonisolated(unsafe) let utf8Locale: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

/// Whether non-ASCII entry names can be written (see `withUTF8Locale`).
var canWriteNonASCIINames: Bool { utf8Locale != nil }

/// Runs `body` with the calling thread in a UTF-8 locale.
///
/// libarchive converts entry names between UTF-8 and the current locale's character set, and a Swift
/// process runs in the ASCII "C" locale: there libarchive 3.6 refuses non-ASCII names, and its pax
/// writer even crashes (NULL strlen) on a name given as UTF-8. `uselocale` changes only the calling
/// thread, unlike `setlocale`, so other code in the process is unaffected, and the output no longer
/// depends on whatever locale the process happens to run in. libarchive remembers the character set
/// per archive object on first use, so every call on an archive goes through here.
func withUTF8Locale<T>(_ body: () throws -> T) rethrows -> T {
    guard let utf8Locale else { return try body() }
    let previous = uselocale(utf8Locale)
    defer { uselocale(previous) }
    return try body()
}

// MARK: Time zone

/// Serializes our own TZ changes; it cannot protect other code in the process that reads TZ meanwhile.
private let timeZoneLock = Mutex<Void>(())

/// Runs `body` with the process time zone set to UTC, then restores TZ exactly (including unset).
func withUTCTimeZone<T: Sendable>(_ body: () -> T) -> T {
    timeZoneLock.withLock { _ in
        let saved = getenv("TZ").map { String(cString: $0) }
        // A POSIX TZ string, so it works even without tzdata installed.
        setenv("TZ", "UTC0", 1)
        // glibc's localtime_r reads TZ only once unless tzset() is called again.
        tzset()
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        return body()
    }
}

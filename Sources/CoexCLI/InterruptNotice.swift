#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM during a run that writes databases: one line on stderr says what state
/// they are in, then the process ends with 128 + the signal's number, as a shell reports it.
/// The line is composed before any signal can arrive: a handler may only write(2) and _exit.
public enum InterruptNotice {
    nonisolated(unsafe) private static var text: UnsafeMutablePointer<UInt8>?
    nonisolated(unsafe) private static var length = 0

    /// `command` names the process in the line ("coex-load", "coex import").
    public static func install(_ command: String) {
        // A progress line may be on the terminal: the notice replaces it.
        let line = (isatty(2) == 1 ? "\r\u{1B}[K" : "") + "\(command): interrupted: each database is as it was before this run, or fully written by it "
            + "(one transaction each); run the same input again to complete the import\n"
        let bytes = Array(line.utf8)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
        buffer.initialize(from: bytes, count: bytes.count)
        text = buffer
        length = bytes.count
        // A launcher may have blocked them (the mask is inherited): a run it cannot stop
        // with a signal would be worse than one that says what it leaves behind.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in [SIGINT, SIGTERM] {
            sigaddset(&unblock, number)
            signal(number) { received in
                if let text = InterruptNotice.text { _ = write(2, text, InterruptNotice.length) }
                _exit(128 + received)
            }
        }
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }
}

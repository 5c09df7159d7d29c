import ArgumentParser
import CoexIO
import CoexSamples

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reports a problem on standard error.
func complain(_ message: String) {
    let text = Array("coex-gen: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Writes bytes to a file descriptor in large blocks. A closed pipe (EPIPE) ends the program
/// quietly with status 0: `coex-gen | head` is a normal way to look at a capture.
final class BlockWriter {
    static let blockSize = 1 << 20
    let fd: Int32
    let name: String
    let buffer: UnsafeMutablePointer<UInt8>
    var used = 0

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
        buffer = .allocate(capacity: Self.blockSize)
    }

    deinit { buffer.deallocate() }

    @inline(__always)
    func appendLine(_ line: [UInt8]) {
        let n = line.count
        if used + n + 1 > Self.blockSize {
            flush()
            if n + 1 > Self.blockSize {
                line.withUnsafeBytes { writeAll($0.baseAddress!, $0.count) }
                buffer[0] = 0x0A
                used = 1
                return
            }
        }
        line.withUnsafeBufferPointer { src in
            (buffer + used).update(from: src.baseAddress!, count: n)
        }
        buffer[used + n] = 0x0A
        used += n + 1
    }

    func flush() {
        if used > 0 { writeAll(UnsafeRawPointer(buffer), used) }
        used = 0
    }

    private func writeAll(_ start: UnsafeRawPointer, _ count: Int) {
        var done = 0
        while done < count {
            let n = write(fd, start + done, count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EPIPE { exit(0) }
            complain("cannot write \(name): \(String(cString: strerror(errno)))")
            exit(1)
        }
    }
}

struct CoexGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coex-gen",
        abstract: "Generate a deterministic capture of WhatsApp Coexistence webhooks (NDJSON, one raw body per line).",
        discussion: """
            Every business (WABA, 1-2 phone numbers) gets realistic traffic: history sync (phases 2, 1, 0 in \
            chunks; media placeholders resolved later) or a declined history (2593109), contact-list sync, live \
            messages of every type, echoes, statuses (some failed, some for API-sent messages), edits (some before \
            their original), revokes, 131060 `unsupported` messages followed by their real content, account_update \
            events, batched bodies, exact redeliveries, and unknown fields and types. Users switch from phone \
            numbers to BSUIDs between nights (--bsuid-share).

            The same options (seed included) always give byte-identical output.

            Examples:
              coex-gen --seed 7 --messages 500 | head
              coex-gen --size 200MB > capture.ndjson
              coex-gen --nights 3 --out-prefix /tmp/cap --truth /tmp/cap.truth.json
            """,
        version: coexVersion)

    @Option(help: "Seed of every random choice.")
    var seed: UInt64 = 1

    @Option(help: "Number of businesses (default 8; with --size, one per 25 MB, at least 8).")
    var businesses: Int?

    @Option(help: "WhatsApp users chatting with each business (default: messages / 25, at least 8).")
    var users: Int?

    @Option(help: "Messages per business (default 2000). Not with --size.")
    var messages: Int?

    @Option(help: "Target size of the whole capture, e.g. 200MB, 1GB, 64MiB (at least this much is written).")
    var size: String?

    @Option(help: "Share of lines delivered twice, byte for byte (0 to 0.5).")
    var redeliveries: Double = 0.03

    @Option(help: "Number of nightly parts; with --out-prefix each goes to its own file.")
    var nights: Int = 1

    @Option(help: "Write PREFIX.night1.ndjson ... PREFIX.nightN.ndjson instead of standard output.")
    var outPrefix: String?

    @Option(help: "Share of users known by phone on early nights and only by BSUID later (0 to 1; 0 = no BSUIDs).")
    var bsuidShare: Double = 0.1

    @Flag(help: "Deliver in event order (no jitter, no out-of-order chunks, no edits before originals).")
    var noShuffle = false

    @Option(help: "Also write the generator's ground truth (counts per business) as JSON to this file.")
    var truth: String?

    func makeOptions() throws -> CaptureOptions {
        var o = CaptureOptions()
        o.seed = seed
        if messages != nil && size != nil { throw ValidationError("--messages and --size cannot be used together.") }
        if let size {
            guard let bytes = CaptureOptions.parseByteSize(size) else {
                throw ValidationError("--size: cannot read '\(size)' (try 200MB, 1GB, 64MiB or a byte count).")
            }
            o.targetBytes = bytes
            o.businesses = businesses ?? min(1_000, max(8, bytes / 25_000_000))
        } else {
            o.businesses = businesses ?? 8
            o.messagesPerBusiness = messages ?? 2_000
        }
        o.usersPerBusiness = users ?? 0
        if users == 0 { throw ValidationError("--users must be at least 1.") }
        o.redeliveryRate = redeliveries
        o.nights = nights
        o.bsuidShare = bsuidShare
        o.shuffle = !noShuffle
        if let problem = o.problem { throw ValidationError(problem + ".") }
        return o
    }

    func validate() throws {
        _ = try makeOptions()
        if outPrefix == "" { throw ValidationError("--out-prefix must not be empty.") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let options = try makeOptions()
        var writers: [BlockWriter] = []
        if let prefix = outPrefix {
            for n in 1...options.nights {
                let path = "\(prefix).night\(n).ndjson"
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                if fd < 0 {
                    complain("cannot create \(path): \(String(cString: strerror(errno)))")
                    throw ExitCode(1)
                }
                writers.append(BlockWriter(fd: fd, name: path))
            }
        } else {
            writers.append(BlockWriter(fd: 1, name: "standard output"))
        }
        var it = CaptureGenerator(options).makeIterator()
        if writers.count == 1 {
            let w = writers[0]
            while let (_, line) = it.next() { w.appendLine(line) }
        } else {
            while let (night, line) = it.next() { writers[night - 1].appendLine(line) }
        }
        for w in writers {
            w.flush()
            if w.fd != 1 { close(w.fd) }
        }
        if let path = truth {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 {
                complain("cannot create \(path): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            let w = BlockWriter(fd: fd, name: path)
            w.appendLine(it.truth.json)
            w.flush()
            close(fd)
        }
    }
}

CoexGen.main()

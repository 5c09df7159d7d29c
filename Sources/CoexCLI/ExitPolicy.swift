import ArgumentParser

/// The exit statuses of every coex command, in one place: a nightly script tells a good
/// night (0) from a failed one (1), a night past its reject limit (2) and an empty one (3).
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The run could not do its work: an input unreadable, an output unwritable, a database
    /// that failed, the wrong kind of stream, or rejects with no --rejects file to keep them.
    case failure = 1
    /// The run finished and its good records went through, but more lines were rejected
    /// than --max-rejects allows.
    case tooManyRejects = 2
    /// No line at all was read: an empty capture, or nothing came down the pipe.
    case emptyInput = 3
    case usage = 64

    public var exitCode: ExitCode { ExitCode(rawValue) }
}

/// `--max-rejects N` or `--max-rejects P%`: how many rejects a run may have and still succeed.
public struct RejectLimit: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    public enum Bound: Sendable, Equatable {
        case count(Int)
        /// Percent of the lines read.
        case percent(Double)
    }

    public let bound: Bound

    /// A few bad lines pass; a night that is mostly garbage does not.
    public static let standard = RejectLimit(bound: .percent(10))

    public init(bound: Bound) { self.bound = bound }

    public init?(argument: String) {
        if argument.hasSuffix("%") {
            guard let p = Double(argument.dropLast()), p >= 0, p <= 100 else { return nil }
            bound = .percent(p)
        } else {
            guard let n = Int(argument), n >= 0 else { return nil }
            bound = .count(n)
        }
    }

    /// Whether `rejects` out of `lines` read is past the limit.
    public func isExceeded(rejects: Int, lines: Int) -> Bool {
        switch bound {
        case .count(let n): rejects > n
        case .percent(let p): Double(rejects) > Double(lines) * p / 100
        }
    }

    public var description: String {
        switch bound {
        case .count(let n): "\(n)"
        case .percent(let p): p == p.rounded() ? "\(Int(p))%" : "\(p)%"
        }
    }
}

/// How a finished run ends: its status and the line that says why (nil for a clean run).
public struct RunVerdict: Sendable, Equatable {
    public let status: ExitStatus
    public let message: String?

    /// `failed`: the run already failed (its errors are on stderr).
    public static func judge(failed: Bool, lines: Int, rejects: Int, limit: RejectLimit,
                             rejectsFile: String?, inputs: [String]) -> RunVerdict {
        if failed { return RunVerdict(status: .failure, message: nil) }
        if lines == 0 {
            let names = inputs == ["-"] ? "stdin" : inputs.joined(separator: ", ")
            return RunVerdict(status: .emptyInput,
                              message: "empty input: no line read from \(names) (exit \(ExitStatus.emptyInput.rawValue))")
        }
        guard rejects > 0 else { return RunVerdict(status: .success, message: nil) }
        let share = Double(rejects) * 100 / Double(lines)
        let counted = "\(rejects) \(rejects == 1 ? "reject" : "rejects") for \(lines) \(lines == 1 ? "line" : "lines") read "
            + "(\(Self.percent(share)))"
        let file = rejectsFile.map { " written to \($0)" } ?? ""
        if limit.isExceeded(rejects: rejects, lines: lines) {
            return RunVerdict(status: .tooManyRejects,
                              message: "\(counted)\(file): past --max-rejects \(limit); the good records went through "
                                  + "(exit \(ExitStatus.tooManyRejects.rawValue))")
        }
        return RunVerdict(status: .success, message: "\(counted)\(file), within --max-rejects \(limit)")
    }

    private static func percent(_ share: Double) -> String {
        share >= 10 || share == share.rounded() ? "\(Int(share.rounded()))%" : "\((share * 10).rounded() / 10)%"
    }
}

/// The exit status paragraph every stage's --help ends with.
public let exitStatusHelp = """
    EXIT STATUS
      0   success: every line went through, or the rejects (written to --rejects)
          are within --max-rejects (default \(RejectLimit.standard) of the lines read)
      1   the run failed: an input could not be read, an output could not be
          written, the input is another stage's stream (the message names the
          stage it goes to), or lines were rejected with no --rejects file to
          keep them
      2   too many rejects: past --max-rejects; the good records still went
          through and the rejects are in the --rejects file
      3   empty input: no line was read
      64  usage error (unknown option, missing value, no input files while stdin
          is a terminal)
      130, 143  interrupted by SIGINT, SIGTERM
    A closed stdout (the reader went away, as with '| head') ends the run quietly
    with 0.
    """

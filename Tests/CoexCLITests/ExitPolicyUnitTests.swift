import CoexCLI
import Testing

@Suite("Exit policy and options")
struct ExitPolicyUnitTests {
    @Test("--max-rejects takes a count or a percentage, nothing else")
    func rejectLimitParsing() {
        #expect(RejectLimit(argument: "5")?.bound == .count(5))
        #expect(RejectLimit(argument: "0")?.bound == .count(0))
        #expect(RejectLimit(argument: "2.5%")?.bound == .percent(2.5))
        #expect(RejectLimit(argument: "100%")?.bound == .percent(100))
        for bad in ["-1", "101%", "ten", "%", "", "5 %"] { #expect(RejectLimit(argument: bad) == nil, "\(bad)") }
        #expect(RejectLimit.standard.description == "10%")
    }

    @Test("a limit is past when rejects exceed it, not when they reach it")
    func exceeded() {
        #expect(!RejectLimit(bound: .count(2)).isExceeded(rejects: 2, lines: 10))
        #expect(RejectLimit(bound: .count(2)).isExceeded(rejects: 3, lines: 10))
        #expect(!RejectLimit(bound: .percent(10)).isExceeded(rejects: 1, lines: 10))
        #expect(RejectLimit(bound: .percent(10)).isExceeded(rejects: 2, lines: 10))
    }

    @Test("failure beats empty input, which beats too many rejects; rejects within the limit succeed with a line")
    func verdicts() {
        func judge(failed: Bool = false, lines: Int, rejects: Int, limit: RejectLimit = .standard) -> RunVerdict {
            RunVerdict.judge(failed: failed, lines: lines, rejects: rejects, limit: limit, rejectsFile: "r.ndjson",
                             inputs: ["a.ndjson"])
        }
        #expect(judge(failed: true, lines: 0, rejects: 5).status == .failure)
        #expect(judge(lines: 0, rejects: 0).status == .emptyInput)
        #expect(judge(lines: 0, rejects: 0).message?.contains("a.ndjson") == true)
        #expect(judge(lines: 10, rejects: 0) == RunVerdict.judge(failed: false, lines: 10, rejects: 0, limit: .standard,
                                                                  rejectsFile: nil, inputs: ["-"]))
        #expect(judge(lines: 10, rejects: 0).status == .success)
        #expect(judge(lines: 10, rejects: 0).message == nil)
        let within = judge(lines: 100, rejects: 3)
        #expect(within.status == .success)
        #expect(within.message == "3 rejects for 100 lines read (3%) written to r.ndjson, within --max-rejects 10%")
        let past = judge(lines: 10, rejects: 5)
        #expect(past.status == .tooManyRejects)
        #expect(past.message?.contains("past --max-rejects 10%") == true)
        #expect(ExitStatus.tooManyRejects.rawValue == 2 && ExitStatus.emptyInput.rawValue == 3 && ExitStatus.usage.rawValue == 64)
    }

    @Test("sizes: units, binary suffixes, plain bytes; garbage and overflow are nil")
    func sizes() {
        #expect(parseSize("256MB") == 256 << 20)
        #expect(parseSize("2GB") == 2 << 30)
        #expect(parseSize("64MiB") == 64 << 20)
        #expect(parseSize("4kb") == 4 << 10)
        #expect(parseSize("1048576") == 1 << 20)
        #expect(parseSize("lots") == nil)
        #expect(parseSize("-5MB") == nil)
        #expect(parseSize("99999999999TB") == nil)
    }
}

import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

@main
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coex-validate",
        abstract: "Check that every line is a well-formed Coexistence webhook body.",
        discussion: """
            Valid lines go to stdout as envelopes carrying their provenance:
              {"source":FILE,"line":N,"dropped":K,"body":{...webhook as captured...}}
            ("dropped" only when K records of the line were rejected on their own).
            Invalid lines and records are rejects (see --rejects). A summary goes to stderr.

            \(exitStatusHelp)
            """)

    @OptionGroup var input: InputOptions

    func run() throws {
        try runStage(ValidateStage.name, input: input) { io throws(IOError) in
            var stage = ValidateStage()
            var output = JSONWriter(capacity: 1 << 20)
            var rejects: [Reject] = []
            try io.forEachLine(input.inputs) { line, source throws(IOError) in
                stage.process(line.bytes, padded: true, provenance: Provenance(source: source, line: line.number),
                              output: &output, rejects: &rejects)
                try io.report(&rejects)
                if output.bytes.count >= 1 << 20 {
                    try io.output.write(output.bytes)
                    output.reset()
                }
            }
            try io.output.write(output.bytes)
            let c = stage.counts
            var summary = "\(c.lines) lines read: \(c.valid) valid, \(c.rejected) rejected, \(c.blank) blank"
            if c.rejectedRecords > 0 { summary += "; \(c.rejectedRecords) bad records rejected from valid lines" }
            io.note(summary)
        }
    }
}

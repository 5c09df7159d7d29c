import ArgumentParser
import CoexCLI
import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

public struct ValidateCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: StageName.validate.command,
        abstract: "Check that every line is a well-formed Coexistence webhook body.",
        discussion: """
            Valid lines go to stdout as envelopes carrying their provenance:
              {"source":FILE,"line":N,"dropped":K,"body":{...webhook as captured...}}
            ("dropped" only when K records of the line were rejected on their own).
            Invalid lines and records are rejects (see --rejects). A summary goes to stderr.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions

    @OptionGroup var threading: ThreadOptions

    @OptionGroup var signatures: SignatureOptions

    @Option(name: .customLong("part-of"), help: ArgumentHelp(
        "Standard input is a part of the capture FILE: name its lines after FILE (for a job that splits large captures).",
        valueName: "FILE"))
    var partOf: String?

    @Option(name: .customLong("first-line"), help: ArgumentHelp(
        "With --part-of: the line of FILE that the part's first line is (default 1).", valueName: "N"))
    var firstLine: Int?

    public mutating func validate() throws {
        input.files = try withoutSignatureFiles(input.files, command: ValidateStage.name.command)
        if firstLine != nil && partOf == nil { throw ValidationError("--first-line needs --part-of FILE") }
        if let firstLine, firstLine < 1 { throw ValidationError("--first-line must be 1 or more") }
        if partOf != nil && input.inputs != ["-"] { throw ValidationError("--part-of reads standard input: give '-' as the only input") }
    }

    public func run() throws {
        let gate = try signatures.gate(stage: ValidateStage.name.command, inputs: input.inputs, partOf: partOf)
        try runStage(ValidateStage.name.command, input: input, accepts: .captures) { io throws(IOError) in
            io.signatureGate = gate
            try execute(io)
        }
    }

    func execute(_ io: StageIO) throws(IOError) {
        if let partOf { io.standardInputPart = (partOf, firstLine ?? 1) }
        let workers = threading.workers { ValidateWorker() }
        try io.forEachLineInParallel(input.inputs, workers: workers)
        var c = ValidateCounts()
        for worker in workers { c.add(worker.stage.counts) }
        if let gate = io.signatureGate {
            // A line that failed its signature check was read and rejected, never validated.
            c.lines += gate.refused
            c.rejected += gate.refused
            io.note(gate.summary)
        }
        var summary = "\(plural(c.lines, "line")) read: \(c.valid) valid, \(c.rejected) rejected, \(c.blank) blank"
        if c.rejectedRecords > 0 { summary += "; \(plural(c.rejectedRecords, "bad record")) rejected from valid lines" }
        io.note(summary)
    }
}

/// One thread's share: checks lines and collects their envelopes.
final class ValidateWorker: LineWorker {
    var stage = ValidateStage()
    var rejects: [Reject] = []
    var output = JSONWriter(capacity: 1 << 20)

    /// A line of a batch's size or more is drained right after it is processed, while
    /// its bytes are still in the reader: its body goes out from there, not from a copy.
    var hugeBody: UnsafeRawBufferPointer?

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        if bytes.count >= 2 << 20 {
            stage.process(bytes, padded: true, provenance: provenance, output: &output, rejects: &rejects,
                          bodyOut: { self.hugeBody = $0 })
        } else {
            stage.process(bytes, padded: true, provenance: provenance, output: &output, rejects: &rejects)
        }
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try io.output.write(output.bytes)
        output.reset()
        if let body = hugeBody {
            hugeBody = nil
            try io.output.write(body)
            try io.output.write(Envelope.tail)
        }
    }
}

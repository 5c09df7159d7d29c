import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

public struct ApplyCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "coex-apply",
        abstract: "Apply edits and revokes to the messages they change.",
        discussion: """
            Reads records (from coex-order). An edit replaces the visible type, content
            and body of its message (edits apply in edit-time order: the last edit wins
            whatever the arrival order) and every version is written as a
            message_version record, the original first. A revoke marks its message
            revoked at the earliest revoke's time; content is kept unless
            --redact-revoked. Edits and revokes never become messages; those whose
            message is not in the input are written at the end with "pending": true,
            for a later import to apply. Every other record passes in order.
            Past --memory the records wait for the second pass in a temporary file.

            \(exitStatusHelp)
            """,
        version: coexVersion)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    @OptionGroup var threading: ThreadOptions

    @Flag(help: "Blank body and content of revoked messages and of their versions.")
    var redactRevoked = false

    public func run() throws {
        try runStage("coex-apply", input: input, accepts: .records(from: "coex-order"), execute)
    }

    func execute(_ io: StageIO) throws(IOError) {
        var applier = EditApplier(redactRevoked: redactRevoked)
        let spool = LineSpool(stage: "coex-apply", budget: memory.memoryBytes,
                              temporaryDirectory: memory.temporaryDirectory)
        // First pass: hold edits and revokes, keep every other line for the second.
        let workers = threading.workers {
            ApplyWorker { changes, lines, tags throws(IOError) in
                // Pending changes of an earlier run are held again like new ones.
                for change in changes { applier.hold(change) }
                for i in lines.indices { try spool.append(lines[i], tag: tags[i]) }
            }
        }
        try io.forEachLineInParallel(input.inputs, workers: workers)
        let held = applier.heldCount
        // Second pass: messages with changes are rewritten, the rest passes as it is.
        let parser = JSONParser()
        var output = RecordOutput()
        var out: [Record] = []
        var passed = 0
        try spool.replay { line, tag throws(IOError) in
            if tag == 1, let value = try? parser.parse(line, padded: true),
                let waba = value["waba_id"]?.string, let wamid = value["wamid"]?.string,
                applier.hasChanges(waba: waba, wamid: wamid),
                let message = try? Record(json: value)
            {
                applier.apply(to: message, into: &out)
                try output.write(out, to: io)
                out.removeAll(keepingCapacity: true)
            } else {
                try output.flush(to: io)
                try io.output.write(line)
                try io.output.write([0x0A])
                passed += 1
            }
        }
        let pending = applier.pending()
        try output.write(pending, to: io)
        try output.flush(to: io)
        var r = RecordReader(stage: "coex-apply")
        for worker in workers { r.add(worker.reader) }
        var summary = Self.summary(lines: r.lines, held: held, edits: applier.appliedEdits, edited: applier.editedMessages,
                                   versions: applier.versionsOut, revokes: applier.appliedRevokes, pending: pending.count,
                                   out: passed + output.count, rejected: r.rejected, blank: r.blank)
        if spool.spilled { summary += "; spooled to disk past --memory \(memory.memory)" }
        io.note(summary)
    }
}

extension ApplyCommand {
    static func summary(lines: Int, held: Int, edits: Int, edited: Int, versions: Int, revokes: Int, pending: Int,
                        out: Int, rejected: Int, blank: Int) -> String {
        "\(plural(lines, "line")) read: \(held) edits and revokes held, \(plural(edits, "edit")) applied to "
            + "\(plural(edited, "message")) (\(plural(versions, "version")) out), \(plural(revokes, "revoke")) applied, "
            + "\(pending) pending; \(out) records out; \(rejected) rejected, \(blank) blank"
    }
}

/// Parses its share of a batch: edits and revokes become records to hold, every
/// other line stays in the batch with a tag (1 for messages) for the spool.
final class ApplyWorker: LineWorker {
    var reader = RecordReader(stage: "coex-apply")
    var changes: [Record] = []
    var lines: [UnsafeRawBufferPointer] = []
    var tags: [UInt8] = []
    var rejects: [Reject] = []
    let consume: ([Record], [UnsafeRawBufferPointer], [UInt8]) throws(IOError) -> Void

    init(consume: @escaping ([Record], [UnsafeRawBufferPointer], [UInt8]) throws(IOError) -> Void) {
        self.consume = consume
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        guard let view = reader.view(bytes, padded: true, provenance: provenance, rejects: &rejects) else { return }
        if view.kind == .edit || view.kind == .revoke, let change = try? Record(json: view.value),
            change.originalMessageID != nil
        {
            changes.append(change)
            return
        }
        lines.append(bytes)
        tags.append(view.kind == .message ? 1 : 0)
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(changes, lines, tags)
        changes.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        tags.removeAll(keepingCapacity: true)
    }
}

import ArgumentParser
import CoexCLI
import CoexIO
import CoexJSON
import CoexKit

@main
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var memory: MemoryOptions

    @Flag(help: "Blank body and content of revoked messages and of their versions.")
    var redactRevoked = false

    func run() throws {
        try runStage("coex-apply", input: input) { io throws(IOError) in
            var applier = EditApplier(redactRevoked: redactRevoked)
            let spool = LineSpool(stage: "coex-apply", budget: memory.memoryBytes,
                                  temporaryDirectory: memory.temporaryDirectory)
            var writer = JSONWriter(capacity: 4096)
            // First pass: hold edits and revokes, keep everything else for the second.
            let worker = RecordWorker(stage: "coex-apply") { records, _ throws(IOError) in
                for record in records {
                    // Pending changes of an earlier run are held again like new ones.
                    if record.kind == .edit || record.kind == .revoke, applier.hold(record) { continue }
                    writer.reset()
                    record.write(to: &writer)
                    try spool.append(writer.bytes, tag: record.kind == .message ? 1 : 0)
                }
            }
            try io.forEachLineInParallel(input.inputs, workers: [worker])
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
            let r = worker.reader
            var summary = "\(r.lines) lines read: \(held) edits and revokes held, "
                + "\(applier.appliedEdits) edits applied to \(applier.editedMessages) messages "
                + "(\(applier.versionsOut) versions out), \(applier.appliedRevokes) revokes applied, "
                + "\(pending.count) pending; \(passed + output.count) records out; \(r.rejected) rejected, \(r.blank) blank"
            if spool.spilled { summary += "; spooled to disk past --memory \(memory.memory)" }
            io.note(summary)
        }
    }
}

import CoexEngine
import CoexIO
import CoexJSON
import CoexKit

/// A record stage's outlet at a process edge: records out as NDJSON on the stage's
/// stdout, rejects to its rejects file, notes and failures on stderr.
public final class RecordWriterOutlet: RecordOutlet {
    private let io: StageIO
    private var writer = JSONWriter(capacity: 1 << 20)
    public private(set) var count = 0

    public init(_ io: StageIO) { self.io = io }

    public func put(_ record: Record) throws(IOError) {
        record.write(to: &writer)
        writer.newline()
        count += 1
        if writer.bytes.count >= 1 << 20 { try flush() }
    }

    public func reject(_ reject: Reject) throws(IOError) {
        var rejects = [reject]
        try io.report(&rejects)
    }

    public func note(_ line: String, stage: StageName) { io.note(line, as: stage.command) }
    public func fail(_ line: String, stage: StageName) { io.fail(line, as: stage.command) }
    public func finish() throws(IOError) { try flush() }

    private func flush() throws(IOError) {
        try io.output.write(writer.bytes)
        writer.reset()
    }
}

/// Reads its share of a batch into records (each line parsed once); the driver hands
/// them to the stage in input order.
final class RecordParseWorker: LineWorker {
    var reader: RecordReader
    var records: [Record] = []
    var rejects: [Reject] = []
    let consume: ([Record]) throws(IOError) -> Void

    init(stage: StageName, consume: @escaping ([Record]) throws(IOError) -> Void) {
        reader = RecordReader(stage: stage.command)
        self.consume = consume
    }

    func process(_ bytes: UnsafeRawBufferPointer, provenance: Provenance) {
        if let record = reader.read(bytes, padded: true, provenance: provenance, rejects: &rejects) { records.append(record) }
    }

    func drain(into io: StageIO) throws(IOError) {
        try io.report(&rejects)
        try consume(records)
        records.removeAll(keepingCapacity: true)
    }
}

extension StageIO {
    /// Runs a record stage on the inputs: lines parsed into records on `threads` threads,
    /// taken by the stage in input order, its records written to stdout as NDJSON (or
    /// to `outlet`), its summary on stderr.
    public func run(_ stage: some RecordStage, inputs: [String], threads: Int, outlet: RecordOutlet? = nil) throws(IOError) {
        let out = outlet ?? RecordWriterOutlet(self)
        let workers = (0..<max(1, threads)).map { _ in
            RecordParseWorker(stage: type(of: stage).name) { records throws(IOError) in
                for record in records { try stage.take(record, out) }
            }
        }
        try forEachLineInParallel(inputs, workers: workers)
        try stage.finish(out)
        try out.finish()
        var reader = RecordReader(stage: type(of: stage).name.command)
        for worker in workers { reader.add(worker.reader) }
        for line in stage.summary(InputCounts(lines: reader.lines, rejected: reader.rejected, blank: reader.blank)) {
            note(line)
        }
    }
}

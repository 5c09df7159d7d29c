import CoexIO

/// Lines kept for a second pass: in memory up to a budget, then in a temporary file.
public final class LineSpool {
    private let budget: Int
    private let temporaryDirectory: String
    private let stage: String
    private var memory: [UInt8] = []
    private var spill: SpillDirectory?
    private var file: OutputSink?
    /// One tag byte per line, in order, for the caller's own use.
    public private(set) var tags: [UInt8] = []

    public var spilled: Bool { file != nil }

    public init(stage: String, budget: Int, temporaryDirectory: String) {
        self.stage = stage
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    public func append(_ line: UnsafeRawBufferPointer, tag: UInt8) throws(IOError) {
        tags.append(tag)
        memory.append(contentsOf: line)
        memory.append(0x0A)
        // In memory while within the budget; once spilled, through a small buffer.
        if file == nil && memory.capacity * 2 > budget {
            let directory = try SpillDirectory(in: temporaryDirectory, prefix: stage)
            spill = directory
            file = try OutputSink.creating(directory.file("spool"))
            try file!.write(memory)
            memory = []
            memory.reserveCapacity(4 << 20)
        } else if file != nil && memory.count >= 4 << 20 {
            try file!.write(memory)
            memory.removeAll(keepingCapacity: true)
        }
    }

    /// Calls `body` with each line and its tag, in the order appended.
    public func replay(_ body: (UnsafeRawBufferPointer, UInt8) throws(IOError) -> Void) throws(IOError) {
        var index = 0
        var sources: [ByteSource] = []
        if let file, let spill {
            try file.flush()
            sources.append(try FileSource(path: spill.file("spool")))
        }
        sources.append(MemorySource(memory, name: "spool"))
        for source in sources {
            let reader = LineReader(source: source)
            while let line = try reader.next() {
                try body(line.bytes, tags[index])
                index += 1
            }
        }
    }
}

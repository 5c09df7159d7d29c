import CoexIO
import CoexKit

/// Records kept for a second pass, in arrival order: encoded in memory up to a budget,
/// then in a temporary file.
public final class RecordSpool {
    private let settings: SpillSettings
    private let stage: StageName
    private var memory: [UInt8] = []
    private var spill: SpillDirectory?
    private var file: OutputSink?
    public private(set) var count = 0
    private var claim: MemoryClaim

    public var spilled: Bool { file != nil }

    public init(stage: StageName, _ settings: SpillSettings) {
        self.stage = stage
        self.settings = settings
        claim = MemoryClaim(settings)
    }

    deinit { claim.release() }

    public func append(_ record: Record) throws(IOError) {
        let start = memory.count
        memory.append(contentsOf: [0, 0, 0, 0])
        RecordCodec.encode(record, into: &memory)
        let length = UInt32(memory.count - start - 4).littleEndian
        withUnsafeBytes(of: length) { for i in 0..<4 { memory[start + i] = $0[i] } }
        try appended()
    }

    /// Appends a record `RecordCodec` encoded already (as a sorter hands it back).
    public func append(encoded bytes: UnsafeRawBufferPointer) throws(IOError) {
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { memory.append(contentsOf: $0) }
        memory.append(contentsOf: bytes)
        try appended()
    }

    private func appended() throws(IOError) {
        count += 1
        // In memory while within the budget; once spilled, through a small buffer.
        if file == nil && !claim.cover(memory.capacity) {
            let directory = try SpillDirectory(in: settings.temporaryDirectory, prefix: stage.command)
            spill = directory
            file = try OutputSink.creating(directory.file("spool"))
            try file!.write(memory)
            memory = []
            claim.release()
            memory.reserveCapacity(4 << 20)
        } else if file != nil && memory.count >= 4 << 20 {
            try file!.write(memory)
            memory.removeAll(keepingCapacity: true)
        }
    }

    /// Calls `body` with each record in the order appended, and empties the spool.
    public func replay(_ body: (Record) throws(IOError) -> Void) throws(IOError) {
        var cache = RecordCodec.DecodeCache()
        if let file, let spill {
            try file.write(memory)
            memory = []
            try file.flush()
            file.close()
            let path = spill.file("spool")
            let reader = BufferedReader(source: try FileSource(path: path))
            var header: [UInt8] = []
            var bytes: [UInt8] = []
            while try reader.read(4, into: &header) {
                let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
                guard try reader.read(length, into: &bytes), let record = bytes.withUnsafeBytes({ RecordCodec.decode($0, cache: &cache) })
                else { throw .damagedSpill(path) }
                try body(record)
                header.removeAll(keepingCapacity: true)
                bytes.removeAll(keepingCapacity: true)
            }
            return
        }
        let all = memory
        memory = []
        defer { claim.release() }
        try all.withBytes { all throws(IOError) in
            var at = 0
            while at + 4 <= all.count {
                let length = Int(UInt32(all[at]) | UInt32(all[at + 1]) << 8 | UInt32(all[at + 2]) << 16 | UInt32(all[at + 3]) << 24)
                guard let record = RecordCodec.decode(UnsafeRawBufferPointer(rebasing: all[(at + 4)..<(at + 4 + length)]), cache: &cache)
                else { throw .damagedSpill("memory") }
                try body(record)
                at += 4 + length
            }
        }
    }
}

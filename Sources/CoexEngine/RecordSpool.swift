import CoexIO
import CoexKit

/// Records kept for a second pass, in arrival order: encoded in memory (in arena chunks,
/// which never move or double) while the pool covers them, then in a temporary file.
public final class RecordSpool {
    private let settings: SpillSettings
    private let stage: StageName
    private var arena: ByteArena
    private var slots: [ByteArena.Slot] = []
    private var encoded: [UInt8] = []
    private var spill: SpillDirectory?
    private var file: OutputSink?
    public private(set) var count = 0
    private var claim: MemoryClaim

    public var spilled: Bool { file != nil }

    public init(stage: StageName, _ settings: SpillSettings) {
        self.stage = stage
        self.settings = settings
        arena = ByteArena(chunkSize: min(4 << 20, max(64 << 10, settings.budget / 16)))
        claim = MemoryClaim(settings)
    }

    deinit { claim.release() }

    public func append(_ record: Record) throws(IOError) {
        encoded.removeAll(keepingCapacity: true)
        RecordCodec.encode(record, into: &encoded)
        try encoded.withBytes { bytes throws(IOError) in try append(encoded: bytes) }
    }

    /// Appends a record `RecordCodec` encoded already (as a sorter hands it back).
    public func append(encoded bytes: UnsafeRawBufferPointer) throws(IOError) {
        count += 1
        if let file {
            try withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { header throws(IOError) in try file.write(header) }
            try file.write(bytes)
            return
        }
        slots.append(arena.append(bytes))
        if !claim.cover(arena.capacity + slots.capacity * MemoryLayout<ByteArena.Slot>.stride) { try startSpilling() }
    }

    /// Past the pool: what is in memory goes to the file first, in order, and the rest after it.
    private func startSpilling() throws(IOError) {
        let directory = try SpillDirectory(in: settings.temporaryDirectory, prefix: stage.command)
        spill = directory
        let sink = try OutputSink.creating(directory.file("spool"))
        file = sink
        for slot in slots {
            let bytes = arena.bytes(slot)
            try withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { header throws(IOError) in try sink.write(header) }
            try sink.write(bytes)
        }
        slots = []
        arena.removeAll()
        claim.release()
    }

    /// Calls `body` with each record in the order appended, and empties the spool.
    public func replay(_ body: (Record) throws(IOError) -> Void) throws(IOError) {
        var cache = RecordCodec.DecodeCache()
        defer {
            slots = []
            arena.removeAll()
            claim.release()
        }
        guard let file, let spill else {
            for slot in slots {
                guard let record = RecordCodec.decode(arena.bytes(slot), cache: &cache) else { throw .damagedSpill("memory") }
                try body(record)
            }
            return
        }
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
    }
}

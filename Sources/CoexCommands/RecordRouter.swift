import CoexIO
import CoexKit
#if canImport(Glibc)
import Glibc
#endif

/// coex-normalize's record lines split by business, each line given its `arrival` (its
/// position in the whole record stream, as coex-dedupe numbers it), in memory up to a
/// budget: past it, the largest businesses go to files of their own.
final class RecordRouter {
    final class Business {
        let wabaID: String
        var lines = RecordLines()
        /// Bytes of lines on file.
        var filed = 0
        var file: String?
        /// Why its file is not whole (a write failed): the business cannot be loaded.
        var damage: IOError?

        init(wabaID: String) { self.wabaID = wabaID }

        var byteCount: Int { lines.byteCount + filed }
    }

    private let budget: Int
    private let temporaryDirectory: String
    private var spill: SpillDirectory?
    private var byID: [String: Business] = [:]
    /// The business of the last record: records of one webhook share it.
    private var last: Business?
    private(set) var inMemory = 0
    private(set) var nextArrival = 0
    /// Businesses whose lines went to files.
    private(set) var filedCount = 0

    init(budget: Int, temporaryDirectory: String) {
        self.budget = budget
        self.temporaryDirectory = temporaryDirectory
    }

    /// Takes the next record line of the stream.
    func add(_ line: UnsafeRawBufferPointer, wabaID: String) throws(IOError) {
        let business: Business
        if let last, last.wabaID == wabaID {
            business = last
        } else if let known = byID[wabaID] {
            business = known
        } else {
            business = Business(wabaID: wabaID)
            byID[wabaID] = business
        }
        last = business
        let before = business.lines.footprint
        business.lines.append(line, arrival: nextArrival)
        nextArrival += 1
        inMemory += business.lines.footprint - before
        if business.file != nil, business.lines.byteCount >= 1 << 18 {
            try moveToFile(business)
        }
        while inMemory > budget, let largest = byID.values.max(by: { $0.lines.footprint < $1.lines.footprint }),
            largest.lines.footprint > 0
        {
            try moveToFile(largest)
        }
    }

    /// Every business, in the order of their ids' bytes (the order coex-load reports in).
    var businesses: [Business] {
        byID.values.sorted { $0.wabaID.utf8.lexicographicallyPrecedes($1.wabaID.utf8) }
    }

    /// Takes a business's lines out of the router (read back from its file if it has one,
    /// and the file removed).
    func take(_ business: Business) throws(IOError) -> RecordLines {
        defer {
            byID[business.wabaID] = nil
            if last === business { last = nil }
        }
        guard let file = business.file else {
            inMemory -= business.lines.footprint
            let lines = business.lines
            business.lines = RecordLines()
            return lines
        }
        try moveToFile(business)
        defer { unlink(file) }
        return try RecordLines.read(file, size: business.filed)
    }

    /// Puts all of a business's lines in its file and returns the file's path (the caller
    /// removes it).
    func file(of business: Business) throws(IOError) -> String {
        try moveToFile(business)
        byID[business.wabaID] = nil
        if last === business { last = nil }
        return business.file!
    }

    /// Appends the business's lines in memory to its file (opened only for the write, so
    /// that thousands of businesses do not hold thousands of descriptors).
    private func moveToFile(_ business: Business) throws(IOError) {
        if let damage = business.damage { throw damage }
        let path: String
        if let file = business.file {
            path = file
        } else {
            if spill == nil { spill = try SpillDirectory(in: temporaryDirectory, prefix: "coex-import") }
            path = spill!.file("business-\(filedCount).ndjson")
            filedCount += 1
            business.file = path
        }
        do throws(IOError) {
            let sink = business.filed == 0 ? try OutputSink.creating(path) : try OutputSink.appending(to: path)
            try business.lines.write(to: sink)
            try sink.flush()
            sink.close()
        } catch {
            // Part of the lines may be on file: the file no longer says what the business holds.
            business.damage = error
            throw error
        }
        business.filed += business.lines.byteCount
        inMemory -= business.lines.footprint
        business.lines = RecordLines()
    }
}

extension RecordLines {
    /// Adds a record line with `"arrival":N` as its last member (as coex-dedupe writes it).
    mutating func append(_ line: UnsafeRawBufferPointer, arrival: Int) {
        appendLine { RecordLine.append(line, member: "arrival", value: arrival, to: &$0) }
    }
}

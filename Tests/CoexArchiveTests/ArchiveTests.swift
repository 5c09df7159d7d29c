import CoexArchive
import Foundation
import Testing

private let sampleEntries: [(path: String, data: [UInt8])] = [
    ("README.txt", Array("coex export\n".utf8)),
    ("empty.bin", []),
    ("all-bytes.bin", Array(0...255)),
    ("data/nested/deep/random.bin", pseudoRandomBytes(count: 300_000, seed: 7)),
    ("data/ünïcødé-名前.json", Array("{\"ok\":true}".utf8)),
    (String(repeating: "long-name/", count: 12) + "file.txt", Array("needs a pax header".utf8)),
]

private func write(_ entries: [(path: String, data: [UInt8])], to path: String, format: ArchiveFormat,
                   modificationTime: Int64 = ArchiveWriter.defaultModificationTime) throws {
    let writer = try ArchiveWriter(path: path, format: format, modificationTime: modificationTime)
    for entry in entries { try writer.add(path: entry.path, data: entry.data) }
    try writer.finish()
}

@Suite struct ArchiveWriterTests {
    @Test(arguments: ArchiveFormat.allCases)
    func writesEntriesThatReadBackIdentically(format: ArchiveFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("out" + format.fileExtension)
        try write(sampleEntries, to: path, format: format)

        let read = try ArchiveReader.readAll(path: path)
        #expect(read.map(\.entry.path) == sampleEntries.map(\.path))
        #expect(read.map { fingerprint($0.data) } == sampleEntries.map { fingerprint($0.data) })
        for (entry, data) in read {
            #expect(entry.size == Int64(data.count))
            #expect(entry.isRegularFile)
            #expect(entry.permissions == 0o644)
            #expect(entry.modificationTime == 0)
            #expect(entry.userID == 0 && entry.groupID == 0)
            if format != .zip {
                #expect(entry.userName == "root" && entry.groupName == "root")
            }
        }
    }

    @Test(arguments: ArchiveFormat.allCases)
    func sameEntriesGiveByteIdenticalFiles(format: ArchiveFormat) throws {
        let dir = try TemporaryDirectory()
        // Different file names, so nothing about the output file itself may leak into the bytes.
        let first = dir.file("first" + format.fileExtension)
        let second = dir.file("second" + format.fileExtension)
        try write(sampleEntries, to: first, format: format, modificationTime: 946_684_800)
        try write(sampleEntries, to: second, format: format, modificationTime: 946_684_800)
        let bytes = try readBytes(first)
        #expect(bytes.count > 1_000)
        #expect(fingerprint(bytes) == fingerprint(try readBytes(second)))

        // The mtime given is what gets stored, so it must change the output.
        let other = dir.file("other" + format.fileExtension)
        try write(sampleEntries, to: other, format: format, modificationTime: 946_684_802)
        #expect(fingerprint(bytes) != fingerprint(try readBytes(other)))
    }

    @Test func gzipHeaderCarriesNoTimestamp() throws {
        // Two writes within the same second would match even with a timestamp; the field must be zero.
        let dir = try TemporaryDirectory()
        let path = dir.file("out.tar.gz")
        try write(sampleEntries, to: path, format: .tarGzip)
        let bytes = try readBytes(path)
        #expect(Array(bytes[0..<3]) == [0x1f, 0x8b, 0x08])
        #expect(Array(bytes[4..<8]) == [0, 0, 0, 0])
    }

    @Test(arguments: ArchiveFormat.allCases)
    func missingDirectoryIsATypedErrorNamingThePath(format: ArchiveFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("no/such/dir/out" + format.fileExtension)
        do {
            _ = try ArchiveWriter(path: path, format: format)
            Issue.record("creating \(path) should fail")
        } catch let error as ArchiveError {
            guard case .cannotCreate(path: path, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains(path))
            #expect(error.description.contains("No such file or directory"))
        }
    }

    @Test func formatFromPathChoosesByExtension() {
        #expect(ArchiveFormat.from(path: "/x/export.tar.zst") == .tarZstd)
        #expect(ArchiveFormat.from(path: "export.TAR.ZST") == .tarZstd)
        #expect(ArchiveFormat.from(path: "export.tar.gz") == .tarGzip)
        #expect(ArchiveFormat.from(path: "export.tgz") == .tarGzip)
        #expect(ArchiveFormat.from(path: "dir.zip/export.zip") == .zip)
        #expect(ArchiveFormat.from(path: "export.tar") == nil)
        #expect(ArchiveFormat.from(path: "export.zst") == nil)
        #expect(ArchiveFormat.from(path: "export.gz") == nil)
        #expect(ArchiveFormat.from(path: "export.zip.txt") == nil)
        #expect(ArchiveFormat.from(path: "export") == nil)
        for format in ArchiveFormat.allCases {
            #expect(ArchiveFormat.from(path: "a" + format.fileExtension) == format)
        }
    }

    @Test func unsafeOrDuplicateEntryNamesAreRejected() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("out.tar.zst")
        let writer = try ArchiveWriter(path: path, format: .tarZstd)
        for bad in ["", "/etc/passwd", "../escape", "a/../../b", "a//b", "dir/", "./a", "a\\b"] {
            #expect(throws: ArchiveError.self, "\(bad) should be rejected") {
                try writer.add(path: bad, data: [1])
            }
        }
        try writer.add(path: "ok.txt", data: [1])
        #expect(throws: ArchiveError.duplicateEntry(path: path, entry: "ok.txt")) {
            try writer.add(path: "ok.txt", data: [2])
        }
        try writer.finish()
        #expect(throws: ArchiveError.alreadyFinished(path: path)) { try writer.add(path: "late.txt", data: []) }
        #expect(throws: ArchiveError.alreadyFinished(path: path)) { try writer.finish() }

        // Rejected names left no trace: the archive holds exactly the one good entry.
        let read = try ArchiveReader.readAll(path: path)
        #expect(read.map(\.entry.path) == ["ok.txt"])
        #expect(read.map(\.data) == [[1]])
    }

    @Test(arguments: ArchiveFormat.allCases)
    func fileContentsAreStreamedIn(format: ArchiveFormat) throws {
        let dir = try TemporaryDirectory()
        // Bigger than the 1 MiB copy buffer and not a multiple of it.
        let content = pseudoRandomBytes(count: 2_621_443, seed: 99)
        let source = dir.file("source.bin")
        try Data(content).write(to: URL(fileURLWithPath: source))
        let path = dir.file("out" + format.fileExtension)
        let writer = try ArchiveWriter(path: path, format: format)
        try writer.add(path: "first.txt", data: Array("x".utf8))
        try writer.add(path: "snapshot/source.bin", contentsOfFile: source)
        #expect(throws: ArchiveError.self) { try writer.add(path: "missing.bin", contentsOfFile: dir.file("nope")) }
        #expect(throws: ArchiveError.self) { try writer.add(path: "a-directory", contentsOfFile: dir.path) }
        try writer.finish()

        let read = try ArchiveReader.readAll(path: path)
        #expect(read.map(\.entry.path) == ["first.txt", "snapshot/source.bin"])
        #expect(read.last.map { fingerprint($0.data) } == fingerprint(content))
        #expect(read.last?.entry.size == Int64(content.count))
    }

    @Test(arguments: [ArchiveFormat.tarZstd, .tarGzip])
    func abandonedWriterDoesNotLeaveAReadableArchive(format: ArchiveFormat) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("out" + format.fileExtension)
        do {
            let writer = try ArchiveWriter(path: path, format: format)
            try writer.add(path: "a.bin", data: pseudoRandomBytes(count: 50_000, seed: 3))
            try writer.add(path: "b.bin", data: pseudoRandomBytes(count: 50_000, seed: 4))
        }
        #expect(throws: ArchiveError.self) { _ = try ArchiveReader.readAll(path: path) }
    }

    @Test func readerReportsMissingAndNonArchiveFiles() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.file("missing.zip")
        #expect(throws: ArchiveError.self) { _ = try ArchiveReader(path: missing) }
        let text = dir.file("plain.txt")
        try Data("just text, not an archive".utf8).write(to: URL(fileURLWithPath: text))
        do {
            _ = try ArchiveReader.readAll(path: text)
            Issue.record("reading a text file as an archive should fail")
        } catch let error as ArchiveError {
            #expect(error.description.contains(text))
        }
    }
}

/// These tests change the process's TZ, so they run one at a time.
@Suite(.serialized) struct ZipTimeZoneTests {
    private static let zones = ["UTC0", "XST-10:30", "YST8", "ZST-14"]

    private func withTimeZone<T>(_ zone: String?, _ body: () throws -> T) rethrows -> T {
        let saved = getenv("TZ").map { String(cString: $0) }
        if let zone { setenv("TZ", zone, 1) } else { unsetenv("TZ") }
        tzset()
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        return try body()
    }

    /// The MS-DOS date and time words of the first local file header.
    private func dosDateTime(_ bytes: [UInt8]) -> (date: UInt16, time: UInt16) {
        #expect(Array(bytes[0..<4]) == [0x50, 0x4b, 0x03, 0x04])
        let time = UInt16(bytes[10]) | UInt16(bytes[11]) << 8
        let date = UInt16(bytes[12]) | UInt16(bytes[13]) << 8
        return (date, time)
    }

    @Test(arguments: [Int64(0), 946_684_800, 1_700_000_000])
    func zipBytesDoNotDependOnTimeZone(modificationTime: Int64) throws {
        let dir = try TemporaryDirectory()
        var outputs: [[UInt8]] = []
        for (i, zone) in Self.zones.enumerated() {
            let path = dir.file("out\(i).zip")
            try withTimeZone(zone) {
                try write(sampleEntries, to: path, format: .zip, modificationTime: modificationTime)
                // The writer put TZ back the way it found it.
                #expect(getenv("TZ").map { String(cString: $0) } == zone)
            }
            outputs.append(try readBytes(path))
        }
        for output in outputs.dropFirst() {
            #expect(fingerprint(output) == fingerprint(outputs[0]))
        }
        let read = try ArchiveReader.readAll(path: dir.file("out0.zip"))
        #expect(read.allSatisfy { $0.entry.modificationTime == modificationTime })
    }

    @Test func dosTimestampIsTheUTCTime() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("out.zip")
        // 2000-01-01T00:00:00Z, written while local time is 10:30 ahead (still 1999 in UTC-8 zones).
        try withTimeZone("XST-10:30") {
            try write(sampleEntries, to: path, format: .zip, modificationTime: 946_684_800)
        }
        let stamp = dosDateTime(try readBytes(path))
        #expect(stamp.date == (20 << 9 | 1 << 5 | 1))
        #expect(stamp.time == 0)

        // The default time, 1970, is before DOS time begins, so every zone clamps it to 1980-01-01 00:00.
        try FileManager.default.removeItem(atPath: path)
        try withTimeZone("ZST-14") { try write(sampleEntries, to: path, format: .zip) }
        let clamped = dosDateTime(try readBytes(path))
        #expect(clamped.date == (0 << 9 | 1 << 5 | 1))
        #expect(clamped.time == 0)
    }

    @Test func writerLeavesAnUnsetTZUnset() throws {
        let dir = try TemporaryDirectory()
        try withTimeZone(nil) {
            try write(sampleEntries, to: dir.file("out.zip"), format: .zip, modificationTime: 946_684_800)
            #expect(getenv("TZ") == nil)
        }
    }
}

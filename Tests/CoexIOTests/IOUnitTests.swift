import CoexIO
import Foundation
import Testing

@Suite("CoexIO")
struct IOUnitTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coex-io-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("an output sink writes through its buffer; appending keeps what was there")
    func sinkWritesAndAppends() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.ndjson"
        let sink = try OutputSink.creating(path, bufferSize: 8)
        try sink.write("first line\n")
        try sink.write(Array("second\n".utf8))
        try sink.flush()
        sink.close()
        let again = try OutputSink.appending(to: path)
        try again.write("third\n")
        try again.flush()
        again.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first line\nsecond\nthird\n")
    }

    @Test("a buffered reader gives exact counts across refills, false at the end, and refuses a cut record")
    func bufferedReader() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bytes"
        let bytes = (0..<9_990).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = BufferedReader(source: try FileSource(path: path), capacity: 1000)
        var out: [UInt8] = []
        var chunks = 0
        while try reader.read(333, into: &out) { chunks += 1 }
        #expect(chunks == 30)
        #expect(out == bytes)
        try Data(bytes + [1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let cut = BufferedReader(source: try FileSource(path: path), capacity: 1000)
        out = []
        #expect(throws: IOError.self) { while try cut.read(333, into: &out) {} }
    }

    @Test("a line reader splits on newlines, numbers lines and drops a final newline")
    func lines() throws {
        let reader = LineReader(source: MemorySource(Array("a\n\nccc\nlast".utf8), name: "m"), blockSize: 4)
        var seen: [(String, Int)] = []
        while let line = try reader.next() { seen.append((String(decoding: line.bytes, as: UTF8.self), line.number)) }
        #expect(seen.map(\.0) == ["a", "", "ccc", "last"])
        #expect(seen.map(\.1) == [1, 2, 3, 4])
    }

    @Test("a folder that cannot take files is refused before any work; a missing input names its path")
    func failFast() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/plain"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(throws: IOError.self) { try WritableCheck.directory(file + "/sub") }
        try WritableCheck.directory(dir + "/made")
        #expect(FileManager.default.fileExists(atPath: dir + "/made"))
        do {
            _ = try FileSource(path: dir + "/missing.ndjson")
            Issue.record("a missing file opened")
        } catch {
            #expect(error.description.contains("missing.ndjson"))
        }
    }
}

import CoexIO
import CoexJSON
import Foundation
import Testing

@Suite("LineReader, FileSource, ZstdSource")
struct LineReaderTests {
    typealias ReadLine = Unit.ReadLine

    static func lines(_ bytes: [UInt8], blockSize: Int = 64, chunk: Int = Int.max) throws -> [ReadLine] {
        let reader = LineReader(source: Unit.MemorySource(bytes, chunk: chunk), blockSize: blockSize)
        return try reader.copyAllLines()
    }

    static func lines(_ text: String, blockSize: Int = 64, chunk: Int = Int.max) throws -> [ReadLine] {
        try lines(Array(text.utf8), blockSize: blockSize, chunk: chunk)
    }

    static func line(_ number: Int, _ text: String) -> ReadLine {
        let bytes = Array(text.utf8)
        return ReadLine(number: number, bytes: bytes, isBlank: bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 })
    }

    static func line(_ number: Int, _ bytes: [UInt8]) -> ReadLine {
        ReadLine(number: number, bytes: bytes, isBlank: bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 })
    }

    // MARK: Line ends

    @Test func lf() throws {
        #expect(try Self.lines("a\nbb\nccc\n") == [Self.line(1, "a"), Self.line(2, "bb"), Self.line(3, "ccc")])
    }

    @Test func crlf() throws {
        #expect(try Self.lines("a\r\nbb\r\n") == [Self.line(1, "a"), Self.line(2, "bb")])
    }

    @Test("a CR inside a line is content; only the CR before LF (or at the end) goes")
    func crInsideLine() throws {
        #expect(try Self.lines("a\rb\r\nc\r\r\n") == [Self.line(1, "a\rb"), Self.line(2, "c\r")])
        #expect(try Self.lines("x\r") == [Self.line(1, "x")])
    }

    @Test("a final line without a newline is a line")
    func finalLineWithoutNewline() throws {
        #expect(try Self.lines("a\nb") == [Self.line(1, "a"), Self.line(2, "b")])
        #expect(try Self.lines("only") == [Self.line(1, "only")])
    }

    @Test("empty input has no lines; a lone LF is one empty line")
    func emptyInput() throws {
        let reader = LineReader(source: Unit.MemorySource([UInt8]()), blockSize: 64)
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
        #expect(reader.bytesRead == 0)
        #expect(try Self.lines("\n") == [Self.line(1, "")])
        #expect(try Self.lines("\r\n") == [Self.line(1, "")])
    }

    @Test("blank lines are lines: numbers stay physical")
    func blankLines() throws {
        let got = try Self.lines("a\n\n  \n\t \nb\n\r\nc")
        #expect(got.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
        #expect(got.map { Unit.text($0.bytes) } == ["a", "", "  ", "\t ", "b", "", "c"])
        #expect(got.map(\.isBlank) == [false, true, true, true, false, true, false])
    }

    // MARK: BOM

    @Test("a BOM at the start is stripped from line 1 only")
    func bom() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let input = bom + Array("{}\n".utf8) + bom + Array("x\n".utf8)
        #expect(try Self.lines(input) == [Self.line(1, "{}"), Self.line(2, bom + Array("x".utf8))])
        // BOM then CRLF, BOM alone, BOM alone without newline.
        #expect(try Self.lines(bom + Array("\r\nz".utf8)) == [Self.line(1, ""), Self.line(2, "z")])
        #expect(try Self.lines(bom) == [Self.line(1, "")])
        // Part of a BOM is content.
        #expect(try Self.lines([0xEF, 0xBB, 0x0A]) == [Self.line(1, [0xEF, 0xBB])])
        // The BOM is stripped even when it arrives one byte per read.
        #expect(try Self.lines(input, chunk: 1) == [Self.line(1, "{}"), Self.line(2, bom + Array("x".utf8))])
    }

    // MARK: Blocks

    /// A text with every feature, read with reads of every size and small blocks, must split the same.
    static let mixed: [UInt8] = {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes += Array("{\"a\":1}\r\n\n   \n".utf8)
        bytes += Array(String(repeating: "x", count: 300).utf8) + [0x0A]
        bytes += Array("é😀\r\n".utf8)
        bytes += Array(String(repeating: "y", count: 1000).utf8) + [0x0D, 0x0A]
        bytes += Array("last".utf8)
        return bytes
    }()

    static let mixedExpected: [ReadLine] = [
        line(1, "{\"a\":1}"), line(2, ""), line(3, "   "), line(4, String(repeating: "x", count: 300)),
        line(5, "é😀"), line(6, String(repeating: "y", count: 1000)), line(7, "last"),
    ]

    @Test("the same lines whatever the size of reads", arguments: [1, 2, 3, 7, 63, 64, 65, 127, 128, 129, 1000, Int.max])
    func readSizes(chunk: Int) throws {
        #expect(try Self.lines(Self.mixed, blockSize: 64, chunk: chunk) == Self.mixedExpected)
    }

    @Test("the same lines whatever the block size", arguments: [1, 64, 100, 4096, LineReader.blockSize])
    func blockSizes(blockSize: Int) throws {
        #expect(try Self.lines(Self.mixed, blockSize: blockSize, chunk: 50) == Self.mixedExpected)
    }

    @Test("a line far longer than the block is one line")
    func longLine() throws {
        let long = (0..<100_000).map { UInt8(0x41 + $0 % 26) }
        let input = Array("short\n".utf8) + long + [0x0A] + Array("after\n".utf8) + long
        for chunk in [1000, 4096, Int.max] {
            let got = try Self.lines(input, blockSize: 64, chunk: chunk)
            #expect(got == [Self.line(1, "short"), Self.line(2, long), Self.line(3, "after"), Self.line(4, long)])
        }
    }

    @Test("bytesRead counts every byte of the input")
    func bytesRead() throws {
        let reader = LineReader(source: Unit.MemorySource(Self.mixed, chunk: 17), blockSize: 64)
        _ = try reader.copyAllLines()
        #expect(reader.bytesRead == Self.mixed.count)
        #expect(reader.name == "memory")
    }

    @Test("after a huge line the buffer can shrink and reading goes on")
    func shrinkAfterLongLine() throws {
        let long = [UInt8](repeating: 0x61, count: 3 << 20)
        let input = long + [0x0A] + Array("a\nb\n".utf8)
        let reader = LineReader(source: Unit.MemorySource(input, chunk: 1 << 20), blockSize: 1 << 16)
        let first = try #require(try reader.next())
        #expect(first.bytes.count == long.count)
        reader.shrinkIfLarge(limit: 1 << 20)
        var rest: [String] = []
        while let line = try reader.next() { rest.append(Unit.text(Array(line.bytes))) }
        #expect(rest == ["a", "b"])
    }

    // MARK: Real captures

    @Test("sample captures split like a plain split on LF, and every line parses in place (padding)",
          arguments: ["night1.ndjson", "night2.ndjson", "malformed.ndjson"])
    func samples(name: String) throws {
        let bytes = try Unit.sampleBytes(name)
        let expected = Unit.splitLines(bytes)
        // Small blocks so that lines straddle reads and the buffer moves and grows.
        let reader = LineReader(source: Unit.MemorySource(bytes, chunk: 999), blockSize: 1024)
        let parser = JSONParser()
        let copying = JSONParser()
        var number = 0
        while let line = try reader.next() {
            number += 1
            #expect(line.number == number)
            try #require(number <= expected.count)
            #expect(Array(line.bytes) == expected[number - 1], "line \(number)")
            // LineReader promises JSONParser.padding readable bytes after each line.
            let inPlace: Result<String, JSONParseError>
            do { inPlace = .success(try parser.parse(line.bytes, padded: true).jsonString) } catch { inPlace = .failure(error) }
            let copied: Result<String, JSONParseError>
            do { copied = .success(try copying.parse(Array(line.bytes)).jsonString) } catch { copied = .failure(error) }
            #expect(inPlace == copied, "line \(number)")
        }
        #expect(number == expected.count)
        #expect(reader.bytesRead == bytes.count)
    }

    @Test("malformed-bytes: BOM, CRLF, blank, binary and a last line without newline")
    func malformedBytes() throws {
        let source = try FileSource(path: Unit.sampleURL("malformed-bytes.ndjson").path)
        let lines = try LineReader(source: source).copyAllLines()
        #expect(lines.map(\.number) == Array(1...10))
        #expect(lines.map(\.isBlank) == [false, false, false, true, false, true, false, false, false, false])
        #expect(lines[0].bytes.first == UInt8(ascii: "{"))
        #expect(lines[1].bytes.last == UInt8(ascii: "}"))
        #expect(lines[4].bytes == [0x00, 0x9C, 0x13, 0xFE, 0x7B, 0x00, 0x00, 0x22, 0xB5, 0x01, 0xFF, 0x2F, 0x0D, 0x8F])
        #expect(lines[9].bytes.last == UInt8(ascii: "}"))
    }

    // MARK: Files

    @Test func fileSource() throws {
        try Unit.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("in.ndjson").path
            try Data("one\r\ntwo\n".utf8).write(to: URL(fileURLWithPath: path))
            let source = try FileSource(path: path)
            #expect(source.name == path)
            let lines = try LineReader(source: source).copyAllLines()
            #expect(lines == [Self.line(1, "one"), Self.line(2, "two")])
        }
    }

    @Test func missingFile() throws {
        try Unit.withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("absent.ndjson").path
            #expect(throws: IOError.cannotOpen(path: path, reason: "No such file or directory")) {
                try FileSource(path: path)
            }
            #expect(throws: IOError.cannotOpen(path: path + ".zst", reason: "No such file or directory")) {
                try openInput(path + ".zst")
            }
        }
    }

    @Test func directoryIsNotAnInput() throws {
        try Unit.withTemporaryDirectory { dir in
            #expect(throws: IOError.cannotOpen(path: dir.path, reason: "is a directory")) {
                try FileSource(path: dir.path)
            }
        }
    }

    @Test("openInput decompresses by extension only")
    func openInputByExtension() throws {
        let plain = try openInput(Unit.fixtureURL("io/small.ndjson").path)
        #expect(plain is FileSource)
        let zst = try openInput(Unit.fixtureURL("io/small.ndjson.zst").path)
        #expect(zst is ZstdSource)
        #expect(zst.name == Unit.fixtureURL("io/small.ndjson.zst").path)
        #expect(try LineReader(source: zst).copyAllLines() == Self.lines(try Unit.fixtureBytes("io/small.ndjson")))
        try Unit.withTemporaryDirectory { dir in
            // ".zstd" is zstd too; zstd bytes under another name are read as they are.
            let zstd = dir.appendingPathComponent("copy.zstd")
            let raw = dir.appendingPathComponent("copy.ndjson")
            let compressed = try Data(contentsOf: Unit.fixtureURL("io/small.ndjson.zst"))
            try compressed.write(to: zstd)
            try compressed.write(to: raw)
            #expect(try openInput(zstd.path) is ZstdSource)
            #expect(try LineReader(source: try openInput(zstd.path)).copyAllLines().count == 3)
            let rawSource = try openInput(raw.path)
            #expect(rawSource is FileSource)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = try buffer.withUnsafeMutableBytes { try rawSource.read(into: $0) }
            #expect(Array(buffer[..<n]) == Array(compressed))
        }
    }

    // MARK: zstd

    @Test("a .zst file reads as its content")
    func zstdSingleFrame() throws {
        let expected = Unit.splitLines(try Unit.fixtureBytes("io/small.ndjson"))
        let lines = try LineReader(source: try openInput(Unit.fixtureURL("io/small.ndjson.zst").path)).copyAllLines()
        #expect(lines.map(\.bytes) == expected)
        #expect(lines.count == 3)
        #expect(lines.map(\.number) == [1, 2, 3])
        #expect(try lines.map { try Unit.minified($0.bytes) } == [
            try Unit.minified(try Unit.body("reference/account-offboarded.json")),
            try Unit.minified(try Unit.body("reference/revoke.json")),
            try Unit.minified(try Unit.body("reference/echo-text.json")),
        ])
    }

    @Test("concatenated frames read as one stream", arguments: [1, 5, 100, Int.max])
    func zstdTwoFrames(chunk: Int) throws {
        let expected = Unit.splitLines(try Unit.fixtureBytes("io/small.ndjson") + Unit.fixtureBytes("io/second.ndjson"))
        let compressed = try Unit.fixtureBytes("io/two-frames.ndjson.zst")
        let source = try ZstdSource(wrapping: Unit.MemorySource(compressed, name: "two.zst", chunk: chunk))
        #expect(source.name == "two.zst")
        let lines = try LineReader(source: source, blockSize: 64).copyAllLines()
        #expect(lines.map(\.bytes) == expected)
        #expect(lines.count == 5)
    }

    @Test("a large decompressed stream (4 MB from 1 KB) in small pieces")
    func zstdLarge() throws {
        let line = try Unit.body("reference/history-approved.json")
        let compressed = try Unit.fixtureBytes("io/repeated.ndjson.zst")
        for chunk in [7, Int.max] {
            let reader = LineReader(
                source: try ZstdSource(wrapping: Unit.MemorySource(compressed, chunk: chunk)), blockSize: 4096)
            var count = 0
            while let l = try reader.next() {
                count += 1
                if !l.bytes.elementsEqual(line) {
                    Issue.record("line \(l.number) differs")
                    break
                }
            }
            #expect(count == 3000)
            #expect(reader.bytesRead == 3000 * (line.count + 1))
        }
    }

    @Test("a truncated .zst is an error, not a short file",
          arguments: ["io/truncated.ndjson.zst", "io/repeated-truncated.ndjson.zst"])
    func zstdTruncated(name: String) throws {
        let path = Unit.fixtureURL(name).path
        let reader = LineReader(source: try openInput(path), blockSize: 4096)
        #expect(throws: IOError.truncatedZstd(path: path)) {
            while try reader.next() != nil {}
        }
        // Also through a source that hands out one byte at a time.
        let bytes = try Unit.fixtureBytes(name)
        let slow = LineReader(source: try ZstdSource(wrapping: Unit.MemorySource(bytes, name: "slow", chunk: 1)))
        #expect(throws: IOError.truncatedZstd(path: "slow")) {
            while try slow.next() != nil {}
        }
        #expect(IOError.truncatedZstd(path: "f.zst").description
            == "f.zst: zstd stream ends in the middle of a frame (truncated file?)")
    }

    @Test("bytes that are not zstd are a zstd error")
    func zstdGarbage() throws {
        let source = try ZstdSource(wrapping: Unit.MemorySource("this is not zstd at all\n", name: "bad.zst"))
        var buffer = [UInt8](repeating: 0, count: 1024)
        do {
            _ = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            Issue.record("garbage decompressed")
        } catch {
            guard let ioError = error as? IOError, case .zstd(let path, let reason) = ioError else {
                Issue.record("expected .zstd, got \(error)")
                return
            }
            #expect(path == "bad.zst")
            #expect(!reason.isEmpty)
        }
    }

    @Test("an empty .zst file has no lines")
    func zstdEmptyFile() throws {
        let source = try ZstdSource(wrapping: Unit.MemorySource([UInt8]()))
        #expect(try LineReader(source: source).next() == nil)
    }
}

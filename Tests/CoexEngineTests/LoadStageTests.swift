import CoexEngine
import CoexKit
import CoexStore
import CoexTestSupport
import Foundation
import Testing

@Suite("LoadStage")
struct LoadStageTests {
    @Test("one database per business; a record no database can store is rejected with its line")
    func databasesAndRejects() throws {
        let dir = try TempDir()
        let load = LoadSettings(outDirectory: dir.path, inputs: ["t.ndjson"], time: 1, threads: 2)
        let stage = LoadStage(load, spill: settings(64 << 20, in: dir.path))
        var unsafe = message("wamid.X", waba: "../etc", at: 1)
        unsafe.seq = 1
        var a = message("wamid.A", at: 10)
        a.seq = 1
        a.arrival = 0
        var b = message("wamid.B", waba: "200", at: 10)
        b.seq = 1
        b.arrival = 1
        let out = try run(stage, [a, unsafe, b])
        #expect(out.rejects.count == 1)
        #expect(String(decoding: out.rejects[0].raw, as: UTF8.self).contains("\"wamid.X\""))
        #expect(stage.databases == 2)
        #expect(out.notes.filter { $0.contains(".sqlite:") }.count == 2)
        let count = try Tools.run("sqlite3 \(Tools.quote(dir.file("100.sqlite"))) 'SELECT count(*) FROM messages'").stdout
        #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("a spilled load writes the same rows as one in memory")
    func spilledLoad() throws {
        let dir = try TempDir()
        let s = settings(1 << 30, in: dir.path)
        let records = try run(ApplyStage(s), try run(OrderStage(s), try run(DedupeStage(s), generatedRecords(businesses: 2, messages: 300)).records).records).records
        for (name, budget) in [("memory", 1 << 30), ("spilled", 64 << 10)] {
            try FileManager.default.createDirectory(atPath: dir.file(name), withIntermediateDirectories: true)
            let stage = LoadStage(LoadSettings(outDirectory: dir.file(name), inputs: ["t"], time: 1, threads: 1),
                                  spill: settings(budget, in: dir.path))
            _ = try run(stage, records)
            #expect(stage.databases == 2)
            #expect(stage.summary(InputCounts()).joined().contains("sorted runs spilled") == (name == "spilled"))
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.file("memory")) where file.hasSuffix(".sqlite") {
            let rows = try dump(dir.file("memory/\(file)"))
            #expect(rows.count > 100)
            #expect(try dump(dir.file("spilled/\(file)")) == rows)
        }
    }

    /// Every message row, and the other tables' rows, as sqlite3 prints them.
    func dump(_ path: String) throws -> [String] {
        let tables = "messages message_versions statuses contacts"
        let script = "for t in \(tables); do sqlite3 \(Tools.quote(path)) \"SELECT * FROM $t ORDER BY 1, 2\"; done"
        return try Tools.run(script).stdout.split(separator: "\n").map(String.init)
    }
}

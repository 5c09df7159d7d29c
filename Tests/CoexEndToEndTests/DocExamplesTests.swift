import CoexTestSupport
import Foundation
import Testing

@Suite struct DocExamplesTests {
    @Test func aSessionIsCommandsWithTheirOutput() {
        let text = """
            ```sh
            $ echo a \\
              b
            a b
            $ true
            ```
            ```
            $ not a session
            ```
            ```sh
            not output of true
            ```
            """
        let examples = DocExamples.parse(text, document: "x.md")
        #expect(examples.map(\.command) == ["echo a \\\n  b", "true"])
        #expect(examples.map(\.expected) == [["a b"], []])
        #expect(examples.map(\.line) == [2, 5])
    }

    @Test func ellipsisAndMasksMatchWhatVaries() {
        #expect(DocExamples.difference(expected: ["x", "...", "z"], actual: ["x", "y1", "y2", "z"]) == nil)
        #expect(DocExamples.difference(expected: ["x", "...", "z"], actual: ["x", "y"]) != nil)
        #expect(DocExamples.difference(expected: ["imports 1, last 2026-11-25T13:59:33Z (1795615173), inputs"],
                                       actual: ["imports 1, last 2026-12-07T01:00:00Z (1796605200), inputs"]) == nil)
        #expect(DocExamples.difference(expected: ["a"], actual: ["b"]) != nil)
        #expect(DocExamples.difference(expected: ["x: 9 files, 10326 bytes: 22 messages"],
                                       actual: ["x: 9 files, 10335 bytes: 22 messages"]) == nil)
    }

    /// Every session README.md and docs/ show prints what they show.
    @Test(arguments: DocExamples.documents)
    func documentedSessionsPrintWhatTheyShow(_ document: String) throws {
        let text = try String(contentsOf: Tools.repository.appendingPathComponent(document), encoding: .utf8)
        let examples = DocExamples.parse(text, document: document)
        guard !examples.isEmpty else { return }
        let scratch = try TempDir("coex-doc")
        let outputs = try DocExamples.run(examples, bin: try Tools.binDirectory(), in: scratch)
        for (example, output) in zip(examples, outputs) {
            if let difference = DocExamples.difference(expected: example.expected, actual: output) {
                Issue.record("\(example)\n\(difference)")
            }
        }
    }
}

// The exit statuses a nightly script relies on, through the repository's own pipelines and
// a signal during an import (the golden cases exit-* cover the stages one by one).

import CoexTestSupport
import Foundation
import Testing

@Suite struct ExitPolicyTests {
    /// pipelines/nightly-import.sh exits with the worst status of its stages, and still
    /// writes what it can.
    @Test(arguments: [
        ("cat samples/night1.ndjson samples/night2.ndjson", Int32(0)),
        ("printf 'garbage\\n\\x00\\xff\\n'", Int32(2)),
        ("cat samples/night1.ndjson samples/malformed.ndjson", Int32(2)),
        (": ", Int32(3)),
    ])
    func nightlyScriptPassesTheStatusOn(_ capture: String, _ status: Int32) throws {
        let dir = try TempDir("coex-nightly-status")
        let q = Tools.quote
        let bin = try Tools.binDirectory().path
        let out = try Tools.run("""
            \(capture) > \(q(dir.file("night.ndjson")))
            COEX_BIN=\(q(bin)) pipelines/nightly-import.sh \(q(dir.file("night.ndjson"))) \(q(dir.file("out"))) > /dev/null
            """, expectStatus: status)
        if status != 0 {
            #expect(out.stderr.contains("pipelines/nightly-import.sh: exit \(status) (stage statuses:"))
        }
        // The good records of a night with rejects are loaded all the same.
        if capture.contains("malformed") {
            let count = try Tools.run("sqlite3 \(q(dir.file("out/db/102290129340398.sqlite"))) 'SELECT count(*) FROM messages'")
            #expect(Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0)
        }
    }

    /// SIGINT during `coex import` says what state the databases are in and exits 130; the
    /// databases are then whole: a re-run completes the import.
    @Test func interruptedImportSaysWhatStateTheDatabasesAreIn() throws {
        let dir = try TempDir("coex-interrupt")
        let q = Tools.quote
        let out = try Tools.run("""
            cd \(q(dir.path))
            coex-gen --seed 5 --size 80MB > capture.ndjson
            coex import capture.ndjson --out-dir db --rejects rejects.ndjson 2> err.txt &
            pid=$!
            sleep 0.3
            kill -INT $pid
            wait $pid
            echo "exit $?"
            tail -1 err.txt
            for db in db/*.sqlite; do [ -e "$db" ] || continue; sqlite3 "$db" 'PRAGMA integrity_check' | grep -qx ok || echo "damaged $db"; done
            coex import capture.ndjson --out-dir db --rejects rejects.ndjson 2>/dev/null
            echo "rerun exit $?"
            """)
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "exit 130")
        #expect(lines.dropFirst().first?.hasPrefix("coex import: interrupted: each database is as it was before this run, or fully written by it") == true)
        #expect(lines.last == "rerun exit 0")
    }
}

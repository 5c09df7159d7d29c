// The ceiling bench/import.sh measures `coex import` against: bench/python_loader.py's work
// done with coex's own parts and nothing else (LineReader, simdjson through CoexJSON, SQLite
// through CoexSQLite). Each line is parsed once; each message found (live messages, echoes,
// history thread messages) is inserted into one table with a unique wamid, INSERT OR IGNORE,
// one transaction, WAL with synchronous=NORMAL (as Database opens it). Single-threaded.
// No validation, merging, ordering, edits, statuses, contacts or identity: what a load cannot
// beat on one core while it parses every line and stores every message.
//
//     coex-bench-ceiling [--journal off] DB CAPTURES...
//
// --journal off: journal_mode=OFF and synchronous=OFF instead (no WAL appends, no checkpoint).
// Prints lines, messages inserted, unreadable lines and seconds on stderr.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoexIO
import CoexJSON
import CoexSQLite

func say(_ message: String) {
    var line = "coex-bench-ceiling: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    say(message)
    exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var journalOff = false
if arguments.first == "--journal" {
    guard arguments.count > 1, arguments[1] == "off" || arguments[1] == "wal" else {
        fail("--journal takes off or wal")
    }
    journalOff = arguments[1] == "off"
    arguments.removeFirst(2)
}
guard arguments.count >= 2 else { fail("usage: coex-bench-ceiling [--journal off] DB CAPTURES...") }

/// The value's UTF-8 bytes as a String (what binding a text parameter through CoexSQLite takes).
@inline(__always) func text(_ value: JSONValue?) -> String? {
    value?.stringBytes.map { String(decoding: $0, as: UTF8.self) }
}

/// `int(m.get("timestamp") or 0)`: WhatsApp sends the epoch seconds as a decimal string.
func timestamp(_ value: JSONValue?) -> Int64? {
    guard let value else { return 0 }
    if let n = value.int64 { return n }
    guard let bytes = value.stringBytes else { return value.isNull ? 0 : nil }
    if bytes.isEmpty { return 0 }
    var n: Int64 = 0
    var negative = false
    for (i, byte) in bytes.enumerated() {
        if i == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
        guard byte >= 0x30 && byte <= 0x39 else { return nil }
        let (times, o1) = n.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times.addingReportingOverflow(Int64(byte - 0x30))
        guard !o1 && !o2 else { return nil }
        n = sum
    }
    return negative ? -n : n
}

let start = ContinuousClock.now
var lines = 0
var inserted = 0
var unreadable = 0
do {
    let db = try Database(path: arguments[0], writeAheadLog: !journalOff)
    if journalOff { try db.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;") }
    try db.execute(
        "CREATE TABLE IF NOT EXISTS messages (wamid TEXT PRIMARY KEY, phone_number_id TEXT, "
            + "sender TEXT, recipient TEXT, timestamp INTEGER, type TEXT, body TEXT, content TEXT)")
    let insert = try db.prepare("INSERT OR IGNORE INTO messages VALUES (?,?,?,?,?,?,?,?)")
    let parser = JSONParser()
    var writer = JSONWriter(capacity: 1 << 16)

    func bind(_ value: String?, at index: Int) throws {
        if let value { try insert.bind(value, at: index) } else { try insert.bindNull(at: index) }
    }

    /// One message; false when it is not an object or its timestamp is not a number (Python's
    /// AttributeError / ValueError: the line counts as unreadable; unlike Python, the line's
    /// other messages are still stored, which no generated capture has).
    func store(_ m: JSONValue, phone: String?) throws -> Bool {
        guard m.isObject, let ts = timestamp(m["timestamp"]) else { return false }
        let kindBytes = m["type"]?.stringBytes
        var body: String?
        if let kindBytes {
            let kind = String(decoding: kindBytes, as: UTF8.self)
            if let part = m[dynamicKey: kind], part.isObject {
                body = text(kind == "text" ? part["body"] : part["caption"])
            }
        }
        writer.reset()
        m.write(to: &writer)
        try bind(text(m["id"]), at: 1)
        try bind(phone, at: 2)
        try bind(text(m["from"]), at: 3)
        try bind(text(m["to"]), at: 4)
        try insert.bind(ts, at: 5)
        try bind(kindBytes.map { String(decoding: $0, as: UTF8.self) }, at: 6)
        try bind(body, at: 7)
        try insert.bind(String(decoding: writer.bytes, as: UTF8.self), at: 8)
        try insert.execute()
        inserted += db.changes
        return true
    }

    /// Calls `body` with each element of an array (none for a missing member or a non-array).
    func each(_ list: JSONValue?, _ body: (JSONValue) throws -> Void) rethrows {
        guard let list else { return }
        for element in list.elements { try body(element) }
    }

    func messages(_ list: JSONValue?, phone: String?) throws -> Bool {
        var ok = true
        try each(list) { if try !store($0, phone: phone) { ok = false } }
        return ok
    }

    try db.transaction {
        for path in arguments.dropFirst() {
            let reader = LineReader(source: try openInput(path))
            while let line = try reader.next() {
                lines += 1
                guard let body = try? parser.parse(line.bytes, padded: true), body.isObject else {
                    unreadable += 1
                    continue
                }
                var ok = true
                try each(body["entry"]) { entry in
                    try each(entry["changes"]) { change in
                        guard let value = change["value"], value.isObject else { return }
                        let phone = text(value["metadata"]?["phone_number_id"])
                        ok = try messages(value["messages"], phone: phone) && ok
                        ok = try messages(value["message_echoes"], phone: phone) && ok
                        try each(value["history"]) { history in
                            try each(history["threads"]) { thread in
                                ok = try messages(thread["messages"], phone: phone) && ok
                            }
                        }
                    }
                }
                if !ok { unreadable += 1 }
            }
        }
    }
} catch {
    fail("\(error)")
}
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
say("\(lines) lines, \(inserted) messages inserted, \(unreadable) unreadable, \(Double(Int(seconds * 10)) / 10) s")

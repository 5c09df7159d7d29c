#!/usr/bin/env python3
"""The baseline coex import is measured against: a Python standard-library loader.

    python3 bench/python_loader.py [--json orjson] DB CAPTURES...

Reads every line with json.loads and inserts each message it finds (live messages, echoes,
history thread messages) into one SQLite table with a unique wamid (INSERT OR IGNORE, one
transaction, WAL) through the sqlite3 module; the stored copy of a message is json.dumps(m).
With --json orjson the same loop uses orjson.loads and orjson.dumps (orjson is not in the
standard library: bench/import.sh installs it from pip into bench/.venv). It does far less
than coex (no validation, merging, ordering, edits, statuses, contacts or identity): a floor
for what loading costs.
Prints lines, messages inserted and seconds on stderr.
"""
import json
import sqlite3
import sys
import time


def codec(name):
    """loads and dumps of the JSON library `name`: dumps gives the str stored as content."""
    if name == "json":
        return json.loads, json.dumps
    if name == "orjson":
        import orjson
        return orjson.loads, lambda v: orjson.dumps(v).decode()
    sys.exit(f"python_loader.py: --json takes json or orjson, not {name}")


def messages_of(value):
    for m in value.get("messages") or ():
        yield m
    for m in value.get("message_echoes") or ():
        yield m
    for h in value.get("history") or ():
        for t in h.get("threads") or ():
            for m in t.get("messages") or ():
                yield m


def main():
    args = sys.argv[1:]
    library = "json"
    if args[:1] == ["--json"] and len(args) > 1:
        library, args = args[1], args[2:]
    if len(args) < 2:
        sys.exit("usage: python_loader.py [--json orjson] DB CAPTURES...")
    loads, dumps = codec(library)
    start = time.time()
    db = sqlite3.connect(args[0])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS messages (wamid TEXT PRIMARY KEY, phone_number_id TEXT, "
               "sender TEXT, recipient TEXT, timestamp INTEGER, type TEXT, body TEXT, content TEXT)")
    lines = inserted = bad = 0
    with db:
        for path in args[1:]:
            with open(path, "rb") as f:
                for raw in f:
                    lines += 1
                    try:
                        body = loads(raw)
                        rows = []
                        for entry in body.get("entry") or ():
                            for change in entry.get("changes") or ():
                                value = change.get("value") or {}
                                phone = (value.get("metadata") or {}).get("phone_number_id")
                                for m in messages_of(value):
                                    kind = m.get("type")
                                    part = m.get(kind) if isinstance(m.get(kind), dict) else {}
                                    text = part.get("body") if kind == "text" else part.get("caption")
                                    rows.append((m.get("id"), phone, m.get("from"), m.get("to"),
                                                 int(m.get("timestamp") or 0), kind, text, dumps(m)))
                    except (ValueError, AttributeError, TypeError):
                        bad += 1
                        continue
                    cur = db.executemany("INSERT OR IGNORE INTO messages VALUES (?,?,?,?,?,?,?,?)", rows)
                    inserted += cur.rowcount
    print(f"python_loader ({library}): {lines} lines, {inserted} messages inserted, {bad} unreadable, "
          f"{time.time() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

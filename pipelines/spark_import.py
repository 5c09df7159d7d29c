"""The nightly import on Apache Spark, running coex's own stage executables.

    spark-submit [--master URL] pipelines/spark_import.py --out-dir DIR --rejects FILE CAPTURES...

The same arguments and the same databases as `coex import` (docs/scale-out.md):

1. One task per capture file runs `coex-validate FILE | coex-normalize` on it, so provenance
   names the capture file and its physical line exactly as on one machine. Every record is keyed
   by its business (`waba_id`, as normalize decides it) and its arrival: (capture index, place in
   that capture's normalized stream).
2. The records are partitioned by business and sorted by arrival within each partition
   (`repartitionAndSortWithinPartitions`): one business is handled by one task, which runs
   `coex-dedupe | coex-order | coex-apply | coex-load` on it. The task copies the business's
   existing database (if any) to local disk, loads into the copy, and writes it back under a
   temporary name that is renamed over `DIR/<waba_id>.sqlite`: a killed task leaves the old
   database whole.
3. Rejects of every task come back to the driver and are written to one NDJSON file, in capture
   order; every stage's counts are summed and printed on stderr.

Exit status: 0 success, 1 a task or stage failed (the databases that were written are whole),
2 a stage rejected more than --max-rejects (as coex import), 64 usage error.
"""

import argparse
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stage_summaries import summed  # noqa: E402  (the driver only: beside this file)

STAGES_FRONT = ["validate", "normalize"]
STAGES_BACK = ["dedupe", "order", "apply", "load"]


def parse_arguments(argv):
    p = argparse.ArgumentParser(prog="spark_import.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out-dir", required=True, help="folder of the per-business databases")
    p.add_argument("--rejects", required=True, help="NDJSON file the rejects of every task are written to")
    p.add_argument("--coex-bin", help="folder of the coex executables (default: .build/release)")
    p.add_argument("--max-rejects", default="10%", help="each stage's reject limit, as coex-validate --max-rejects")
    p.add_argument("--partitions", type=int, help="business partitions (default: one per business, at most 4 per core)")
    p.add_argument("--app-secret-file",
                   help="re-verify every line of captures written by coex capture against the signature beside it, "
                        "as coex-validate --app-secret-file (captures on this file system only)")
    p.add_argument("--split-size", default="256MB",
                   help="a plain capture larger than this is read by several tasks, one per part (default 256MB; 0: never)")
    p.add_argument("captures", nargs="+", help="capture files in order, or globs")
    return p.parse_args(argv)


def is_uri(path):
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path) is not None


def expand_uri(sc, pattern):
    """The files a Hadoop file system URI (or glob of one) names, sorted by name."""
    jvm = sc._jvm
    path = jvm.org.apache.hadoop.fs.Path(pattern)
    fs = path.getFileSystem(sc._jsc.hadoopConfiguration())
    found = fs.globStatus(path)
    names = sorted(str(st.getPath().toString()) for st in (found or []) if st.isFile())
    names = without_signature_files(names, lambda p: fs.exists(jvm.org.apache.hadoop.fs.Path(p)))
    if not any(ch in pattern for ch in "*?[") and names:
        return [pattern]  # named as given, as on one machine
    return names


def is_signature_file(path, exists=lambda p: os.access(p, os.R_OK)):
    """NAME.sig[.zst] with its capture NAME.ndjson[.zst] (or .jsonl) beside it: coex capture's
    signature file, which `captures/*` names too. Never webhooks: as coex-validate does, it is
    left out of the inputs (coex-validate --app-secret-file reads it beside its capture)."""
    base = path[:-4] if path.endswith(".zst") else path
    if not base.endswith(".sig") or len(base) == 4:
        return False
    base = base[:-4]
    return any(exists(base + ext) for ext in (".ndjson", ".ndjson.zst", ".jsonl", ".jsonl.zst"))


def without_signature_files(files, exists=lambda p: os.access(p, os.R_OK)):
    kept = [f for f in files if not is_signature_file(f, exists)]
    skipped = len(files) - len(kept)
    if skipped:
        more = "" if skipped == 1 else f" and {skipped - 1} more"
        first = next(f for f in files if f not in kept)
        print(f"spark_import: {first}{more}: signature file(s) of coex capture, not webhooks: not read as input",
              file=sys.stderr)
    return kept


def expand(captures):
    """Files in the order given; a glob expands to its matches sorted by name. URIs are kept
    for the driver's Hadoop file system to expand."""
    files = []
    for c in captures:
        if is_uri(c):
            files.append(c)
            continue
        if any(ch in c for ch in "*?["):
            found = sorted(glob.glob(c))
            if not found:
                raise SystemExit(f"spark_import: {c}: no capture matches")
            files += found
        else:
            files.append(c)
    return files


def size_of(text):
    m = re.fullmatch(r"(\d+)\s*([KMG]?)B?", text.strip().upper())
    if not m:
        raise SystemExit(f"spark_import: --split-size {text}: not a size (e.g. 256MB)")
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def parts_of(path, split):
    """(start byte, end byte, first line) of each part of a capture, cut at line ends. A
    compressed capture is one part (a zstd stream cannot be entered in the middle)."""
    size = os.path.getsize(path)
    if split <= 0 or size <= split or path.endswith(".zst"):
        return [(0, None, 1)]
    parts, start, line = [], 0, 1
    with open(path, "rb") as f:
        while start < size:
            f.seek(start)
            target = min(start + split, size)
            newlines, at = 0, start
            # Count the lines up to the target, then run on to the end of the line it falls in.
            while at < target:
                block = f.read(min(1 << 24, target - at))
                newlines += block.count(b"\n")
                at += len(block)
            end = at
            if end < size:
                rest = b""
                while True:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        end = size
                        break
                    i = chunk.find(b"\n")
                    if i >= 0:
                        end += i + 1
                        newlines += 1
                        break
                    end += len(chunk)
            parts.append((start, end, line))
            line += newlines
            start = end
    return parts


def run(commands, stdin_path, workdir):
    """Runs a pipe of stage commands; returns (stdout lines, stderr text, [exit codes])."""
    errors = open(os.path.join(workdir, "stderr"), "w+b")
    procs = []
    source = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    previous = source
    for i, cmd in enumerate(commands):
        last = i == len(commands) - 1
        proc = subprocess.Popen(cmd, stdin=previous, stdout=subprocess.PIPE, stderr=errors, cwd=os.getcwd())
        if previous not in (subprocess.DEVNULL,) and hasattr(previous, "close"):
            previous.close()
        previous = proc.stdout
        procs.append(proc)
    for line in procs[-1].stdout:
        yield ("out", line.rstrip(b"\n"))
    codes = [p.wait() for p in procs]
    errors.seek(0)
    yield ("done", (errors.read().decode("utf-8", "replace"), codes))


def stage_commands(binary, names, rejects, max_rejects, extra=None):
    # A relative --coex-bin is resolved where the task runs: an archive shipped with
    # `--archives coex.tar.gz#coex` is unpacked in each executor's working directory.
    if not os.path.isabs(binary) and not os.path.isdir(binary):
        from pyspark import SparkFiles  # where --files and --archives land (local mode: not the cwd)

        binary = os.path.join(SparkFiles.getRootDirectory(), binary)
    binary = os.path.abspath(binary)
    commands = []
    for name in names:
        cmd = [os.path.join(binary, "coex-" + name), "--max-rejects", max_rejects, "--rejects", rejects]
        if extra and name in extra:
            cmd += extra[name]
        commands.append(cmd)
    return commands


def rejects_of(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [line.rstrip(b"\n") for line in f if line.strip()]


def front(binary, max_rejects, secret_file=None):
    """Task of one capture file: validate + normalize. Yields records keyed by business."""
    import json

    verify = {"validate": ["--app-secret-file", secret_file]} if secret_file else None

    def task(item):
        (index, part), path, (start, end, first), content = item
        work = tempfile.mkdtemp(prefix="coex-spark-")
        try:
            rejects = os.path.join(work, "rejects.ndjson")
            commands = stage_commands(binary, STAGES_FRONT, rejects, max_rejects, verify)
            stdin = None
            if content is not None:
                # A capture on a Hadoop file system, read by Spark: named as the URI given.
                stdin = os.path.join(work, "capture" + (".zst" if path.endswith(".zst") else ""))
                with open(stdin, "wb") as out:
                    out.write(content)
                if path.endswith(".zst"):
                    plain = os.path.join(work, "capture.ndjson")
                    subprocess.run(["zstd", "-d", "-q", "-f", stdin, "-o", plain], check=True)
                    stdin = plain
                commands[0] += ["--part-of", path, "-"]
            elif end is None:
                commands[0].append(path)
            else:
                # A part of a large capture: its lines are named after the capture and numbered
                # from the part's first line, as if the whole file had been read.
                stdin = os.path.join(work, "part.ndjson")
                with open(path, "rb") as f, open(stdin, "wb") as out:
                    f.seek(start)
                    left = end - start
                    while left > 0:
                        block = f.read(min(1 << 24, left))
                        if not block:
                            break
                        out.write(block)
                        left -= len(block)
                commands[0] += ["--part-of", path, "--first-line", str(first), "-"]
            seq = 0
            for kind, value in run(commands, stdin, work):
                if kind == "out":
                    waba = json.loads(value).get("waba_id") or ""
                    yield ("record", (waba, index, part, seq), value)
                    seq += 1
                else:
                    stderr, codes = value
                    for n, line in enumerate(rejects_of(rejects)):
                        yield ("reject", (index, 0, part, n), line)
                    yield ("stderr", (index, 0, part, 0), (stderr, codes, path))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return task


def copy_database(source, destination):
    """A consistent copy (the WAL included) through SQLite's backup, in rollback-journal mode."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    with dst:
        src.backup(dst)
    dst.execute("PRAGMA journal_mode = DELETE")
    dst.close()
    src.close()


def publish(built, final):
    """Writes `built` back over `final` atomically: a temporary file beside it, fsync'd, renamed."""
    folder = os.path.dirname(final) or "."
    partial = os.path.join(folder, "." + os.path.basename(final) + ".spark-partial")
    copy_database(built, partial)
    fd = os.open(partial, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    # A WAL left beside the old file must not be replayed into the new one.
    for suffix in ("-wal", "-shm"):
        if os.path.exists(final + suffix):
            os.remove(final + suffix)
    os.replace(partial, final)
    dirfd = os.open(folder, os.O_RDONLY)
    os.fsync(dirfd)
    os.close(dirfd)


def back(binary, max_rejects, out_dir):
    """Task of one partition of businesses: dedupe → order → apply → load, business by business."""

    def business(waba, lines, results):
        work = tempfile.mkdtemp(prefix="coex-spark-")
        try:
            records = os.path.join(work, "records.ndjson")
            with open(records, "wb") as f:
                for line in lines:
                    f.write(line + b"\n")
            local = os.path.join(work, "db")
            os.mkdir(local)
            name = waba + ".sqlite"
            final = os.path.join(out_dir, name)
            if os.path.exists(final):
                copy_database(final, os.path.join(local, name))
            rejects = os.path.join(work, "rejects.ndjson")
            commands = stage_commands(binary, STAGES_BACK, rejects, max_rejects, {"load": ["--out-dir", local]})
            for kind, value in run(commands, records, work):
                if kind == "done":
                    stderr, codes = value
                    ok = all(c in (0, 3) for c in codes)
                    if ok and os.path.exists(os.path.join(local, name)):
                        publish(os.path.join(local, name), final)
                    for n, line in enumerate(rejects_of(rejects)):
                        results.append(("reject", (waba, 1, 0, n), line))
                    results.append(("stderr", (waba, 1, 0, 0), (stderr.replace(local, out_dir), codes, waba)))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def task(rows):
        results = []
        current, lines = None, []
        for key, line in rows:
            waba = key[0]
            if waba != current and current is not None:
                business(current, lines, results)
                lines = []
            current = waba
            lines.append(line)
        if current is not None:
            business(current, lines, results)
        return iter(results)

    return task


def main(argv):
    args = parse_arguments(argv)
    binary = args.coex_bin or os.path.abspath(os.path.join(".build", "release"))
    missing = [s for s in STAGES_FRONT + STAGES_BACK if not os.access(os.path.join(binary, "coex-" + s), os.X_OK)]
    if missing and (os.path.isabs(binary) or len(missing) < len(STAGES_FRONT + STAGES_BACK)):
        print(f"spark_import: {binary}/coex-{missing[0]}: not found (build with swift build -c release, or give --coex-bin)",
              file=sys.stderr)
        return 64
    if missing:
        print(f"spark_import: {binary}: not here; each task looks for it where --archives and --files unpack",
              file=sys.stderr)
    files = without_signature_files(expand(args.captures))
    if not files:
        print("spark_import: only signature files of coex capture given: name the captures (NAME.ndjson[.zst])",
              file=sys.stderr)
        return 64
    secret_file = os.path.abspath(args.app_secret_file) if args.app_secret_file else None
    if secret_file and not os.access(secret_file, os.R_OK):
        print(f"spark_import: --app-secret-file {args.app_secret_file}: cannot read it", file=sys.stderr)
        return 1
    if secret_file and any(is_uri(f) for f in files):
        print("spark_import: --app-secret-file reads each capture's signature file beside it: "
              "give captures on this file system, not URIs", file=sys.stderr)
        return 64
    for f in files:
        if not is_uri(f) and not os.path.isfile(f):
            print(f"spark_import: {f}: no such capture file", file=sys.stderr)
            return 1
    os.makedirs(args.out_dir, exist_ok=True)
    out_dir = os.path.abspath(args.out_dir)
    try:
        open(args.rejects, "ab").close()
    except OSError as e:
        print(f"spark_import: cannot write {args.rejects}: {e.strerror}", file=sys.stderr)
        return 1

    from pyspark import SparkContext, StorageLevel
    from pyspark.rdd import portable_hash

    sc = SparkContext.getOrCreate()
    sc.setLogLevel("WARN")
    split = size_of(args.split_size)
    named, remote = [], set()
    for f in files:
        if is_uri(f):
            found = expand_uri(sc, f)
            if not found:
                print(f"spark_import: {f}: no capture matches", file=sys.stderr)
                sc.stop()
                return 1
            named += found
            remote.update(found)
        else:
            named.append(f)
    files = named
    local = [((i, n), f, part, None) for i, f in enumerate(files) if f not in remote
             for n, part in enumerate(parts_of(f, split))]
    tasks = list(local)
    captures = sc.parallelize(local, max(1, len(local))) if local else None
    for i, f in enumerate(files):
        if f in remote:
            # Spark reads the file through its Hadoop file system; one task per file.
            fetched = sc.binaryFiles(f, minPartitions=1).map(lambda kv, i=i, f=f: ((i, 0), f, (0, None, 1), kv[1]))
            captures = fetched if captures is None else captures.union(fetched)
            tasks.append(((i, 0), f, None, None))
    stream = captures.flatMap(front(binary, args.max_rejects, secret_file)).persist(StorageLevel.MEMORY_AND_DISK)
    records = stream.filter(lambda r: r[0] == "record").map(lambda r: (r[1], r[2]))
    businesses = records.map(lambda kv: kv[0][0]).distinct().count()
    partitions = args.partitions or max(1, min(businesses, 4 * sc.defaultParallelism))
    loaded = records.repartitionAndSortWithinPartitions(
        numPartitions=partitions, partitionFunc=lambda key: portable_hash(key[0])
    ).mapPartitions(back(binary, args.max_rejects, out_dir))

    side = stream.filter(lambda r: r[0] != "record").collect() + loaded.collect()
    stream.unpersist()
    sc.stop()

    side.sort(key=lambda r: (r[1][1], r[1][0], r[1][2], r[1][3]))
    failed, too_many = False, False
    by_stage = OrderedDict((s, []) for s in STAGES_FRONT + STAGES_BACK)
    with open(args.rejects, "ab") as f:
        for kind, _, value in side:
            if kind == "reject":
                f.write(value + b"\n")
    for kind, _, value in side:
        if kind != "stderr":
            continue
        stderr, codes, what = value
        if any(c == 2 for c in codes) and all(c in (0, 2, 3) for c in codes):
            too_many = True
        elif not all(c in (0, 3) for c in codes):
            failed = True
            print(f"spark_import: {what}: a stage failed (exit {codes}):\n{stderr}", file=sys.stderr)
        for line in stderr.splitlines():
            m = re.match(r"coex-([a-z]+): (.*)", line)
            if m and m.group(1) in by_stage and re.match(r"\d+ (lines? read|signatures? verified)", m.group(2)):
                by_stage[m.group(1)].append(m.group(2))
    for stage, lines in by_stage.items():
        for text in summed(lines):
            print(f"coex-{stage}: {text.replace(out_dir, args.out_dir)}", file=sys.stderr)
    print(f"spark_import: {len(files)} capture(s) in {len(tasks)} task(s), {businesses} business(es) in {partitions} partition(s) -> {args.out_dir}",
          file=sys.stderr)
    return 1 if failed else 2 if too_many else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

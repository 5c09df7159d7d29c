#!/usr/bin/env bash
# The Spark job gives the databases of `coex import` (issue: scale-out). Usage:
#   Tests/spark/spark-check.sh SPARK_SUBMIT [BIN_DIR]
# Runs pipelines/spark_import.py in local[2] mode (BIN_DIR: the coex executables, default
# .build/debug) and compares every table but imports with coex import over the same captures:
# the samples; a generated capture of several businesses split into two nights, the second
# loaded onto the first's databases; a re-run (nothing may change); and a capture with
# malformed lines, whose rejects must be gathered with their file and line. Exits 1 on a failure.
set -euo pipefail
submit=$1
# The driver and the workers run the Python beside spark-submit (a venv's): the one with PySpark.
if [ -z "${PYSPARK_PYTHON:-}" ] && [ -x "$(dirname "$submit")/python" ]; then
    export PYSPARK_PYTHON="$(dirname "$submit")/python"
fi
bin=$(cd "${2:-.build/debug}" && pwd)
work=$(mktemp -d)
capture_pid=""
# A failure between starting coex capture and stopping it must not leave the receiver running.
trap 'if [ -n "$capture_pid" ]; then kill "$capture_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
fail() { echo "spark-check: $*" >&2; exit 1; }
spark() { "$submit" --master 'local[2]' pipelines/spark_import.py --coex-bin "$bin" "$@" 2>>"$work/spark.log"; }
coex() { "$bin/coex" import "$@" 2>/dev/null; }
dump() { sqlite3 "$1" .dump | grep -v '^INSERT INTO imports'; }
same() { # same DIR_A DIR_B WHAT
    local n=0
    for db in "$1"/*.sqlite; do
        name=$(basename "$db")
        [ -f "$2/$name" ] || fail "$3: $name missing from $2"
        cmp -s <(dump "$db") <(dump "$2/$name") || fail "$3: $name differs"
        n=$((n + 1))
    done
    [ "$n" -eq "$(ls "$2"/*.sqlite | wc -l)" ] || fail "$3: not the same databases"
    [ "$n" -gt 0 ] || fail "$3: no database"
    echo "spark-check: $3: $n databases, every table but imports the same as coex import"
}

# The samples, two nights in one run.
spark --out-dir "$work/spark" --rejects "$work/spark/rejects.ndjson" samples/night1.ndjson samples/night2.ndjson
coex samples/night1.ndjson samples/night2.ndjson --out-dir "$work/one" --rejects "$work/one/rejects.ndjson"
same "$work/one" "$work/spark" "samples"

# The binaries shipped with the job (--archives, as on a cluster whose nodes lack them).
tar -czf "$work/coex-bin.tar.gz" -C "$bin" coex-validate coex-normalize coex-dedupe coex-order coex-apply coex-load
"$submit" --master 'local[2]' --archives "$work/coex-bin.tar.gz#coexdist" pipelines/spark_import.py --coex-bin coexdist \
    --out-dir "$work/shipped" --rejects "$work/shipped/rejects.ndjson" samples/night1.ndjson samples/night2.ndjson 2>>"$work/spark.log"
same "$work/one" "$work/shipped" "binaries shipped with --archives"

# Captures split into parts (a tiny --split-size: 10 KB parts of the samples, several tasks per
# file): the same databases, and rejects still name the capture file and its physical line.
spark --split-size 10KB --out-dir "$work/parts" --rejects "$work/parts/rejects.ndjson" samples/night1.ndjson samples/night2.ndjson
same "$work/one" "$work/parts" "captures split into 10 KB parts"

# Captures named by Hadoop file system URIs (file:// here; hdfs:// or s3a:// on a cluster), read
# by Spark: provenance names the URI as given, everything else is as coex import's.
spark --out-dir "$work/uri" --rejects "$work/uri/rejects.ndjson" "file://$PWD/samples/night1.ndjson" "file://$PWD/samples/night2.ndjson"
for db in "$work/one"/*.sqlite; do
    name=$(basename "$db")
    cmp -s <(dump "$db") <(dump "$work/uri/$name" | sed "s|file://$PWD/||g") || fail "URI captures: $name differs"
done
[ "$(sqlite3 "$work/uri/102290129340398.sqlite" 'SELECT source FROM messages LIMIT 1')" = "file://$PWD/$(sqlite3 "$work/one/102290129340398.sqlite" 'SELECT source FROM messages LIMIT 1')" ] \
    || fail "URI captures: provenance does not name the URI"
echo "spark-check: captures as file:// URIs: the same databases, provenance naming the URIs"

# Captures written by coex capture (the samples, each signed and delivered over loopback), named
# by a glob over the whole directory: the signature files are left out of the inputs, and every
# line is re-verified with --app-secret-file; under another app's secret every line is a reject.
printf 'spark-check-secret\n' > "$work/secret"
printf 'other-app\n' > "$work/other-secret"
printf 'token\n' > "$work/token"
"$bin/coex" capture --listen 127.0.0.1:0 --dir "$work/captures" --app-secret-file "$work/secret" \
    --verify-token-file "$work/token" 2>"$work/capture.log" &
capture_pid=$!
port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*\[CoexCapture\] listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/capture.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "coex capture did not start: $(cat "$work/capture.log")"
python3 - "$port" spark-check-secret samples/night1.ndjson samples/night2.ndjson <<'PY' || fail "a delivery to coex capture failed"
import hashlib, hmac, sys, urllib.request
port, secret = sys.argv[1], sys.argv[2].encode()
for name in sys.argv[3:]:
    for body in open(name, "rb").read().split(b"\n"):
        if not body:
            continue
        signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body,
                                         headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 200, answer.status
PY
kill -TERM "$capture_pid"
wait "$capture_pid" || fail "coex capture exited $?"
capture_pid=""
delivered=$(cat samples/night1.ndjson samples/night2.ndjson | grep -c .)
: > "$work/spark.log"
spark --split-size 10KB --app-secret-file "$work/secret" --out-dir "$work/captured" --rejects "$work/captured/rejects.ndjson" \
    "$work/captures/*" > "$work/captured.out"
cat "$work/captured.out" "$work/spark.log" > "$work/captured.all"
cat "$work/captured.out"
grep -q "coex-validate: $delivered signatures verified, 0 did not verify" "$work/captured.all" \
    || fail "captures of coex capture: not every line verified: $(grep 'coex-validate' "$work/captured.all")"
grep -q "signature file(s) of coex capture, not webhooks" "$work/captured.all" || fail "the signature files were not left out"
"$bin/coex" import --app-secret-file "$work/secret" "$work/captures"/*.ndjson.zst --out-dir "$work/captured1" \
    --rejects "$work/captured1/rejects.ndjson" 2>/dev/null
same "$work/captured1" "$work/captured" "captures of coex capture, re-verified"
status=0
spark --app-secret-file "$work/other-secret" --out-dir "$work/forged" --rejects "$work/forged/rejects.ndjson" "$work/captures/*" || status=$?
[ "$status" -eq 2 ] || fail "captures under another app's secret: exit $status, not 2"
[ "$(jq -s 'map(select(.reason | startswith("signature does not verify"))) | length' "$work/forged/rejects.ndjson")" -eq "$delivered" ] \
    || fail "captures under another app's secret: not every line rejected"
echo "spark-check: captures of coex capture: $delivered lines re-verified, signature files left out; another app's secret rejects every line"

# Generated businesses, night by night onto the same databases, then the second night again.
"$bin/coex-gen" --seed 5 --businesses 6 --messages 300 --nights 2 --out-prefix "$work/cap"
spark --out-dir "$work/spark2" --rejects "$work/spark2/rejects.ndjson" "$work/cap.night1.ndjson"
coex "$work/cap.night1.ndjson" --out-dir "$work/one2" --rejects "$work/one2/rejects.ndjson"
same "$work/one2" "$work/spark2" "generated night 1"
spark --out-dir "$work/spark2" --rejects "$work/spark2/rejects.ndjson" "$work/cap.night2.ndjson"
coex "$work/cap.night2.ndjson" --out-dir "$work/one2" --rejects "$work/one2/rejects.ndjson"
same "$work/one2" "$work/spark2" "generated night 2 onto night 1"
for db in "$work/spark2"/*.sqlite; do dump "$db" > "$db.before"; done
spark --out-dir "$work/spark2" --rejects "$work/spark2/rejects.ndjson" "$work/cap.night2.ndjson"
for db in "$work/spark2"/*.sqlite; do cmp -s <(dump "$db") "$db.before" || fail "a re-run changed $(basename "$db")"; done
echo "spark-check: a re-run of night 2 changes nothing but imports"

# Malformed lines: rejected with their capture file and line, gathered in one file (the captures
# read in 4 KB parts, so that the line numbers of later parts are tested too).
status=0
spark --split-size 4KB --out-dir "$work/bad" --rejects "$work/bad/rejects.ndjson" --max-rejects 100% \
    samples/night1.ndjson samples/malformed.ndjson || status=$?
[ "$status" -eq 0 ] || fail "malformed run exited $status"
coex samples/night1.ndjson samples/malformed.ndjson --max-rejects 100% --out-dir "$work/bad1" --rejects "$work/bad1/rejects.ndjson" || true
cmp -s <(jq -c '{source, line}' "$work/bad/rejects.ndjson") <(jq -c '{source, line}' "$work/bad1/rejects.ndjson") \
    || fail "rejects differ from coex import's: $(jq -c '{source, line}' "$work/bad/rejects.ndjson" | head -5)"
jq -e -s 'length > 0 and all(.source == "samples/malformed.ndjson" and (.line | type) == "number")' "$work/bad/rejects.ndjson" >/dev/null \
    || fail "rejects do not name the capture file and line"
same "$work/bad1" "$work/bad" "night 1 + malformed capture"
echo "spark-check: $(wc -l < "$work/bad/rejects.ndjson") rejects gathered with their file and line, as coex import's"

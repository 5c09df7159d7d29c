#!/usr/bin/env bash
# The Spark job in local[2] against coex import on the same capture, in one run (ratios only
# hold within one run on this machine). Usage:
#   bench/spark.sh SPARK_SUBMIT [CAPTURE]     (default: coex-gen --seed 1 --size 200MB, generated once)
# Needs a release build (swift build -c release). Prints wall time, CPU time and peak RSS of each,
# the overhead of the engine (Spark / coex import), and checks that the databases are the same.
set -euo pipefail
cd "$(dirname "$0")/.."
submit=$1
bin=$PWD/.build/release
if [ -z "${PYSPARK_PYTHON:-}" ] && [ -x "$(dirname "$submit")/python" ]; then export PYSPARK_PYTHON="$(dirname "$submit")/python"; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
capture=${2:-bench/out/capture-200MB.ndjson}
if [ ! -f "$capture" ]; then
    mkdir -p "$(dirname "$capture")"
    "$bin/coex-gen" --seed 1 --size 200MB > "$capture"
fi
size=$(stat -c %s "$capture")
measure() { # measure NAME COMMAND...: one line of wall s, CPU s, peak RSS (of the biggest process)
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > /dev/null 2> "$work/$name.log" || { cat "$work/$name.log"; exit 1; }
    read -r wall user sys rss < "$work/time"
    printf '%-14s %8.2f s wall  %8.2f s CPU  %6d MiB peak RSS (largest process)  %6.1f MB/s\n' \
        "$name" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(echo "$size / 1000000 / $wall" | bc -l)"
    echo "$wall" > "$work/$name.wall"
}
echo "capture: $capture ($((size / 1000000)) MB), 2 cores, coex $("$bin/coex" --version | cut -d' ' -f2)"
measure "coex import" "$bin/coex" import "$capture" --out-dir "$work/one" --rejects "$work/one/rejects.ndjson"
measure "spark local[2]" "$submit" --master 'local[2]' --driver-memory 2g pipelines/spark_import.py --coex-bin "$bin" \
    --out-dir "$work/spark" --rejects "$work/spark/rejects.ndjson" "$capture"
printf 'overhead of the engine: Spark takes %.2fx the time of coex import\n' \
    "$(echo "$(cat "$work/spark local[2].wall") / $(cat "$work/coex import.wall")" | bc -l)"
n=0
for db in "$work/one"/*.sqlite; do
    cmp -s <(sqlite3 "$db" .dump | grep -v '^INSERT INTO imports') \
        <(sqlite3 "$work/spark/$(basename "$db")" .dump | grep -v '^INSERT INTO imports') || { echo "differs: $db"; exit 1; }
    n=$((n + 1))
done
echo "same databases: $n (every table but imports)"

#!/usr/bin/env bash
# Import benchmark: `coex import` and the stage pipe against a Python standard-library loader
# (bench/python_loader.py: json + sqlite3, messages into a table with a unique wamid) and
# `jq -c .`, on one generated capture, one run each, in one go (ratios are only meaningful
# within one run: this machine's speed drifts by 1.5x over an hour).
#
#   bench/import.sh                 # the 200 MB capture of bench/ingest.sh (generated if missing)
#   bench/import.sh --size 1GB
#
# Options: --size S (default 200MB), --seed N (default 1), --out DIR (default bench/out),
#          --no-build (use the release binaries already built), --memory SIZE (coex import's
#          budget, default its own 512MB).
# Environment: SWIFT_BUILD_FLAGS   extra flags for swift build (e.g. "--scratch-path .build-bench")
#
# Targets (issue 4): coex import >= 4x the Python loader and >= 150 MB/s, peak RSS < 512 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

size=200MB; seed=1; out=bench/out; build=1; memory=()
while (($#)); do
    case "$1" in
        --size) size="${2:?}"; shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        --memory) memory=(--memory "${2:?}"); shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "import.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
for tool in jq python3 sqlite3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "import.sh: $tool not found (bash .ci/deps installs it)" >&2; exit 1; }
done

flags=(-c release ${SWIFT_BUILD_FLAGS:-})
((build == 0)) || { echo "Building release binaries..." >&2; swift build "${flags[@]}" >&2; }
bin="$(swift build "${flags[@]}" --show-bin-path)"
mkdir -p "$out"
file="$out/capture-$size-seed$seed.ndjson"
if [[ ! -s "$file" ]]; then
    echo "Generating $file..." >&2
    "$bin/coex-gen" --seed "$seed" --size "$size" >"$file"
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
bytes=$(stat -c %s "$file")

now() { date +%s.%N; }
declare -A secs rss
# measure NAME COMMAND: wall time around the run, peak RSS (KiB) of the command from GNU time.
measure() {
    local start end
    start=$(now)
    /usr/bin/time -f '%M' -o "$scratch/$1.time" bash -c "$2" 2>"$scratch/$1.err" || {
        echo "import.sh: $1 failed:" >&2; tail -5 "$scratch/$1.err" >&2; exit 1; }
    end=$(now)
    secs[$1]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    rss[$1]=$(tail -1 "$scratch/$1.time")
}

echo "Running on $file ($((bytes / 1000000)) MB)..." >&2
measure "jq -c ." "jq -c . '$file' >/dev/null"
measure "python loader" "python3 bench/python_loader.py '$scratch/python.sqlite' '$file'"
# The pipe's stages run at once: its peak is the sum of the stages' peaks.
stage() { echo "/usr/bin/time -f %M -o '$scratch/pipe-$1.time' '$bin/coex-$1' --rejects '$scratch/pipe-rejects.ndjson'"; }
measure "stage pipe" "$(stage validate) '$file' | $(stage normalize) | $(stage dedupe) | $(stage order) | $(stage apply) | $(stage load) --out-dir '$scratch/pipe'"
rss["stage pipe"]=$(cat "$scratch"/pipe-*.time | awk '{ s += $1 } END { print s }')
measure "coex import" "'$bin/coex' import '$file' --out-dir '$scratch/import' --rejects '$scratch/import-rejects.ndjson' ${memory[*]:-}"

count() { for db in "$1"/*.sqlite; do sqlite3 "$db" 'select count(*) from messages'; done | awk '{ s += $1 } END { print s }'; }
messages_coex=$(count "$scratch/import")
messages_python=$(sqlite3 "$scratch/python.sqlite" 'select count(*) from messages')

printf '\n%s: %.1f MB, %s lines; %s messages stored by coex, %s by the Python loader\n\n' \
    "$file" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$(wc -l <"$file")" "$messages_coex" "$messages_python"
printf '%-14s %9s %9s %12s %10s %9s\n' run seconds MB/s messages/s "peak MiB" "x python"
for name in "jq -c ." "python loader" "stage pipe" "coex import"; do
    n=$messages_coex
    [[ "$name" == "python loader" ]] && n=$messages_python
    [[ "$name" == "jq -c ." ]] && n=0
    awk -v name="$name" -v s="${secs[$name]}" -v b="$bytes" -v n="$n" -v r="${rss[$name]}" -v p="${secs["python loader"]}" \
        'BEGIN { printf "%-14s %9.2f %9.1f %12s %10.0f %9.2f\n", name, s, b / 1e6 / s, (n ? sprintf("%.0f", n / s) : "-"), r / 1024, p / s }'
done
echo
echo "coex import's stages:" && grep -v ': history ' "$scratch/coex import.err" | cut -c1-160

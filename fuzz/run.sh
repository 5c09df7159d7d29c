#!/usr/bin/env bash
# Builds coex-fuzz (libFuzzer + AddressSanitizer) and fuzzes the JSON parser, coex-validate and
# coex-normalize for a bounded time, from a seed corpus of every line of samples/*.ndjson and the
# reference examples. Exits non-zero when libFuzzer finds a crash, an invariant broken, a timeout
# or an out-of-memory; the input that did it is left in the artifact folder it prints.
#
#   fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (SECONDS defaults to 60)
#
# Environment: COEX_FUZZ_CORPUS=DIR keeps the corpus there (grows across runs) instead of a
# temporary folder; COEX_FUZZ_ARTIFACTS=DIR is where crash-*/timeout-*/oom-* inputs go
# (default fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true

# A scratch path of its own: sanitized objects must not replace the plain build's.
# swiftc's -sanitize=fuzzer links libFuzzer but (Swift 6.3, Linux) leaves Swift code without
# coverage counters, so the fuzzer would see only the C++ shim: ask for them explicitly.
build=(swift build -c debug --product coex-fuzz --sanitize=fuzzer --sanitize=address
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp --scratch-path .build-fuzz)
# The gold linker warns about every ASan helper it cannot export: noise, left out.
"${build[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; }
binary="$("${build[@]}" --show-bin-path)/coex-fuzz"

work="$(mktemp -d "${TMPDIR:-/tmp}/coex-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
seeds="$work/seeds"
mkdir -p "$seeds"
n=0
for file in samples/*.ndjson; do
    # One seed file per line, bytes exactly as in the sample (a CR or invalid UTF-8 is kept).
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        printf '%s' "$line" > "$seeds/$(basename "$file" .ndjson)-$n"
    done < "$file"
done
for file in Tests/CoexKitTests/Fixtures/reference/*.json Tests/CoexKitTests/Fixtures/variants/*.json; do
    case "$file" in *.value.json) continue ;; esac
    # The examples are pretty-printed; a line of the capture is one compact body.
    jq -c . "$file" > "$seeds/$(basename "$file" .json).line" 2>/dev/null || true
done
echo "coex-fuzz: $(ls "$seeds" | wc -l) seeds" >&2

corpus="${COEX_FUZZ_CORPUS:-$work/corpus}"
artifacts="${COEX_FUZZ_ARTIFACTS:-fuzz/artifacts}"
mkdir -p "$corpus" "$artifacts"

# Swift's own crash handler would hide the crash from libFuzzer.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# libFuzzer exits non-zero on any finding; set -e passes that on.
"$binary" "$corpus" "$seeds" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$@"

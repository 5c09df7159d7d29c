#!/usr/bin/env bash
# Ingest benchmark: throughput and peak RSS of coex-validate, coex-normalize and the
# validate | normalize pipe, against `jq -c .`, on one generated capture (same file, one run each).
#
#   bench/ingest.sh                     # 200 MB capture (the issue's benchmark)
#   bench/ingest.sh --size 1GB          # a bigger file: peak RSS must stay where it was
#   bench/ingest.sh --flat              # 200 MB then 1 GB, and compare peak RSS
#
# Options:
#   --size S       capture size for coex-gen (default 200MB; repeatable)
#   --flat         same as --size 200MB --size 1GB, then an RSS comparison
#   --seed N       generator seed (default 1)
#   --out DIR      where captures go (default bench/out, git-ignored); reused when present
#   --fresh        generate the captures again (after a change to the generator)
#   --no-build     use the release binaries already built
#   --no-jq        skip jq (then no ratios)
# Environment:
#   SWIFT_BUILD_FLAGS   extra flags for swift build (e.g. "--scratch-path .build-bench")
#   COEX_VALIDATE, COEX_NORMALIZE   commands to time instead of the built stages (e.g. "cat")
#
# Targets (issue 2): validate >= 10x jq's throughput, normalize >= 5x jq, peak RSS flat:
# below 64 MB plus the longest line, whatever the input size.
set -euo pipefail

cd "$(dirname "$0")/.."

sizes=()
seed=1
out=bench/out
build=1
fresh=0
run_jq=1
flat=0
while (($#)); do
    case "$1" in
        --size) sizes+=("${2:?--size needs a value}"); shift 2 ;;
        --flat) flat=1; sizes=(200MB 1GB); shift ;;
        --seed) seed="${2:?--seed needs a value}"; shift 2 ;;
        --out) out="${2:?--out needs a value}"; shift 2 ;;
        --no-build) build=0; shift ;;
        --fresh) fresh=1; shift ;;
        --no-jq) run_jq=0; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "ingest.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
((${#sizes[@]})) || sizes=(200MB)

# --- tools ----------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    echo "Installing GNU time (needed for peak RSS)..." >&2
    apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
command -v jq >/dev/null || { ((run_jq == 0)) || { echo "ingest.sh: jq not found (or use --no-jq)" >&2; exit 1; }; }

flags=(-c release ${SWIFT_BUILD_FLAGS:-})
if ((build)); then
    echo "Building release binaries..." >&2
    products=(coex-gen)
    [[ -n "${COEX_VALIDATE:-}" ]] || products+=(coex-validate)
    [[ -n "${COEX_NORMALIZE:-}" ]] || products+=(coex-normalize)
    for p in "${products[@]}"; do swift build "${flags[@]}" --product "$p" >&2; done
fi
bin="$(swift build "${flags[@]}" --show-bin-path)"
gen="$bin/coex-gen"
validate="${COEX_VALIDATE:-$bin/coex-validate}"
normalize="${COEX_NORMALIZE:-$bin/coex-normalize}"
[[ -x "$gen" ]] || { echo "ingest.sh: $gen missing (build first)" >&2; exit 1; }

mkdir -p "$out"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# --- helpers --------------------------------------------------------------------------------
# Wall time comes from the clock around the run (ms resolution); peak RSS (KiB) from GNU time.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# measure NAME COMMAND: runs the command (a shell string) once; its stderr goes to a file
# (the stage summary is shown under the table) and a non-zero exit is reported, not fatal.
declare -A secs rss status
measure() {
    local name="$1" cmd="$2" start end rc=0
    start=$(now)
    /usr/bin/time -f '%M' -o "$scratch/time" bash -c "$cmd" 2>"$scratch/$name.err" || rc=$?
    end=$(now)
    secs[$name]=$(elapsed "$start" "$end")
    rss[$name]=$(tail -1 "$scratch/time")
    status[$name]=$rc
}

# The pipe: wall time of the whole pipeline, peak RSS of each side (reported as the larger).
measure_pipe() {
    local name="$1" file="$2" start end l r codes
    start=$(now)
    set +e
    /usr/bin/time -f '%M' -o "$scratch/left" bash -c "$validate \"$file\"" 2>"$scratch/pipe-validate.err" |
        /usr/bin/time -f '%M' -o "$scratch/right" bash -c "$normalize >/dev/null" 2>"$scratch/pipe-normalize.err"
    codes="${PIPESTATUS[*]}"
    set -e
    end=$(now)
    secs[$name]=$(elapsed "$start" "$end")
    l=$(tail -1 "$scratch/left"); r=$(tail -1 "$scratch/right")
    rss[$name]=$((l > r ? l : r))
    [[ "$codes" == "0 0" ]] && status[$name]=0 || status[$name]="${codes// /,}"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

declare -A rss_by_size longest_by_size

run_size() {
    local size="$1"
    local file="$out/capture-$size-seed$seed.ndjson"
    echo >&2
    if ((fresh == 0)) && [[ -s "$file" && -s "$file.gen" ]]; then
        echo "Reusing $file" >&2
    else
        echo "Generating $file..." >&2
        /usr/bin/time -f '%e %M' -o "$scratch/gen" "$gen" --seed "$seed" --size "$size" >"$file"
        cp "$scratch/gen" "$file.gen"
    fi
    local bytes longest gen_s gen_rss
    bytes=$(stat -c %s "$file")
    longest=$(LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$file")
    read -r gen_s gen_rss <"$file.gen"
    secs=(); rss=(); status=()

    echo "Running (one run each, same file)..." >&2
    measure validate "$validate \"$file\" >/dev/null"
    measure normalize "$normalize \"$file\" >/dev/null"
    measure_pipe "validate|normalize" "$file"
    ((run_jq)) && measure jq "jq -c . \"$file\" >/dev/null"

    # RSS target: 64 MiB beyond the longest line.
    local limit_kb=$((64 * 1024 + longest / 1024))
    printf '\nCapture: %s (%s MB, %s lines, longest line %s bytes), seed %s\n' \
        "$file" "$(mb "$bytes")" "$(wc -l <"$file")" "$longest" "$seed"
    printf 'coex-gen wrote it in %s s: %s MB/s, peak RSS %s MiB\n\n' "$gen_s" \
        "$(awk -v b="$bytes" -v s="$gen_s" 'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }')" \
        "$(awk -v k="$gen_rss" 'BEGIN { printf "%.1f", k / 1024 }')"
    printf '%-20s %8s %9s %13s %10s  %s\n' tool seconds MB/s "peak RSS MiB" "x jq" "target"
    printf '%-20s %8s %9s %13s %10s  %s\n' -------------------- -------- --------- ------------- ---------- ------
    local tool target need ratio verdict speed
    for tool in validate normalize "validate|normalize" jq; do
        [[ -n "${secs[$tool]:-}" ]] || continue
        speed=$(awk -v b="$bytes" -v s="${secs[$tool]}" 'BEGIN { printf "%.0f", (s > 0 ? b / 1e6 / s : 0) }')
        ratio="-"
        if [[ -n "${secs[jq]:-}" && "$tool" != jq ]]; then
            ratio=$(awk -v j="${secs[jq]}" -v s="${secs[$tool]}" 'BEGIN { printf "%.1f", (s > 0 ? j / s : 0) }')
        fi
        case "$tool" in
            validate) need=10 ;;
            normalize) need=5 ;;
            *) need="" ;;
        esac
        target=""
        if [[ -n "$need" ]]; then
            if [[ "$ratio" == "-" ]]; then
                target=">= ${need}x jq (not measured)"
            else
                verdict=$(awk -v r="$ratio" -v n="$need" 'BEGIN { print (r >= n ? "ok" : "MISSED") }')
                target=">= ${need}x jq: $verdict"
            fi
        fi
        if [[ "$tool" != jq ]]; then
            verdict=$([[ ${rss[$tool]} -lt $limit_kb ]] && echo ok || echo MISSED)
            target="${target:+$target; }RSS < $(awk -v k="$limit_kb" 'BEGIN { printf "%.0f", k / 1024 }') MiB: $verdict"
        fi
        [[ "${status[$tool]}" == 0 ]] || target="$target; EXIT STATUS ${status[$tool]}"
        printf '%-20s %8s %9s %13s %10s  %s\n' "$tool" "${secs[$tool]}" "$speed" \
            "$(awk -v k="${rss[$tool]}" 'BEGIN { printf "%.1f", k / 1024 }')" "$ratio" "$target"
    done
    echo "(validate|normalize: wall time of the pipe; RSS is the larger of the two processes)"
    echo
    echo "Last stderr line of each run:"
    for f in validate normalize pipe-validate pipe-normalize jq; do
        [[ -s "$scratch/$f.err" ]] && printf '  %-16s %s\n' "$f:" "$(tail -1 "$scratch/$f.err")"
    done
    local errors
    errors=$(cat "$scratch/validate.err" | grep -c ': error: ' || true)
    ((errors == 0)) || echo "  ($errors rejects reported by coex-validate on the generated capture: see them with $validate \"$file\" >/dev/null)"
    for tool in validate normalize "validate|normalize"; do
        [[ -n "${rss[$tool]:-}" ]] && rss_by_size["$size/$tool"]=${rss[$tool]}
    done
    longest_by_size[$size]=$longest
}

for size in "${sizes[@]}"; do run_size "$size"; done

# --- flat RSS across sizes ------------------------------------------------------------------
if ((${#sizes[@]} > 1)); then
    first="${sizes[0]}"; last="${sizes[-1]}"
    printf '\nPeak RSS, %s vs %s (flat = grows by less than the longest line difference + a few MB):\n' "$first" "$last"
    for tool in validate normalize "validate|normalize"; do
        a=${rss_by_size["$first/$tool"]:-0}; b=${rss_by_size["$last/$tool"]:-0}
        grow=$(((b - a) / 1024))
        allowed=$(((longest_by_size[$last] - longest_by_size[$first]) / 1048576 + 8))
        verdict=$([[ $grow -le $allowed ]] && echo flat || echo GROWS)
        printf '  %-20s %8.1f MiB -> %8.1f MiB  %s\n' "$tool" "$(awk -v k="$a" 'BEGIN { print k / 1024 }')" \
            "$(awk -v k="$b" 'BEGIN { print k / 1024 }')" "$verdict"
    done
fi

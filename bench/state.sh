#!/usr/bin/env bash
# State-stage benchmark: throughput (MB/s of normalized input) and peak RSS of coex-dedupe,
# coex-order and coex-apply, each on its own input from the stage before, on one generated
# capture of >= 200 MB, at a given --memory (RSS must stay within it).
#
#   bench/state.sh                       # 200 MB capture, --memory 512MB (the default) and 256MB
#   bench/state.sh --size 1GB --memory 512MB
#
# Targets (issue 3): each stage >= 150 MB/s with peak RSS within --memory.
set -euo pipefail
cd "$(dirname "$0")/.."

size=200MB
seed=1
memories=()
out=bench/out
while (($#)); do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --memory) memories+=("$2"); shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "state.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
((${#memories[@]})) || memories=(512MB 256MB)
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

echo "Building release binaries..." >&2
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
mkdir -p "$out"
work="$(mktemp -d "$out/state.XXXXXX")"
trap 'rm -rf "$work"' EXIT

capture="$out/capture-$size-seed$seed.ndjson"
if [[ ! -s "$capture" ]]; then
    echo "Generating $capture..." >&2
    "$bin/coex-gen" --seed "$seed" --size "$size" > "$capture"
fi
echo "Normalizing..." >&2
"$bin/coex-normalize" "$capture" > "$work/normalized.ndjson" 2>/dev/null
"$bin/coex-dedupe" --memory 4GB "$work/normalized.ndjson" > "$work/deduped.ndjson" 2>/dev/null
"$bin/coex-order" --memory 4GB "$work/deduped.ndjson" > "$work/ordered.ndjson" 2>/dev/null

bytes() { stat -c %s "$1"; }
tobytes() {
    local v="${1^^}"; v="${v%B}"; v="${v%I}"
    case "$v" in
        *G) echo $(( ${v%G} << 30 )) ;; *M) echo $(( ${v%M} << 20 )) ;; *K) echo $(( ${v%K} << 10 )) ;; *) echo "$v" ;;
    esac
}

printf '\ncapture %s (%s MB), normalized input %s MB, %s records\n\n' "$capture" \
    "$(awk -v b="$(bytes "$capture")" 'BEGIN{printf "%.0f", b/1e6}')" \
    "$(awk -v b="$(bytes "$work/normalized.ndjson")" 'BEGIN{printf "%.0f", b/1e6}')" "$(wc -l < "$work/normalized.ndjson")"
printf '%-8s %-8s %8s %8s %10s  %s\n' stage memory seconds MB/s "RSS MiB" target
for memory in "${memories[@]}"; do
    limit=$(( $(tobytes "$memory") >> 20 ))
    for stage in dedupe order apply; do
        case "$stage" in
            dedupe) input="$work/normalized.ndjson" ;;
            order) input="$work/deduped.ndjson" ;;
            apply) input="$work/ordered.ndjson" ;;
        esac
        start=$(date +%s.%N)
        /usr/bin/time -f '%M' -o "$work/time" "$bin/coex-$stage" --memory "$memory" --temp-dir "$work" "$input" \
            > /dev/null 2> "$work/$stage.err"
        end=$(date +%s.%N)
        secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')
        mbs=$(awk -v b="$(bytes "$input")" -v s="$secs" 'BEGIN{printf "%.0f", b/1e6/s}')
        rss=$(( $(tail -1 "$work/time") >> 10 ))
        verdict="$([[ $mbs -ge 150 ]] && echo ">=150 MB/s ok" || echo ">=150 MB/s MISSED"); $([[ $rss -le $limit ]] && echo "RSS ok" || echo "RSS over --memory")"
        printf '%-8s %-8s %8s %8s %10s  %s\n' "$stage" "$memory" "$secs" "$mbs" "$rss" "$verdict"
    done
done
echo
for stage in dedupe order apply; do echo "  $(tail -1 "$work/$stage.err")"; done

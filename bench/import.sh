#!/usr/bin/env bash
# Import benchmark: `coex import` and the stage pipe against Python loaders and a bare Swift
# parse + insert loop, on generated captures, one run each, all in one go (ratios are only
# meaningful within one run: this machine's speed drifts by 1.5x over an hour).
#
#   bench/import.sh                       # the three captures below, one after the other
#   bench/import.sh --capture 200MB       # only one of them (repeatable)
#
# Captures (coex-gen, cached in --out; generated when missing):
#   200MB   --seed 1 --size 200MB                  (the capture of bench/ingest.sh)
#   1GB     --seed 1 --size 1GB                    (40 businesses of 25 MB)
#   large   --seed 1 --businesses 4 --size 1GB     (4 businesses of 250 MB: each one past
#                                                   coex import's in-memory line at the default --memory)
#   any other size given to --capture (or --size) is generated as --size SIZE.
#
# Runs, per capture, in this order:
#   jq -c .            when jq is installed
#   python json        bench/python_loader.py: json + sqlite3, every message into one table
#                      with a unique wamid, INSERT OR IGNORE, one transaction (WAL)
#   python orjson      the same loader with orjson (from pip, in bench/.venv, installed on the
#                      first run; skipped with a note when pip cannot install it)
#   ceiling            coex-bench-ceiling: the same work with coex's LineReader, simdjson
#                      parser and SQLite wrapper, one thread; "journal off" is the same loop
#                      with journal_mode=OFF, synchronous=OFF
#   stage pipe         coex-validate | coex-normalize | coex-dedupe | coex-order | coex-apply |
#                      coex-load; peak RSS is the sum of the stages' peaks, CPU the sum of theirs
#   coex import        the fused import
# CPU s is user + system time from GNU time (over both cores, so it can exceed seconds).
#
# Options: --capture C (repeatable; default 200MB 1GB large), --size S (same as --capture S),
#          --seed N (default 1), --out DIR (default bench/out), --no-build (use the release
#          binaries already built), --memory SIZE (coex import's and the stages' budget,
#          default their own 512MB), --no-orjson, --no-jq, --perf (after the timed runs of
#          each capture, one more `coex import` under `perf record -g`: its top symbols, and
#          the profile kept as DIR/perf-CAPTURE.data for `perf report -i`).
# Environment: SWIFT_BUILD_FLAGS   extra flags for swift build (e.g. "--scratch-path .build-bench")
#
# Targets (issue 4), checked at the end: coex import >= 4x the Python stdlib loader on every
# capture; the stage pipe >= 1.5x it; coex import's peak RSS < 512 MiB at the default
# --memory on the 200MB and 1GB captures. Exits 0 whether they are met or not (this is a
# measurement), non-zero when a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

captures=(); seed=1; out=bench/out; build=1; memory=(); use_orjson=1; use_jq=1; perf=0
while (($#)); do
    case "$1" in
        --capture | --size) captures+=("${2:?$1 needs a value}"); shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        --memory) memory=(--memory "${2:?}"); shift 2 ;;
        --no-build) build=0; shift ;;
        --no-orjson) use_orjson=0; shift ;;
        --no-jq) use_jq=0; shift ;;
        --perf) perf=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "import.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
((${#captures[@]})) || captures=(200MB 1GB large)
for tool in python3 sqlite3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "import.sh: $tool not found (bash .ci/deps installs it)" >&2; exit 1; }
done
command -v jq >/dev/null || { ((use_jq == 0)) || echo "import.sh: jq not found: no jq row" >&2; use_jq=0; }
if ((perf)) && ! command -v perf >/dev/null; then
    echo "import.sh: perf not found (apt-get install linux-perf): no profile" >&2; perf=0
fi

# --- orjson, from pip into bench/.venv -----------------------------------------------------------
venv=bench/.venv
orjson_note=""
has_orjson() { [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import orjson' 2>/dev/null; }
if ((use_orjson)) && ! has_orjson; then
    echo "import.sh: installing orjson into $venv (python3 -m venv, pip install orjson)..." >&2
    if [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" >&2; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 30 orjson >&2 || true
    fi
    if ! has_orjson; then
        use_orjson=0
        orjson_note="orjson could not be installed from pip into $venv (no package index?): no orjson row"
        echo "import.sh: $orjson_note" >&2
    fi
fi
((use_orjson)) || [[ -n "$orjson_note" ]] || orjson_note="--no-orjson: no orjson row"

# --- binaries ------------------------------------------------------------------------------------
# shellcheck disable=SC2206 # SWIFT_BUILD_FLAGS is split on purpose
flags=(-c release ${SWIFT_BUILD_FLAGS:-})
((build == 0)) || { echo "Building release binaries..." >&2; swift build "${flags[@]}" >&2; }
bin="$(swift build "${flags[@]}" --show-bin-path)"
for exe in coex coex-gen coex-bench-ceiling coex-validate coex-normalize coex-dedupe coex-order coex-apply coex-load; do
    [[ -x "$bin/$exe" ]] || { echo "import.sh: $bin/$exe missing (build first, without --no-build)" >&2; exit 1; }
done

mkdir -p "$out"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# --- captures ------------------------------------------------------------------------------------
# capture_args LABEL: coex-gen's arguments; capture_file LABEL: where it is cached.
capture_args() {
    case "$1" in
        large) echo "--seed $seed --businesses 4 --size 1GB" ;;
        *) echo "--seed $seed --size $1" ;;
    esac
}
capture_file() {
    case "$1" in
        large) echo "$out/capture-1GB-4businesses-seed$seed.ndjson" ;;
        *) echo "$out/capture-$1-seed$seed.ndjson" ;;
    esac
}
for label in "${captures[@]}"; do
    file=$(capture_file "$label")
    [[ -s "$file" ]] && continue
    read -ra args <<<"$(capture_args "$label")"
    echo "Generating $file (coex-gen ${args[*]})..." >&2
    "$bin/coex-gen" "${args[@]}" >"$file.part"
    mv "$file.part" "$file"
done

# --- measuring -----------------------------------------------------------------------------------
now() { date +%s.%N; }
declare -A secs rss cpu
# measure NAME COMMAND: wall time around the run; peak RSS (KiB) and CPU seconds (user + system,
# the command's children included) from GNU time. A failing run ends the benchmark.
measure() {
    local start end peak user system
    echo "  $1..." >&2
    start=$(now)
    /usr/bin/time -f '%M %U %S' -o "$scratch/$1.time" bash -c "$2" 2>"$scratch/$1.err" || {
        echo "import.sh: $1 failed:" >&2; tail -5 "$scratch/$1.err" >&2; exit 1; }
    end=$(now)
    secs[$1]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    read -r peak user system < <(tail -1 "$scratch/$1.time")
    rss[$1]=$peak
    cpu[$1]=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
}
count() { sqlite3 "$1" 'select count(*) from messages'; }
count_dir() { for db in "$1"/*.sqlite; do count "$db"; done | awk '{ s += $1 } END { print s + 0 }'; }
join() { local all="" one; for one in "$@"; do all+="${all:+, }$one"; done; echo "$all"; }
# stage NAME: one stage of the pipe under its own GNU time (peak RSS and CPU of each stage).
stage() {
    echo "/usr/bin/time -f '%M %U %S' -o '$scratch/pipe-$1.time' '$bin/coex-$1' --rejects '$scratch/pipe-rejects-$1.ndjson' ${memory[*]:-}"
}

stages=(validate normalize dedupe order apply load)
declare -A result  # LABEL,what -> figure, for the targets at the end
for label in "${captures[@]}"; do
    file=$(capture_file "$label")
    bytes=$(stat -c %s "$file")
    secs=(); rss=(); cpu=()
    rm -rf "${scratch:?}"/*
    echo >&2
    echo "Running on $file ($((bytes / 1000000)) MB)..." >&2
    runs=()
    ((use_jq == 0)) || { measure "jq -c ." "jq -c . '$file' >/dev/null"; runs+=("jq -c ."); }
    measure "python json" "python3 bench/python_loader.py '$scratch/python.sqlite' '$file'"
    runs+=("python json")
    messages_python=$(count "$scratch/python.sqlite"); rm -f "$scratch"/python.sqlite*
    messages_orjson=-
    if ((use_orjson)); then
        measure "python orjson" "'$venv/bin/python' bench/python_loader.py --json orjson '$scratch/orjson.sqlite' '$file'"
        runs+=("python orjson")
        messages_orjson=$(count "$scratch/orjson.sqlite"); rm -f "$scratch"/orjson.sqlite*
    fi
    measure "ceiling" "'$bin/coex-bench-ceiling' '$scratch/ceiling.sqlite' '$file'"
    messages_ceiling=$(count "$scratch/ceiling.sqlite"); rm -f "$scratch"/ceiling.sqlite*
    measure "ceiling, journal off" "'$bin/coex-bench-ceiling' --journal off '$scratch/ceiling.sqlite' '$file'"
    rm -f "$scratch"/ceiling.sqlite*
    runs+=("ceiling" "ceiling, journal off")

    # The pipe's stages run at once: its peak is the sum of the stages' peaks.
    pipe="$(stage validate) '$file'"
    for s in "${stages[@]:1}"; do pipe+=" | $(stage "$s")"; done
    measure "stage pipe" "$pipe --out-dir '$scratch/pipe'"
    runs+=("stage pipe")
    rss["stage pipe"]=$(cat "$scratch"/pipe-*.time | awk '{ s += $1 } END { print s }')
    per_stage=""
    for s in "${stages[@]}"; do
        per_stage+=$(awk -v s="$s" '{ printf "  %-10s %8.0f %8.2f\n", s, $1 / 1024, $2 + $3 }' "$scratch/pipe-$s.time")$'\n'
    done
    messages_pipe=$(count_dir "$scratch/pipe"); rm -rf "$scratch/pipe"

    measure "coex import" "'$bin/coex' import '$file' --out-dir '$scratch/import' --rejects '$scratch/import-rejects.ndjson' ${memory[*]:-}"
    runs+=("coex import")
    messages_coex=$(count_dir "$scratch/import")
    businesses=$(find "$scratch/import" -name '*.sqlite' | wc -l)
    rm -rf "$scratch/import"

    if ((perf)); then
        echo "  perf record -g on coex import..." >&2
        perf record -g -o "$out/perf-$label.data" -- "$bin/coex" import "$file" --out-dir "$scratch/perf-import" \
            --rejects "$scratch/perf-rejects.ndjson" "${memory[@]}" 2>"$scratch/perf.err" >/dev/null || {
            echo "import.sh: perf record failed (no profile):" >&2; tail -3 "$scratch/perf.err" >&2
            rm -f "$out/perf-$label.data"; }
        rm -rf "$scratch/perf-import"
    fi

    printf '\n%s (%s): %.1f MB, %s lines, %s businesses; messages stored: coex import %s, stage pipe %s, python %s, orjson %s, ceiling %s\n' \
        "$label" "$file" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$(wc -l <"$file")" "$businesses" \
        "$messages_coex" "$messages_pipe" "$messages_python" "$messages_orjson" "$messages_ceiling"
    [[ "$messages_python" == "$messages_ceiling" && ("$messages_orjson" == - || "$messages_orjson" == "$messages_python") ]] ||
        echo "warning: the loaders stored different numbers of messages"
    printf 'machine: %s cores, load average %s\n\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-22s %8s %8s %9s %8s %9s %9s\n' run seconds MB/s "peak MiB" "CPU s" "x python" "x orjson"
    for name in "${runs[@]}"; do
        awk -v name="$name" -v s="${secs[$name]}" -v b="$bytes" -v r="${rss[$name]}" -v c="${cpu[$name]}" \
            -v p="${secs["python json"]}" -v o="${secs["python orjson"]:-}" \
            'BEGIN { printf "%-22s %8.2f %8.1f %9.0f %8.2f %9.2f %9s\n", name, s, b / 1e6 / s, r / 1024, c, p / s,
                     (o == "" ? "-" : sprintf("%.2f", o / s)) }'
    done
    [[ -z "$orjson_note" ]] || echo "($orjson_note)"
    printf '\nstage pipe, per stage:\n  %-10s %8s %8s\n%s' stage "peak MiB" "CPU s" "$per_stage"
    echo
    echo "coex import's stages:"
    grep -v ': history ' "$scratch/coex import.err" | cut -c1-160 || true
    if [[ -s "$out/perf-$label.data" ]] && ((perf)); then
        echo
        echo "coex import under perf record -g (self time, top symbols; all of it in $out/perf-$label.data):"
        perf report -i "$out/perf-$label.data" --no-children --sort dso,sym --percent-limit 1 --stdio -g none 2>/dev/null |
            grep -v '^#' | grep -v '^$' | head -30 | { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; } | cut -c1-200
    fi

    result[$label,import]=$(awk -v p="${secs["python json"]}" -v s="${secs["coex import"]}" 'BEGIN { printf "%.2f", p / s }')
    result[$label,pipe]=$(awk -v p="${secs["python json"]}" -v s="${secs["stage pipe"]}" 'BEGIN { printf "%.2f", p / s }')
    result[$label,rss]=$(awk -v r="${rss["coex import"]}" 'BEGIN { printf "%.0f", r / 1024 }')
    ((use_orjson == 0)) || result[$label,orjson]=$(awk -v p="${secs["python orjson"]}" -v s="${secs["coex import"]}" 'BEGIN { printf "%.2f", p / s }')
    result[$label,ceiling]=$(awk -v p="${secs["python json"]}" -v s="${secs["ceiling"]}" 'BEGIN { printf "%.2f", p / s }')
done

# --- targets -------------------------------------------------------------------------------------
# verdict TEST FIGURES...: "met" when every figure passes the awk test on x, else "missed".
verdict() {
    local test="$1" figure all=met
    shift
    for figure in "$@"; do
        awk -v x="$figure" "BEGIN { exit !($test) }" || all=missed
    done
    echo "$all"
}
echo
echo "Targets:"
figures=(); ratios=()
for label in "${captures[@]}"; do figures+=("$label ${result[$label,import]}x"); ratios+=("${result[$label,import]}"); done
printf '  coex import >= 4x the Python stdlib loader: %s (%s)\n' "$(verdict 'x >= 4' "${ratios[@]}")" "$(join "${figures[@]}")"
figures=(); ratios=()
for label in "${captures[@]}"; do figures+=("$label ${result[$label,pipe]}x"); ratios+=("${result[$label,pipe]}"); done
printf '  stage pipe >= 1.5x the Python stdlib loader: %s (%s)\n' "$(verdict 'x >= 1.5' "${ratios[@]}")" "$(join "${figures[@]}")"
figures=(); ratios=()
for label in 200MB 1GB; do
    [[ -n "${result[$label,rss]:-}" ]] || continue
    figures+=("$label ${result[$label,rss]} MiB"); ratios+=("${result[$label,rss]}")
done
if ((${#ratios[@]} == 0)); then
    echo "  coex import peak RSS < 512 MiB at 200MB and 1GB: not measured (no 200MB or 1GB capture in this run)"
else
    note=""
    ((${#ratios[@]} == 2)) || note=", only part of it measured"
    ((${#memory[@]} == 0)) || note+=", at ${memory[*]}, not the default"
    printf '  coex import peak RSS < 512 MiB at 200MB and 1GB: %s (%s%s)\n' "$(verdict 'x < 512' "${ratios[@]}")" \
        "$(join "${figures[@]}")" "$note"
fi
if ((use_orjson)); then
    figures=()
    for label in "${captures[@]}"; do figures+=("$label ${result[$label,orjson]}x"); done
    printf '  (no target) coex import against the orjson loader: %s\n' "$(join "${figures[@]}")"
fi
figures=()
for label in "${captures[@]}"; do figures+=("$label ${result[$label,ceiling]}x"); done
printf '  (no target) the ceiling loop against the Python stdlib loader: %s\n' "$(join "${figures[@]}")"
